// sockets.cpp — BSD-like sockets over netconn; descriptor generations and
// reference-counted socket lifetime (see sockets.hpp).
#include "lwbench/sockets.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstring>

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

// ---- the descriptor table ----------------------------------------------------------
//
// Slot state word (one atomic, so every transition is a single CAS):
//   bits 63..32 generation | bits 31..3 reference count | bit 2 dying | bit 1 open | bit 0 allocated
// Free: allocated=0. open() takes a free slot (generation+1), publishes the socket,
// then sets open. acquire() adds a reference only while open and the generation
// matches the descriptor. close() clears open and holds a reference while it shuts
// the netconn down; whoever drops the last reference of a closed slot sets dying,
// frees the socket and returns the slot to free.

namespace {
constexpr std::uint64_t k_alloc = 1, k_open = 2, k_dying = 4, k_ref = 8;
constexpr std::uint64_t k_refs_mask = 0xfffffff8ull;
constexpr int k_slot_bits = 10;
constexpr std::uint32_t k_gen_mask = (1u << (31 - k_slot_bits)) - 1;  // keeps descriptors positive

std::uint32_t gen_of(std::uint64_t s) { return static_cast<std::uint32_t>(s >> 32) & k_gen_mask; }
std::uint64_t refs_of(std::uint64_t s) { return (s & k_refs_mask) / k_ref; }

long futex(std::atomic<std::uint32_t>* a, int op, std::uint32_t v, const timespec* ts) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(a), op, v, ts, nullptr, 0);
}
}  // namespace

struct socket_table::sock {
    netconn* conn = nullptr;
};

struct socket_table::slot {
    std::atomic<std::uint64_t> state{0};
    sock* s = nullptr;  // written before `open` is published, read only under a reference
};

socket_table::socket_table(stack& s, std::size_t max_sockets)
    : _s(s), _slots(new slot[std::min<std::size_t>(max_sockets, 1u << k_slot_bits)]),
      _n(std::min<std::size_t>(max_sockets, 1u << k_slot_bits)) {}

socket_table::~socket_table() {
    for (std::size_t i = 0; i < _n; ++i) {
        const auto st = _slots[i].state.load();
        if (st & k_open) close(static_cast<int>((gen_of(st) << k_slot_bits) | i));
    }
}

socket_table::ref::~ref() {
    if (_s) _t->release(_idx);
}

int socket_table::open(netconn* conn) {
    for (std::size_t i = 0; i < _n; ++i) {
        auto& sl = _slots[i];
        std::uint64_t st = sl.state.load(std::memory_order_acquire);
        if (st & k_alloc) continue;
        std::uint32_t gen = (gen_of(st) + 1) & k_gen_mask;
        if (gen == 0) gen = 1;
        const std::uint64_t reserved = (std::uint64_t{gen} << 32) | k_alloc;
        if (!sl.state.compare_exchange_strong(st, reserved, std::memory_order_acq_rel)) continue;
        sl.s = new sock{conn};
        conn->event = [](netconn*, void* t) { static_cast<socket_table*>(t)->notify(); };
        conn->event_arg = this;
        sl.state.store(reserved | k_open, std::memory_order_release);
        return static_cast<int>((gen << k_slot_bits) | i);
    }
    return -1;
}

socket_table::ref socket_table::acquire(int fd) {
    if (fd <= 0) return {};
    const auto idx = static_cast<std::size_t>(fd) & ((1u << k_slot_bits) - 1);
    const auto gen = static_cast<std::uint32_t>(fd) >> k_slot_bits;
    if (idx >= _n) return {};
    auto& sl = _slots[idx];
    std::uint64_t st = sl.state.load(std::memory_order_acquire);
    for (;;) {
        if (!(st & k_open) || gen_of(st) != gen) return {};
        if (sl.state.compare_exchange_weak(st, st + k_ref, std::memory_order_acquire)) return {this, idx, sl.s};
    }
}

void socket_table::release(std::size_t idx) noexcept {
    auto& sl = _slots[idx];
    std::uint64_t st = sl.state.fetch_sub(k_ref, std::memory_order_acq_rel) - k_ref;
    if (refs_of(st) != 0 || (st & k_open) || (st & k_dying)) return;
    // Last reference of a closed socket: exactly one thread wins the dying bit.
    if (!sl.state.compare_exchange_strong(st, st | k_dying, std::memory_order_acq_rel)) return;
    sock* s = sl.s;
    sl.s = nullptr;
    netconn_delete(s->conn);
    delete s;
    sl.state.store(static_cast<std::uint64_t>(gen_of(st)) << 32, std::memory_order_release);  // free
}

