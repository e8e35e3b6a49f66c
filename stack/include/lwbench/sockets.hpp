// sockets.hpp — a BSD-like socket API for UDP over netconn (lwIP's lwip_* calls).
//
// Errors follow BSD: the call returns -1 and sets errno (EBADF, EINVAL, EMSGSIZE,
// EAGAIN, EADDRINUSE, ENOTCONN, EDESTADDRREQ, EAFNOSUPPORT, EFAULT, ENOBUFS, …).
// The err → errno translation happens once, in sockets.cpp.
//
// Descriptors carry a generation. A descriptor is (generation << 10 | slot): when a
// socket is closed and its slot reused, the old descriptor no longer matches and
// fails with EBADF — a stale holder can never reach the new socket (the classic lwIP
// hazard: task 2 closes s1, task 3 opens s2 in the same slot, task 1 sends on s1).
// Every call holds a reference on the socket while it runs; close() marks it closed,
// wakes blocked receivers and pollers, and the last reference frees it. So close()
// racing send/recv/poll on other threads never touches freed or foreign memory.
//
// All functions are safe from any thread, except from core context (a raw-API
// callback), where they would deadlock in message-passing mode.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"

LWBENCH_NS_BEGIN

class stack;
class netconn;

/// The err → errno table of the socket layer (lwIP's err_to_errno).
int err_to_errno(err e) noexcept;

/// Largest UDP payload an IPv4 datagram can carry (65535 - 20 - 8).
inline constexpr std::size_t k_max_udp_payload = 65507;

int lwip_socket(stack& s, int domain, int type, int protocol);
int lwip_bind(stack& s, int fd, const sockaddr* addr, socklen_t len);
int lwip_connect(stack& s, int fd, const sockaddr* addr, socklen_t len);
ssize_t lwip_sendto(stack& s, int fd, const void* buf, std::size_t len, int flags, const sockaddr* to, socklen_t tolen);
ssize_t lwip_send(stack& s, int fd, const void* buf, std::size_t len, int flags);
/// flags: MSG_DONTWAIT, MSG_TRUNC (return the datagram's real length), MSG_PEEK is not supported (EINVAL).
ssize_t lwip_recvfrom(stack& s, int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* fromlen);
ssize_t lwip_recv(stack& s, int fd, void* buf, std::size_t len, int flags);
int lwip_close(stack& s, int fd);
/// SOL_SOCKET: SO_RCVTIMEO (struct timeval), SO_RCVBUF (int: receive queue depth in
/// *datagrams*, 1..recv_queue_depth), SO_TYPE and SO_ERROR (get only).
int lwip_setsockopt(stack& s, int fd, int level, int optname, const void* optval, socklen_t optlen);
int lwip_getsockopt(stack& s, int fd, int level, int optname, void* optval, socklen_t* optlen);
/// FIONBIO (int*: non-zero = non-blocking), FIONREAD (int*: bytes of the next datagram).
int lwip_ioctl(stack& s, int fd, unsigned long request, void* argp);
int lwip_getsockname(stack& s, int fd, sockaddr* addr, socklen_t* len);
/// POLLIN when a datagram is waiting, POLLOUT always (UDP), POLLNVAL for a bad or
/// stale descriptor, POLLHUP once closed. timeout_ms < 0 waits forever.
int lwip_poll(stack& s, pollfd* fds, nfds_t nfds, int timeout_ms);

/// The per-stack descriptor table (internal; owned by the stack).
class socket_table {
public:
    socket_table(stack& s, std::size_t max_sockets);
    ~socket_table();  ///< closes sockets still open
    socket_table(const socket_table&) = delete;
    socket_table& operator=(const socket_table&) = delete;

    struct sock;
    /// A held reference on an open socket (released on destruction).
    class ref {
    public:
        ref() = default;
        ref(socket_table* t, std::size_t idx, sock* s) : _t(t), _idx(idx), _s(s) {}
        ref(ref&& o) noexcept : _t(o._t), _idx(o._idx), _s(o._s) { o._s = nullptr; }
        ref& operator=(ref&&) = delete;
        ~ref();
        sock* operator->() const { return _s; }
        explicit operator bool() const { return _s != nullptr; }

    private:
        socket_table* _t = nullptr;
        std::size_t _idx = 0;
        sock* _s = nullptr;
    };

    int open(netconn* conn);  ///< -1 (EMFILE) if the table is full
    ref acquire(int fd);      ///< empty ref (EBADF) if fd is not an open socket
    int close(int fd);        ///< 0, or -1 with EBADF
    /// poll() support: pollers wait for this to change; bumped on delivery and close.
    void notify() noexcept;
    std::uint32_t wait_seq() const noexcept { return _seq.load(std::memory_order_seq_cst); }
    bool wait_change(std::uint32_t seen, int timeout_ms) noexcept;
    void _pollers_enter() noexcept { _pollers.fetch_add(1, std::memory_order_seq_cst); }
    void _pollers_leave() noexcept { _pollers.fetch_sub(1, std::memory_order_seq_cst); }

private:
    void release(std::size_t idx) noexcept;
    struct slot;
    stack& _s;
    std::unique_ptr<slot[]> _slots;
    std::size_t _n;
    std::atomic<std::uint32_t> _seq{0};
    std::atomic<std::uint32_t> _pollers{0};
};

LWBENCH_NS_END
