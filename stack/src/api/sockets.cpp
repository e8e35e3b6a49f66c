// sockets.cpp — BSD-like sockets over netconn (see sockets.hpp); the descriptor
// table behind them is detail/socket_table.hpp.
#include "lwbench/sockets.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstring>

#include "lwbench/detail/socket_table.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

// ---- err → errno: the one translation table of the socket edge ---------------------

int err_to_errno(err e) noexcept {
    switch (e) {
        case err::ok: return 0;
        case err::mem: return ENOMEM;
        case err::buf: return ENOBUFS;
        case err::timeout: return EAGAIN;  // SO_RCVTIMEO expiry is EAGAIN/EWOULDBLOCK in BSD
        case err::rte: return EHOSTUNREACH;
        case err::inprogress: return EINPROGRESS;
        case err::val: return EINVAL;
        case err::wouldblock: return EWOULDBLOCK;
        case err::use: return EADDRINUSE;
        case err::already: return EALREADY;
        case err::isconn: return EISCONN;
        case err::conn: return ENOTCONN;
        case err::if_: return ENETDOWN;
        case err::abrt: return ECONNABORTED;
        case err::rst: return ECONNRESET;
        case err::clsd: return EBADF;  // closed underneath the caller by another thread's close()
        case err::arg: return EINVAL;
        case err::msgsize: return EMSGSIZE;
    }
    return EIO;
}

// ---- the calls -----------------------------------------------------------------------

namespace {

template <class T>
T fail(int e) {
    errno = e;
    return static_cast<T>(-1);
}

detail::socket_table& table() { return detail::socket_table::instance(); }

/// Entry of every socket call: refuses core context (checking builds) and takes a
/// reference on fd's socket of stack s (empty: EBADF).
detail::socket_table::ref enter(stack& s, int fd, const char* where) {
    assert_not_core_context(s, where);
    return table().acquire(detail::stack_access::sockets(s), fd);
}

/// Parses a sockaddr_in; sets errno and returns false on a bad one.
bool parse_addr(const sockaddr* a, socklen_t len, ip4_addr& ip, std::uint16_t& port) {
    if (!a) {
        errno = EFAULT;
        return false;
    }
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) {
        errno = EINVAL;
        return false;
    }
    sockaddr_in in;
    std::memcpy(&in, a, sizeof in);
    if (in.sin_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return false;
    }
    ip = ip4_addr{in.sin_addr.s_addr};
    port = ntohs(in.sin_port);
    return true;
}

void fill_addr(sockaddr* out, socklen_t* len, ip4_addr ip, std::uint16_t port) {
    if (!out || !len) return;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = ip.addr;
    std::memcpy(out, &in, std::min<std::size_t>(*len, sizeof in));
    *len = sizeof in;
}

}  // namespace

int lwip_socket(stack& s, int domain, int type, int protocol) {
    assert_not_core_context(s, "lwip_socket");
    if (domain != AF_INET) return fail<int>(EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_DGRAM) return fail<int>(EPROTONOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_UDP) return fail<int>(EPROTONOSUPPORT);
    netconn* conn = netconn_new(s);
    if (!conn) return fail<int>(ENOMEM);
    if (type & SOCK_NONBLOCK) netconn_set_nonblocking(conn, true);
    const int fd = table().open(detail::stack_access::sockets(s), conn);  // errno EMFILE / ENFILE on failure
    if (fd < 0) {
        const int e = errno;
        netconn_delete(conn);
        return fail<int>(e);
    }
    return fd;
}