int socket_table::close(int fd) {
    if (fd <= 0) return -1;
    const auto idx = static_cast<std::size_t>(fd) & ((1u << k_slot_bits) - 1);
    const auto gen = static_cast<std::uint32_t>(fd) >> k_slot_bits;
    if (idx >= _n) return -1;
    auto& sl = _slots[idx];
    std::uint64_t st = sl.state.load(std::memory_order_acquire);
    for (;;) {
        if (!(st & k_open) || gen_of(st) != gen) return -1;
        if (sl.state.compare_exchange_weak(st, (st & ~k_open) + k_ref, std::memory_order_acq_rel)) break;
    }
    // No new reference can be taken now. Shut down: blocked receivers wake (EBADF).
    netconn_close(sl.s->conn);
    notify();
    release(idx);
    return 0;
}

void socket_table::notify() noexcept {
    _seq.fetch_add(1, std::memory_order_seq_cst);
    if (_pollers.load(std::memory_order_seq_cst) != 0) futex(&_seq, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr);
}

bool socket_table::wait_change(std::uint32_t seen, int timeout_ms) noexcept {
    timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
    const long r = futex(&_seq, FUTEX_WAIT_PRIVATE, seen, timeout_ms < 0 ? nullptr : &ts);
    return !(r != 0 && errno == ETIMEDOUT);
}

// ---- the calls -----------------------------------------------------------------------

namespace {

template <class T>
T fail(int e) {
    errno = e;
    return static_cast<T>(-1);
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
    if (domain != AF_INET) return fail<int>(EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_DGRAM) return fail<int>(EPROTONOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_UDP) return fail<int>(EPROTONOSUPPORT);
    netconn* conn = netconn_new(s);
    if (!conn) return fail<int>(ENOMEM);
    if (type & SOCK_NONBLOCK) netconn_set_nonblocking(conn, true);
    const int fd = s.sockets().open(conn);
    if (fd < 0) {
        netconn_delete(conn);
        return fail<int>(EMFILE);
    }
    return fd;
}

int lwip_bind(stack& s, int fd, const sockaddr* addr, socklen_t len) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<int>(EBADF);
    ip4_addr ip;
    std::uint16_t port;
    if (!parse_addr(addr, len, ip, port)) return -1;
    const err e = netconn_bind(r->conn, ip, port);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

int lwip_connect(stack& s, int fd, const sockaddr* addr, socklen_t len) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<int>(EBADF);
    if (addr && len >= static_cast<socklen_t>(sizeof(sa_family_t)) && addr->sa_family == AF_UNSPEC) {
        const err e = netconn_disconnect(r->conn);
        return e == err::ok ? 0 : fail<int>(err_to_errno(e));
    }
    ip4_addr ip;
    std::uint16_t port;
    if (!parse_addr(addr, len, ip, port)) return -1;
    const err e = netconn_connect(r->conn, ip, port);
    return e == err::ok ? 0 : fail<int>(err_to_errno(e));
}

ssize_t lwip_sendto(stack& s, int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                    socklen_t tolen) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<ssize_t>(EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) return fail<ssize_t>(EOPNOTSUPP);
    if (!buf && len) return fail<ssize_t>(EFAULT);
    if (len > k_max_udp_payload) return fail<ssize_t>(EMSGSIZE);
    ip4_addr ip;
    std::uint16_t port = 0;
    if (to && !parse_addr(to, tolen, ip, port)) return -1;
    pbuf* p = s.pools().alloc(pbuf_layer::transport, len, pbuf_type::pool);
    if (!p) return fail<ssize_t>(ENOBUFS);
    if (len) (void)pbuf_take(p, buf, len);  // the one copy a BSD send makes: user buffer -> pbuf
    const err e = netconn_sendto_pbuf(r->conn, p, ip, port, /*connected=*/to == nullptr);
    pbuf_free(p);
    if (e == err::conn) return fail<ssize_t>(EDESTADDRREQ);
    return e == err::ok ? static_cast<ssize_t>(len) : fail<ssize_t>(err_to_errno(e));
}

ssize_t lwip_send(stack& s, int fd, const void* buf, std::size_t len, int flags) {
    return lwip_sendto(s, fd, buf, len, flags, nullptr, 0);
}

