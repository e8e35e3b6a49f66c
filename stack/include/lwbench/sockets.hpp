// sockets.hpp — a BSD-like socket API for UDP and TCP over netconn (lwIP's lwip_* calls).
//
// TCP (SOCK_STREAM): connect, listen, accept, send (copies once into pbufs), recv
// (copies once out; reopens the window with one API message per call), shutdown,
// SO_RCVTIMEO / SO_SNDTIMEO, non-blocking (EWOULDBLOCK, EINPROGRESS, EALREADY), poll.
// One thread may recv while another sends on the same socket; close() from a third
// wakes both (they fail with EBADF).
//
// Errors follow BSD: the call returns -1 and sets errno (EBADF, EINVAL, EMSGSIZE,
// EAGAIN, EADDRINUSE, ENOTCONN, EDESTADDRREQ, EAFNOSUPPORT, EFAULT, ENOBUFS, …).
// The err → errno translation happens once, in sockets.cpp.
//
// Descriptors are unique in the process and never issued twice: a closed descriptor
// fails with EBADF for as long as the process runs, so a stale holder can never reach
// a later socket (the classic lwIP hazard: task 2 closes s1, task 3 opens s2 in the
// same slot, task 1 sends on s1), and a descriptor of one stack fails with EBADF on
// another stack. The table behind them (detail/socket_table.hpp) has room for
// k_max_sockets open sockets in the process and about 2^31 sockets over the process's
// life; beyond either, lwip_socket fails with ENFILE.
// Every call holds a reference on the socket while it runs; close() marks it closed,
// wakes blocked receivers and pollers, and the last reference frees it. So close()
// racing send/recv/poll on other threads never touches freed or foreign memory, and
// destroying the stack wakes and waits for threads blocked in recvfrom/poll (see the
// teardown contract in tcpip.hpp).
//
// Context: every function here is for application threads, never core context (a
// raw-API callback or a core_guard section): they wait for the core or for data, and
// from core context they would deadlock. Checking builds abort with a message there.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstddef>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"

LWBENCH_NS_BEGIN

class stack;

/// The err → errno table of the socket layer (lwIP's err_to_errno).
int err_to_errno(err e) noexcept;

/// Largest UDP payload an IPv4 datagram can carry (65535 - 20 - 8).
inline constexpr std::size_t k_max_udp_payload = 65507;

/// AF_INET, SOCK_DGRAM or SOCK_STREAM (| SOCK_NONBLOCK | SOCK_CLOEXEC), protocol 0 or
/// IPPROTO_UDP / IPPROTO_TCP to match.
/// Errors: EAFNOSUPPORT, EPROTONOSUPPORT, ENOMEM, EMFILE (the stack's max_sockets are
/// open, or the stack is being destroyed), ENFILE (the process's table is full).
int lwip_socket(stack& s, int domain, int type, int protocol);
int lwip_bind(stack& s, int fd, const sockaddr* addr, socklen_t len);
/// TCP: EISCONN (connected), EALREADY (a non-blocking connect is under way),
/// EINPROGRESS (non-blocking: started; poll for POLLOUT, then SO_ERROR),
/// ECONNREFUSED, ETIMEDOUT; EINPROGRESS also when SO_SNDTIMEO passes (the open goes on).
int lwip_connect(stack& s, int fd, const sockaddr* addr, socklen_t len);
/// TCP only (UDP: EOPNOTSUPP). backlog < 1 is 1, > 255 is 255. EINVAL if connected.
int lwip_listen(stack& s, int fd, int backlog);
/// TCP: a new descriptor for the next connection (peer's address in addr if given);
/// flags SOCK_NONBLOCK / SOCK_CLOEXEC (lwip_accept4). EOPNOTSUPP on UDP, EINVAL if not
/// listening, EWOULDBLOCK (non-blocking), EAGAIN (SO_RCVTIMEO passed), EBADF (closed).
int lwip_accept(stack& s, int fd, sockaddr* addr, socklen_t* len);
int lwip_accept4(stack& s, int fd, sockaddr* addr, socklen_t* len, int flags);
/// SHUT_RD, SHUT_WR, SHUT_RDWR (TCP). ENOTCONN if not connected, EINVAL for another how.
int lwip_shutdown(stack& s, int fd, int how);
/// Remote address. ENOTCONN if none.
int lwip_getpeername(stack& s, int fd, sockaddr* addr, socklen_t* len);
ssize_t lwip_sendto(stack& s, int fd, const void* buf, std::size_t len, int flags, const sockaddr* to, socklen_t tolen);
/// TCP: blocks until all of buf is queued (returns fewer bytes if SO_SNDTIMEO passes
/// after some were, EAGAIN if none); non-blocking or MSG_DONTWAIT queues what fits
/// (EWOULDBLOCK if nothing). ENOTCONN (not connected), EPIPE (sending side shut),
/// ECONNRESET. MSG_MORE holds PSH.
ssize_t lwip_send(stack& s, int fd, const void* buf, std::size_t len, int flags);
/// flags: MSG_DONTWAIT, MSG_TRUNC (return the datagram's real length), MSG_PEEK is not supported (EINVAL).
ssize_t lwip_recvfrom(stack& s, int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* fromlen);
/// TCP: up to len bytes of the stream, 0 at its end. flags MSG_DONTWAIT, MSG_PEEK is
/// not supported (EINVAL). ENOTCONN if not connected, ECONNRESET.
ssize_t lwip_recv(stack& s, int fd, void* buf, std::size_t len, int flags);
int lwip_close(stack& s, int fd);
/// SOL_SOCKET: SO_RCVTIMEO and SO_SNDTIMEO (struct timeval, >= 0; 0 = wait forever;
/// negative: EDOM), IPPROTO_TCP: TCP_NODELAY (int),
/// SO_RCVBUF (int: receive queue depth in *datagrams*, 1..recv_queue_depth of the
/// stack's configuration; outside that range: EINVAL, nothing changed; UDP), SO_TYPE,
/// SO_ERROR (get only; TCP: the error that ended the connection, not cleared), SO_ACCEPTCONN.
int lwip_setsockopt(stack& s, int fd, int level, int optname, const void* optval, socklen_t optlen);
int lwip_getsockopt(stack& s, int fd, int level, int optname, void* optval, socklen_t* optlen);
/// FIONBIO (int*: non-zero = non-blocking), FIONREAD (int*: set to the payload bytes
/// of the next queued datagram, 0 if none). Others: ENOTTY.
int lwip_ioctl(stack& s, int fd, unsigned long request, void* argp);
int lwip_getsockname(stack& s, int fd, sockaddr* addr, socklen_t* len);
/// POLLIN when a datagram is waiting (UDP), or stream data, its end, or a connection
/// to accept is waiting (TCP); POLLOUT always (UDP), when connected with send space
/// (TCP); POLLERR when the connection failed (TCP), POLLHUP once closed or both
/// directions ended; POLLNVAL for a bad or stale descriptor. timeout_ms < 0 waits
/// forever.
int lwip_poll(stack& s, pollfd* fds, nfds_t nfds, int timeout_ms);

LWBENCH_NS_END
