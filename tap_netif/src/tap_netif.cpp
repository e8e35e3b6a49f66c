// tap_netif.cpp — the TAP device driver: open/attach, the receive thread, writev output.
#include "lwbench/tap_netif.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "lwbench/netns.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

/// The largest frame the netif sends or accepts: header + MTU (no FCS through a TAP).
std::size_t max_frame(const netif& n) { return wire::k_ethernet_hlen + n.caps.mtu; }

/// Enough for a frame of any MTU the pool can carry; longer reads are errors.
constexpr std::size_t k_rx_buffer = pbuf_pools::pool_payload(pbuf_layer::raw);
/// Pbufs in a chain that one writev covers (a longer chain is refused and counted).
constexpr std::size_t k_max_iov = 16;

}  // namespace

tap_open_result tap_netif::open(stack& s, const tap_config& cfg) {
    if (cfg.ifname.empty() || cfg.ifname.size() >= IFNAMSIZ)
        return {nullptr, "tap: bad interface name '" + cfg.ifname + "'"};
    // TUNSETIFF finds (or makes) the device in the calling thread's namespace: attach
    // inside cfg.netns when one is named; the descriptor keeps the device after that.
    const auto attached = open_in_netns(cfg.netns, "tap " + cfg.ifname, [&]() -> int {
        const int tun = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (tun < 0) return -1;
        ifreq req{};
        req.ifr_flags = IFF_TAP | IFF_NO_PI;
        std::memcpy(req.ifr_name, cfg.ifname.c_str(), cfg.ifname.size());
        if (::ioctl(tun, TUNSETIFF, &req) < 0) {
            const int error = errno;
            ::close(tun);
            errno = error;
            return -1;
        }
        return tun;
    });
    if (attached.fd < 0) return {nullptr, attached.error};
    const int fd = attached.fd;
    const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0) {
        std::string why = errno_text("tap: eventfd");
        ::close(fd);
        return {nullptr, why};
    }
    std::unique_ptr<tap_netif> t(new tap_netif(s, fd, stop_fd));
    t->_link.hwaddr = cfg.hwaddr;
    netif_set_addr(&t->_netif, cfg.ip, cfg.netmask, cfg.gw);
    if (netifapi_add(s, &t->_netif) != err::ok) {
        ::close(fd);
        ::close(stop_fd);
        t->_fd = t->_stop_fd = -1;
        return {nullptr, "tap: netif_add refused the netif"};
    }
    netif* n = &t->_netif;
    (void)s.call([&] {
        (void)etharp_start(s, n);
        netif_set_up(n);
        // A lost announcement only delays the peer's learning. Without an address yet
        // (DHCP will set one, and announce it) there is nothing to announce.
        if (!n->ip.is_any()) (void)etharp_gratuitous(s, n);
        return err::ok;
    });
    t->_rx = std::thread([self = t.get()] { self->receive_main(); });
    return {std::move(t), {}};
}

tap_netif::tap_netif(stack& s, int fd, int stop_fd) : _s(s), _fd(fd), _stop_fd(stop_fd) {
    _netif.name = "tap";
    _netif.output = etharp_output;
    _netif.eth = &_link;
    _netif.state = this;
    _netif.on_remove = [](netif* n) { etharp_stop(*n->owner, n); };
    _link.link_output = link_output;
}

tap_netif::~tap_netif() {
    if (_rx.joinable()) {
        const std::uint64_t one = 1;
        if (::write(_stop_fd, &one, sizeof one) != sizeof one) {
            // Cannot happen for a fresh eventfd; the poll timeout still bounds the wait,
            // but the thread would not see the stop request: abort rather than hang.
            std::abort();
        }
        _rx.join();
    }
    if (_netif.owner) (void)netifapi_remove(_s, &_netif);
    if (_fd >= 0) ::close(_fd);
    if (_stop_fd >= 0) ::close(_stop_fd);
}

err tap_netif::link_output(netif* n, pbuf* p) {
    auto* self = static_cast<tap_netif*>(n->state);
    std::array<iovec, k_max_iov> iov{};
    std::size_t count = 0;
    for (const pbuf* q = p; q && count <= k_max_iov; q = q->next) {
        if (count < k_max_iov) iov[count] = {q->payload, q->len};
        ++count;
    }
    if (count > k_max_iov || p->tot_len > max_frame(*n)) {
        self->_s.st().drop(drop_reason::link_tx_error);
        return err::buf;
    }
    const ssize_t written = ::writev(self->_fd, iov.data(), static_cast<int>(count));
    if (written != static_cast<ssize_t>(p->tot_len)) {
        self->_s.st().drop(drop_reason::link_tx_error);
        return written < 0 && (errno == EAGAIN || errno == ENOBUFS) ? err::mem : err::if_;
    }
    self->_sent.fetch_add(1, std::memory_order_relaxed);
    return err::ok;
}

bool tap_netif::receive_one() {
    pbuf* p = pbuf_alloc(_s, pbuf_layer::raw, k_rx_buffer, pbuf_type::pool);
    if (!p) {
        // Take the frame off the device anyway, so the queue keeps moving.
        std::array<std::byte, k_rx_buffer> scratch;
        const ssize_t n = ::read(_fd, scratch.data(), scratch.size());
        if (n <= 0) return false;
        _s.st().drop(drop_reason::no_pbuf);
        return true;
    }
    const ssize_t n = ::read(_fd, p->payload, p->len);  // the one kernel copy
    if (n <= 0) {
        pbuf_free(p);
        if (n < 0 && errno != EAGAIN && errno != EINTR) _s.st().drop(drop_reason::link_rx_error);
        return false;
    }
    if (static_cast<std::size_t>(n) > max_frame(_netif)) {
        pbuf_free(p);
        _s.st().drop(drop_reason::link_rx_error);
        return true;
    }
    pbuf_realloc(p, static_cast<std::size_t>(n));
    _received.fetch_add(1, std::memory_order_relaxed);
    (void)_s.input(p, &_netif);  // takes ownership; counts its own drops
    return true;
}

void tap_netif::receive_main() {
    std::array<pollfd, 2> fds{{{_fd, POLLIN, 0}, {_stop_fd, POLLIN, 0}}};
    for (;;) {
        const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(k_rx_poll_timeout.count()));
        if (ready < 0 && errno != EINTR) {
            _s.st().drop(drop_reason::link_rx_error);
            return;  // poll itself failing is not transient: stop receiving
        }
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            _s.st().drop(drop_reason::link_rx_error);
            return;  // the device went away (its namespace was deleted): nothing more to read
        }
        if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
        for (int i = 0; i < k_rx_batch && receive_one(); ++i) {
        }
    }
}

LWBENCH_NS_END