int lwip_bind(stack& s, int fd, const sockaddr* addr, socklen_t len) {
    auto r = enter(s, fd, "lwip_bind");
    if (!r) return fail<int>(EBADF);
    ip4_addr ip;
    std::uint16_t port;
    if (!parse_addr(addr, len, ip, port)) return -1;
    const err e = netconn_bind(r.conn(), ip, port);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

int lwip_connect(stack& s, int fd, const sockaddr* addr, socklen_t len) {
    auto r = enter(s, fd, "lwip_connect");
    if (!r) return fail<int>(EBADF);
    if (addr && len >= static_cast<socklen_t>(sizeof(sa_family_t)) && addr->sa_family == AF_UNSPEC) {
        const err e = netconn_disconnect(r.conn());
        return e == err::ok ? 0 : fail<int>(err_to_errno(e));
    }
    ip4_addr ip;
    std::uint16_t port;
    if (!parse_addr(addr, len, ip, port)) return -1;
    const err e = netconn_connect(r.conn(), ip, port);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

ssize_t lwip_sendto(stack& s, int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                    socklen_t tolen) {
    auto r = enter(s, fd, "lwip_sendto");
    if (!r) return fail<ssize_t>(EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) return fail<ssize_t>(EOPNOTSUPP);
    if (!buf && len) return fail<ssize_t>(EFAULT);
    if (len > k_max_udp_payload) return fail<ssize_t>(EMSGSIZE);
    ip4_addr ip;
    std::uint16_t port = 0;
    if (to && !parse_addr(to, tolen, ip, port)) return -1;
    pbuf* p = pbuf_alloc(s, pbuf_layer::transport, len, pbuf_type::pool);
    if (!p) return fail<ssize_t>(ENOBUFS);
    if (len) (void)pbuf_take(p, buf, len);  // the one copy a BSD send makes: user buffer -> pbuf
    const err e = netconn_sendto_pbuf(r.conn(), p, ip, port, /*connected=*/to == nullptr);
    pbuf_free(p);
    if (e == err::conn) return fail<ssize_t>(EDESTADDRREQ);
    return e == err::ok ? static_cast<ssize_t>(len) : fail<ssize_t>(err_to_errno(e));
}

ssize_t lwip_send(stack& s, int fd, const void* buf, std::size_t len, int flags) {
    return lwip_sendto(s, fd, buf, len, flags, nullptr, 0);
}

ssize_t lwip_recvfrom(stack& s, int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
    auto r = enter(s, fd, "lwip_recvfrom");
    if (!r) return fail<ssize_t>(EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_TRUNC)) return fail<ssize_t>(EINVAL);
    if (!buf && len) return fail<ssize_t>(EFAULT);
    auto nb = netconn_recv(r.conn(), (flags & MSG_DONTWAIT) != 0);
    if (!nb) return fail<ssize_t>(err_to_errno(nb.error()));
    const std::size_t total = nb->len();
    const std::size_t n = nb->copy_to(buf, std::min(len, total));  // the receive side's one copy
    fill_addr(from, fromlen, nb->addr, nb->port);
    return static_cast<ssize_t>((flags & MSG_TRUNC) ? total : n);
}

ssize_t lwip_recv(stack& s, int fd, void* buf, std::size_t len, int flags) {
    return lwip_recvfrom(s, fd, buf, len, flags, nullptr, nullptr);
}

int lwip_close(stack& s, int fd) {
    assert_not_core_context(s, "lwip_close");
    return table().close(detail::stack_access::sockets(s), fd) == 0 ? 0 : fail<int>(EBADF);
}

int lwip_setsockopt(stack& s, int fd, int level, int optname, const void* optval, socklen_t optlen) {
    auto r = enter(s, fd, "lwip_setsockopt");
    if (!r) return fail<int>(EBADF);
    if (level != SOL_SOCKET) return fail<int>(ENOPROTOOPT);
    if (!optval) return fail<int>(EFAULT);
    switch (optname) {
        case SO_RCVTIMEO: {
            if (optlen < static_cast<socklen_t>(sizeof(timeval))) return fail<int>(EINVAL);
            timeval tv;
            std::memcpy(&tv, optval, sizeof tv);
            if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) return fail<int>(EDOM);
            // Round up (a timeout never expires early) and saturate (24.8 days and more
            // become INT_MAX ms, never a wrap to a short or negative timeout).
            constexpr long long max_ms = INT32_MAX;
            const long long whole = static_cast<long long>(tv.tv_sec);
            const long long ms = whole > max_ms / 1000 ? max_ms
                                                       : std::min(max_ms, whole * 1000 + (tv.tv_usec + 999) / 1000);
            netconn_set_recvtimeout(r.conn(), static_cast<int>(ms));
            return 0;
        }
        case SO_RCVBUF: {
            if (optlen < static_cast<socklen_t>(sizeof(int))) return fail<int>(EINVAL);
            int v;
            std::memcpy(&v, optval, sizeof v);
            return netconn_set_recvbufsize(r.conn(), v < 1 ? 0 : static_cast<std::size_t>(v)) == err::ok
                       ? 0
                       : fail<int>(EINVAL);
        }
        default: return fail<int>(ENOPROTOOPT);
    }
}