ssize_t lwip_recvfrom(stack& s, int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<ssize_t>(EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_TRUNC)) return fail<ssize_t>(EINVAL);
    if (!buf && len) return fail<ssize_t>(EFAULT);
    auto nb = netconn_recv(r->conn, (flags & MSG_DONTWAIT) != 0);
    if (!nb) return fail<ssize_t>(err_to_errno(nb.error()));
    const std::size_t total = nb->len();
    const std::size_t n = nb->copy_to(buf, std::min(len, total));  // the receive side's one copy
    fill_addr(from, fromlen, nb->addr, nb->port);
    return static_cast<ssize_t>((flags & MSG_TRUNC) ? total : n);
}

ssize_t lwip_recv(stack& s, int fd, void* buf, std::size_t len, int flags) {
    return lwip_recvfrom(s, fd, buf, len, flags, nullptr, nullptr);
}

int lwip_close(stack& s, int fd) { return s.sockets().close(fd) == 0 ? 0 : fail<int>(EBADF); }

int lwip_setsockopt(stack& s, int fd, int level, int optname, const void* optval, socklen_t optlen) {
    auto r = s.sockets().acquire(fd);
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
            netconn_set_recvtimeout(r->conn, static_cast<int>(ms));
            return 0;
        }
        case SO_RCVBUF: {
            if (optlen < static_cast<socklen_t>(sizeof(int))) return fail<int>(EINVAL);
            int v;
            std::memcpy(&v, optval, sizeof v);
            if (v < 1) return fail<int>(EINVAL);
            netconn_set_recvbufsize(r->conn, static_cast<std::size_t>(v));
            return 0;
        }
        default: return fail<int>(ENOPROTOOPT);
    }
}

int lwip_getsockopt(stack& s, int fd, int level, int optname, void* optval, socklen_t* optlen) {
    auto r = s.sockets().acquire(fd);
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
            const int ms = r->conn->recv_timeout_ms.load();
            const timeval tv{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
            std::memcpy(optval, &tv, sizeof tv);
            *optlen = sizeof tv;
            return 0;
        }
        case SO_RCVBUF: return put_int(static_cast<int>(r->conn->recvmbox.limit()));
        case SO_TYPE: return put_int(SOCK_DGRAM);
        case SO_ERROR: return put_int(0);
        default: return fail<int>(ENOPROTOOPT);
    }
}

int lwip_ioctl(stack& s, int fd, unsigned long request, void* argp) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<int>(EBADF);
    if (!argp) return fail<int>(EFAULT);
    if (request == FIONBIO) {
        int on;
        std::memcpy(&on, argp, sizeof on);
        netconn_set_nonblocking(r->conn, on != 0);
        return 0;
    }
    return fail<int>(ENOTTY);
}

int lwip_getsockname(stack& s, int fd, sockaddr* addr, socklen_t* len) {
    auto r = s.sockets().acquire(fd);
    if (!r) return fail<int>(EBADF);
    if (!addr || !len) return fail<int>(EFAULT);
    auto a = netconn_getaddr(r->conn, true);
    if (!a) return fail<int>(err_to_errno(a.error()));
    fill_addr(addr, len, a->first, a->second);
    return 0;
}

int lwip_poll(stack& s, pollfd* fds, nfds_t nfds, int timeout_ms) {
    if (!fds && nfds) return fail<int>(EFAULT);
    auto& table = s.sockets();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        // Announce ourselves before looking (see socket_table::notify): a delivery
        // after our look then changes the sequence and the futex wait returns.
        table._pollers_enter();
        const std::uint32_t seen = table.wait_seq();
        int ready = 0;
        for (nfds_t i = 0; i < nfds; ++i) {
            fds[i].revents = 0;
            if (fds[i].fd < 0) continue;
            auto r = table.acquire(fds[i].fd);
            if (!r) {
                fds[i].revents = POLLNVAL;
            } else if (r->conn->closed.load()) {
                fds[i].revents = POLLHUP;
            } else {
                if ((fds[i].events & POLLIN) && netconn_recv_pending(r->conn) > 0) fds[i].revents |= POLLIN;
                if (fds[i].events & POLLOUT) fds[i].revents |= POLLOUT;
            }
            if (fds[i].revents) ++ready;
        }
        if (ready > 0 || timeout_ms == 0) {
            table._pollers_leave();
            return ready;
        }
        int wait_ms = -1;
        if (timeout_ms > 0) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                table._pollers_leave();
                return 0;
            }
            // Round the rest up: poll must not give up before its timeout.
            wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
        }
        table.wait_change(seen, wait_ms);
        table._pollers_leave();
    }
}

LWBENCH_NS_END
