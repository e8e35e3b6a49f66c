// sockets.cpp — BSD-like sockets over netconn (see sockets.hpp); the descriptor
// table behind them is detail/socket_table.hpp.
#include "lwbench/sockets.hpp"

#include <netinet/tcp.h>
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

/// Gives conn a descriptor (the table owns it from then on); on failure deletes it.
int open_socket(stack& s, netconn* conn, bool nonblocking) {
    if (nonblocking) netconn_set_nonblocking(conn, true);
    const int fd = table().open(detail::stack_access::sockets(s), conn);  // errno EMFILE / ENFILE on failure
    if (fd < 0) {
        const int e = errno;
        netconn_delete(conn);
        return fail<int>(e);
    }
    return fd;
}

bool is_tcp(const netconn* conn) { return conn->type == netconn_type::tcp; }

/// A struct timeval option as milliseconds: rounded up (a timeout never expires early)
/// and saturated (24.8 days and more become INT_MAX ms, never a wrap to a short or
/// negative timeout). -1 with errno EINVAL / EDOM for a bad one.
int timeval_ms(const void* optval, socklen_t optlen) {
    if (optlen < static_cast<socklen_t>(sizeof(timeval))) return fail<int>(EINVAL);
    timeval tv;
    std::memcpy(&tv, optval, sizeof tv);
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) return fail<int>(EDOM);
    constexpr long long max_ms = INT32_MAX;
    const long long whole = static_cast<long long>(tv.tv_sec);
    return static_cast<int>(whole > max_ms / 1000 ? max_ms
                                                  : std::min(max_ms, whole * 1000 + (tv.tv_usec + 999) / 1000));
}