int lwip_getsockopt(stack& s, int fd, int level, int optname, void* optval, socklen_t* optlen) {
    auto r = enter(s, fd, "lwip_getsockopt");
    if (!r) return fail<int>(EBADF);
    if (level != SOL_SOCKET) return fail<int>(ENOPROTOOPT);
    if (!optval || !optlen) return fail<int>(EFAULT);
    const auto put_int = [&](int v) {
        if (*optlen < static_cast<socklen_t>(sizeof(int))) return fail<int>(EINVAL);
        std::memcpy(optval, &v, sizeof v);
        *optlen = sizeof(int);
        return 0;
    };
    switch (optname) {
        case SO_RCVTIMEO: {
            if (*optlen < static_cast<socklen_t>(sizeof(timeval))) return fail<int>(EINVAL);
            const int ms = r.conn()->recv_timeout_ms.load();
            const timeval tv{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
            std::memcpy(optval, &tv, sizeof tv);
            *optlen = sizeof tv;
            return 0;
        }
        case SO_RCVBUF: return put_int(static_cast<int>(r.conn()->recvmbox.limit()));
        case SO_TYPE: return put_int(SOCK_DGRAM);
        case SO_ERROR: return put_int(0);
        default: return fail<int>(ENOPROTOOPT);
    }
}

int lwip_ioctl(stack& s, int fd, unsigned long request, void* argp) {
    auto r = enter(s, fd, "lwip_ioctl");
    if (!r) return fail<int>(EBADF);
    if (!argp) return fail<int>(EFAULT);
    switch (request) {
        case FIONBIO: {
            int on;
            std::memcpy(&on, argp, sizeof on);
            netconn_set_nonblocking(r.conn(), on != 0);
            return 0;
        }
        case FIONREAD: {
            const int n = static_cast<int>(netconn_next_datagram_len(r.conn()));
            std::memcpy(argp, &n, sizeof n);
            return 0;
        }
        default: return fail<int>(ENOTTY);
    }
}

int lwip_getsockname(stack& s, int fd, sockaddr* addr, socklen_t* len) {
    auto r = enter(s, fd, "lwip_getsockname");
    if (!r) return fail<int>(EBADF);
    if (!addr || !len) return fail<int>(EFAULT);
    auto a = netconn_getaddr(r.conn(), true);
    if (!a) return fail<int>(err_to_errno(a.error()));
    fill_addr(addr, len, a->first, a->second);
    return 0;
}

int lwip_poll(stack& s, pollfd* fds, nfds_t nfds, int timeout_ms) {
    assert_not_core_context(s, "lwip_poll");
    if (!fds && nfds) return fail<int>(EFAULT);
    auto& mine = detail::stack_access::sockets(s);
    // Inside for the whole call (the stack's destructor waits for pollers to leave);
    // refused once destruction has begun: then every descriptor is reported invalid.
    const bool inside = mine.enter_poll();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    int ready = 0;
    for (;;) {
        // Read the sequence before looking (see stack_sockets::notify): a delivery
        // after our look then changes it and the futex wait returns at once.
        const std::uint32_t seen = mine.wait_seq();
        // Once the stack's destruction has begun its sockets are being closed: all invalid.
        const bool gone = !inside || mine.closing();
        ready = 0;
        for (nfds_t i = 0; i < nfds; ++i) {
            fds[i].revents = 0;
            if (fds[i].fd < 0) continue;
            auto r = gone ? detail::socket_table::ref{} : table().acquire(mine, fds[i].fd);
            if (!r) {
                fds[i].revents = POLLNVAL;
            } else if (r.conn()->closed.load()) {
                fds[i].revents = POLLHUP;
            } else {
                if ((fds[i].events & POLLIN) && netconn_recv_pending(r.conn()) > 0) fds[i].revents |= POLLIN;
                if (fds[i].events & POLLOUT) fds[i].revents |= POLLOUT;
            }
            if (fds[i].revents) ++ready;
        }
        if (ready > 0 || timeout_ms == 0 || gone) break;
        int wait_ms = -1;
        if (timeout_ms > 0) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) break;
            // Round the rest up: poll must not give up before its timeout.
            wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
        }
        mine.wait_change(seen, wait_ms);
    }
    if (inside) mine.leave_poll();  // the last touch of the stack
    return ready;
}

LWBENCH_NS_END