/// Writes ms as a struct timeval option value.
int put_timeval(void* optval, socklen_t* optlen, int ms) {
    if (*optlen < static_cast<socklen_t>(sizeof(timeval))) return fail<int>(EINVAL);
    const timeval tv{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
    std::memcpy(optval, &tv, sizeof tv);
    *optlen = sizeof tv;
    return 0;
}

/// errno for a failed TCP send or receive.
int stream_errno(const netconn* conn, err e) {
    if (e == err::conn && (conn->tcp_flags.load() & netconn::tcp_flag::tx_shut) &&
        (conn->tcp_flags.load() & netconn::tcp_flag::connected))
        return EPIPE;
    return err_to_errno(e);
}

/// lwip_send on a TCP socket: the one copy (user buffer -> pbufs) happens in tcp_write.
ssize_t send_stream(netconn* conn, const void* buf, std::size_t len, int flags) {
    std::uint8_t wf = netconn_write_flags::copy;
    if (flags & MSG_DONTWAIT) wf |= netconn_write_flags::dontblock;
    if (flags & MSG_MORE) wf |= netconn_write_flags::more;
    auto n = netconn_write(conn, buf, len, wf);
    if (!n) return fail<ssize_t>(stream_errno(conn, n.error()));
    return static_cast<ssize_t>(*n);
}

/// lwip_recv on a TCP socket: copies from the pbuf read in part and then from queued
/// pieces (waiting only while nothing was copied), then reopens the window for what
/// it consumed with one API message (lwIP's lwip_recv_tcp).
ssize_t recv_stream(netconn* conn, void* buf, std::size_t len, int flags) {
    std::lock_guard one_reader(conn->read_mutex);
    auto* out = static_cast<std::uint8_t*>(buf);
    std::size_t copied = 0;
    err stop = err::ok;
    while (copied < len) {
        if (!conn->lastdata) {
            std::uint8_t rf = netconn_recv_flags::noautorecved;
            if (copied > 0 || (flags & MSG_DONTWAIT)) rf |= netconn_recv_flags::dontwait;
            auto nb = netconn_recv_tcp(conn, rf);
            if (!nb) {
                stop = nb.error();
                break;
            }
            if (nb->len() == 0) break;  // end of stream
            conn->lastdata = std::exchange(nb->p, nullptr);
            conn->lastoffset = 0;
        }
        const std::size_t n = std::min<std::size_t>(len - copied, conn->lastdata->tot_len - conn->lastoffset);
        pbuf_copy_partial(conn->lastdata, out + copied, n, conn->lastoffset);  // the receive side's copy
        copied += n;
        conn->lastoffset += n;
        if (conn->lastoffset == conn->lastdata->tot_len) {
            pbuf_free(conn->lastdata);
            conn->lastdata = nullptr;
        }
    }
    if (copied > 0) {
        (void)netconn_tcp_recvd(conn, copied);
        return static_cast<ssize_t>(copied);
    }
    if (stop == err::ok || len == 0) return 0;
    return fail<ssize_t>(stream_errno(conn, stop));
}

/// poll's answer for a TCP socket.
short stream_revents(netconn* conn, short events) {
    using flag = netconn::tcp_flag;
    const std::uint8_t f = conn->tcp_flags.load(std::memory_order_acquire);
    const err failed = conn->pending_err.load(std::memory_order_acquire);
    short r = 0;
    if (failed != err::ok) r |= POLLERR;
    if ((f & flag::eof) && (f & flag::tx_shut)) r |= POLLHUP;
    if (events & POLLIN) {
        const bool queued = (f & flag::listening) ? conn->acceptmbox->size() > 0
                                                  : netconn_recv_pending(conn) > 0 || (f & flag::eof);
        bool partial;
        {
            std::lock_guard lk(conn->read_mutex);
            partial = conn->lastdata != nullptr;
        }
        if (queued || partial || failed != err::ok) r |= POLLIN;
    }
    if ((events & POLLOUT) && (f & flag::connected) && !(f & flag::tx_shut) && failed == err::ok &&
        conn->snd_space.load(std::memory_order_acquire) > 0)
        r |= POLLOUT;
    return r;
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

/// getsockname (local) / getpeername: the address of fd's own or remote end.
int socket_name(stack& s, int fd, sockaddr* addr, socklen_t* len, bool local, const char* where) {
    auto r = enter(s, fd, where);
    if (!r) return fail<int>(EBADF);
    if (!addr || !len) return fail<int>(EFAULT);
    auto a = netconn_getaddr(r.conn(), local);
    if (!a) return fail<int>(err_to_errno(a.error()));
    fill_addr(addr, len, a->first, a->second);
    return 0;
}

}  // namespace

int lwip_socket(stack& s, int domain, int type, int protocol) {
    assert_not_core_context(s, "lwip_socket");
    if (domain != AF_INET) return fail<int>(EAFNOSUPPORT);
    const int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (kind != SOCK_DGRAM && kind != SOCK_STREAM) return fail<int>(EPROTONOSUPPORT);
    const bool stream = kind == SOCK_STREAM;
    if (protocol != 0 && protocol != (stream ? IPPROTO_TCP : IPPROTO_UDP)) return fail<int>(EPROTONOSUPPORT);
    netconn* conn = netconn_new(s, stream ? netconn_type::tcp : netconn_type::udp);
    if (!conn) return fail<int>(ENOMEM);
    return open_socket(s, conn, type & SOCK_NONBLOCK);
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
    if (e == err::ok) return 0;
    if (is_tcp(r.conn()) && e == err::rst) return fail<int>(ECONNREFUSED);
    if (is_tcp(r.conn()) && e == err::timeout) return fail<int>(ETIMEDOUT);
    return fail<int>(err_to_errno(e));
}

int lwip_listen(stack& s, int fd, int backlog) {
    auto r = enter(s, fd, "lwip_listen");
    if (!r) return fail<int>(EBADF);
    if (!is_tcp(r.conn())) return fail<int>(EOPNOTSUPP);
    const err e = netconn_listen(r.conn(), backlog);
    if (e == err::isconn || e == err::use) return fail<int>(e == err::use ? EADDRINUSE : EINVAL);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

int lwip_accept4(stack& s, int fd, sockaddr* addr, socklen_t* len, int flags) {
    auto r = enter(s, fd, "lwip_accept");
    if (!r) return fail<int>(EBADF);
    if (!is_tcp(r.conn())) return fail<int>(EOPNOTSUPP);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail<int>(EINVAL);
    if (addr && !len) return fail<int>(EFAULT);
    auto conn = netconn_accept(r.conn());
    if (!conn) return fail<int>(err_to_errno(conn.error()));
    if (addr) {
        auto peer = netconn_getaddr(*conn, false);
        if (peer) fill_addr(addr, len, peer->first, peer->second);
    }
    return open_socket(s, *conn, flags & SOCK_NONBLOCK);
}

int lwip_accept(stack& s, int fd, sockaddr* addr, socklen_t* len) { return lwip_accept4(s, fd, addr, len, 0); }

int lwip_shutdown(stack& s, int fd, int how) {
    auto r = enter(s, fd, "lwip_shutdown");
    if (!r) return fail<int>(EBADF);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail<int>(EINVAL);
    if (!is_tcp(r.conn())) return fail<int>(ENOTCONN);
    const err e = netconn_shutdown(r.conn(), how != SHUT_WR, how != SHUT_RD);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

int lwip_getpeername(stack& s, int fd, sockaddr* addr, socklen_t* len) {
    return socket_name(s, fd, addr, len, false, "lwip_getpeername");
}

ssize_t lwip_sendto(stack& s, int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                    socklen_t tolen) {
    auto r = enter(s, fd, "lwip_sendto");
    if (!r) return fail<ssize_t>(EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)) return fail<ssize_t>(EOPNOTSUPP);
    if (!buf && len) return fail<ssize_t>(EFAULT);
    if (is_tcp(r.conn())) return to ? fail<ssize_t>(EISCONN) : send_stream(r.conn(), buf, len, flags);
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
    if (is_tcp(r.conn())) {
        if (flags & MSG_TRUNC) return fail<ssize_t>(EINVAL);
        const ssize_t n = recv_stream(r.conn(), buf, len, flags);
        if (n >= 0 && from && fromlen) {
            auto peer = netconn_getaddr(r.conn(), false);
            if (peer) fill_addr(from, fromlen, peer->first, peer->second);
        }
        return n;
    }
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
    if (!optval) return fail<int>(EFAULT);
    if (level == IPPROTO_TCP && optname == TCP_NODELAY && is_tcp(r.conn())) {
        if (optlen < static_cast<socklen_t>(sizeof(int))) return fail<int>(EINVAL);
        int on;
        std::memcpy(&on, optval, sizeof on);
        const err e = netconn_set_nodelay(r.conn(), on != 0);
        return e == err::ok ? 0 : fail<int>(err_to_errno(e));
    }
    if (level != SOL_SOCKET) return fail<int>(ENOPROTOOPT);
    switch (optname) {
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            const int ms = timeval_ms(optval, optlen);
            if (ms < 0) return -1;
            optname == SO_RCVTIMEO ? netconn_set_recvtimeout(r.conn(), ms) : netconn_set_sendtimeout(r.conn(), ms);
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
        case SO_RCVTIMEO: return put_timeval(optval, optlen, r.conn()->recv_timeout_ms.load());
        case SO_SNDTIMEO: return put_timeval(optval, optlen, r.conn()->send_timeout_ms.load());
        case SO_RCVBUF: return put_int(static_cast<int>(r.conn()->recvmbox.limit()));
        case SO_TYPE: return put_int(is_tcp(r.conn()) ? SOCK_STREAM : SOCK_DGRAM);
        case SO_ERROR: {
            const err e = netconn_err(r.conn());
            return put_int(e == err::ok || e == err::inprogress ? 0
                           : e == err::rst && !(r.conn()->tcp_flags.load() & netconn::tcp_flag::connected)
                               ? ECONNREFUSED
                               : err_to_errno(e));
        }
        case SO_ACCEPTCONN: return put_int((r.conn()->tcp_flags.load() & netconn::tcp_flag::listening) ? 1 : 0);
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
    return socket_name(s, fd, addr, len, true, "lwip_getsockname");
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
            } else if (is_tcp(r.conn())) {
                fds[i].revents = stream_revents(r.conn(), fds[i].events);
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
