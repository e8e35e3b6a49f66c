// dhcp.cpp — the DHCP client (dhcp.hpp): its state machine, driven by received replies
// and by its cyclic timer on the tcpip thread; the wire parser and emitters of
// wire/dhcp.hpp; and the netifapi_dhcp_* calls. Everything but the netifapi calls runs
// in core context.
#include "lwbench/dhcp.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <random>

#include "lwbench/detail/netifapi.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/etharp.hpp"
#include "lwbench/ethernet.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"
#include "lwbench/wire/dhcp.hpp"

LWBENCH_NS_BEGIN

// ---- wire: options and emitters --------------------------------------------------------

namespace wire {

dhcp_options_result parse_dhcp_options(std::span<const std::byte> b) noexcept {
    dhcp_options_result r;
    const auto fail = [&r](dhcp_options_check why) {
        r.check = why;
        return r;
    };
    std::size_t i = 0;
    for (;;) {
        if (i >= b.size()) return fail(dhcp_options_check::no_end);
        const auto code = std::to_integer<std::uint8_t>(b[i]);
        if (code == dhcp_option::pad) {
            ++i;
            continue;
        }
        if (code == dhcp_option::end) return r;
        if (i + 1 >= b.size()) return fail(dhcp_options_check::truncated);
        const std::size_t len = std::to_integer<std::size_t>(b[i + 1]);
        if (i + 2 + len > b.size()) return fail(dhcp_options_check::truncated);
        const std::byte* value = b.data() + i + 2;
        const auto address = [&](std::optional<ip4_addr>& out) {
            if (len != 4) return false;
            out = load_addr(value);
            return true;
        };
        const auto seconds = [&](std::optional<std::uint32_t>& out) {
            if (len != 4) return false;
            out = load_be32(value);
            return true;
        };
        bool length_ok = true;
        switch (code) {
            case dhcp_option::message_type: {
                if (len != 1) {
                    length_ok = false;
                    break;
                }
                const auto type = std::to_integer<std::uint8_t>(value[0]);
                if (type < 1 || type > 8) return fail(dhcp_options_check::bad_message_type);
                r.options.message_type = static_cast<dhcp_message_type>(type);
                break;
            }
            case dhcp_option::server_id: length_ok = address(r.options.server_id); break;
            case dhcp_option::subnet_mask: length_ok = address(r.options.subnet_mask); break;
            case dhcp_option::requested_ip: length_ok = address(r.options.requested_ip); break;
            case dhcp_option::router:  // a list of addresses: the first is the default router
                length_ok = len >= 4 && len % 4 == 0;
                if (length_ok) r.options.router = load_addr(value);
                break;
            case dhcp_option::lease_time: length_ok = seconds(r.options.lease_time); break;
            case dhcp_option::renewal_time: length_ok = seconds(r.options.renewal_time); break;
            case dhcp_option::rebinding_time: length_ok = seconds(r.options.rebinding_time); break;
            default: break;  // not ours to read: skipped by its length
        }
        if (!length_ok) return fail(dhcp_options_check::bad_length);
        i += 2 + len;
    }
}

void emit_dhcp_header(std::span<std::byte, dhcp_view::header_size> out, const dhcp_repr& r) noexcept {
    std::byte* p = out.data();
    std::memset(p, 0, out.size());
    p[0] = std::byte{r.op};
    p[1] = std::byte{k_bootp_htype_ethernet};
    p[2] = std::byte{6};
    store_be32(p + 4, r.xid);
    store_be16(p + 8, r.secs);
    store_be16(p + 10, r.flags);
    store_addr(p + 12, r.ciaddr);
    store_addr(p + 16, r.yiaddr);
    store_addr(p + 20, r.siaddr);
    store_addr(p + 24, r.giaddr);
    store_mac(p + dhcp_view::chaddr_offset, r.chaddr);
    store_be32(p + 236, k_dhcp_magic_cookie);
}

bool dhcp_option_writer::add(std::uint8_t code, std::span<const std::byte> value) noexcept {
    // Room for this option and, after it, the end option.
    if (_failed || value.size() > 255 || _used + 2 + value.size() + 1 > _out.size()) {
        _failed = true;
        return false;
    }
    _out[_used] = std::byte{code};
    _out[_used + 1] = std::byte(static_cast<std::uint8_t>(value.size()));
    if (!value.empty()) std::memcpy(_out.data() + _used + 2, value.data(), value.size());
    _used += 2 + value.size();
    return true;
}

bool dhcp_option_writer::add_u8(std::uint8_t code, std::uint8_t v) noexcept {
    const std::byte b[1] = {std::byte{v}};
    return add(code, b);
}

bool dhcp_option_writer::add_u16(std::uint8_t code, std::uint16_t v) noexcept {
    std::byte b[2];
    store_be16(b, v);
    return add(code, b);
}

bool dhcp_option_writer::add_u32(std::uint8_t code, std::uint32_t v) noexcept {
    std::byte b[4];
    store_be32(b, v);
    return add(code, b);
}

bool dhcp_option_writer::add_addr(std::uint8_t code, ip4_addr a) noexcept {
    std::byte b[4];
    store_addr(b, a);
    return add(code, b);
}

std::size_t dhcp_option_writer::finish() noexcept {
    if (_failed || _used + 1 > _out.size()) return 0;
    _out[_used] = std::byte{dhcp_option::end};
    return _used + 1;
}

}  // namespace wire

// ---- the client --------------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

/// One netif's client. Core state of that netif (netif::dhcp); freed by dhcp_stop.
struct dhcp_client {
    stack* s = nullptr;
    netif* n = nullptr;
    dhcp_config cfg;
    wire::mac_addr hwaddr;
    dhcp_state state = dhcp_state::off;
    std::uint32_t xid = 0;
    int timer_id = 0;
    unsigned sends = 0;                 ///< messages sent in the current exchange (backoff, give-up)
    clock_type::time_point retry_at;    ///< next retransmission
    clock_type::time_point t1_at, t2_at, expire_at;
    bool infinite = false;              ///< lease 0xffffffff: never renewed, never expires
    ip4_addr offered, offer_server;     ///< the OFFER taken (requesting)
    dhcp_lease lease;
    dhcp_counters counters;
    std::minstd_rand rng;
};

const char* to_string(dhcp_state st) noexcept {
    switch (st) {
        case dhcp_state::off: return "off";
        case dhcp_state::selecting: return "selecting";
        case dhcp_state::requesting: return "requesting";
        case dhcp_state::bound: return "bound";
        case dhcp_state::renewing: return "renewing";
        case dhcp_state::rebinding: return "rebinding";
    }
    return "unknown";
}

namespace {

/// BOOTP's minimum message (RFC 1542 §2.1): shorter ones are padded with zeros.
constexpr std::size_t k_message_len = 300;
/// RFC 2131 §4.1: first retransmission after 4 s, doubling up to 64 s, ±1 s of jitter.
constexpr seconds k_first_retry{4}, k_max_retry{64};
constexpr milliseconds k_jitter{1000};
/// §4.4.5: while renewing or rebinding, wait at least this long between requests.
constexpr seconds k_min_lease_retry{60};
/// REQUESTs sent for one OFFER before going back to discovery.
constexpr unsigned k_max_requests = 4;
constexpr std::uint32_t k_infinite_lease = 0xffffffffu;

constexpr std::array<std::byte, 5> k_parameter_list = {
    std::byte{wire::dhcp_option::subnet_mask}, std::byte{wire::dhcp_option::router},
    std::byte{wire::dhcp_option::lease_time}, std::byte{wire::dhcp_option::renewal_time},
    std::byte{wire::dhcp_option::rebinding_time}};

bool leased(dhcp_state st) {
    return st == dhcp_state::bound || st == dhcp_state::renewing || st == dhcp_state::rebinding;
}

/// The states with a REQUEST outstanding, where an ACK or a NAK is expected.
bool awaiting_answer(dhcp_state st) {
    return st == dhcp_state::requesting || st == dhcp_state::renewing || st == dhcp_state::rebinding;
}

/// d on the client's clock (the test hook divides it), at least 1 ms.
milliseconds scaled(const dhcp_client& c, milliseconds d) {
    return std::max(milliseconds{1}, d / c.cfg.time_divisor);
}

std::uint32_t new_xid(dhcp_client& c) { return static_cast<std::uint32_t>(c.rng()) ^ (c.rng() << 16); }

/// Builds one client message and sends it to dst:67 through the client's netif.
err send_message(dhcp_client& c, wire::dhcp_message_type type, ip4_addr dst) {
    stack& s = *c.s;
    const auto count_failure = [&c](err e) {
        ++c.counters.send_errors;
        return e;
    };
    pbuf* p = pbuf_alloc(s, pbuf_layer::transport, k_message_len, pbuf_type::pool);
    if (!p) return count_failure(err::mem);
    if (p->len != p->tot_len) {  // a pool pbuf holds far more than 300 bytes: never chained
        pbuf_free(p);
        return count_failure(err::buf);
    }
    std::byte* out = p->bytes();
    std::memset(out, 0, k_message_len);
    wire::dhcp_repr r;
    r.op = wire::k_bootp_request;
    r.xid = c.xid;
    r.chaddr = c.hwaddr;
    // Without an address we cannot take a unicast answer: ask for broadcast (§4.1).
    if (c.n->ip.is_any()) r.flags = wire::k_dhcp_flag_broadcast;
    const bool from_lease = type == wire::dhcp_message_type::release ||
                            (type == wire::dhcp_message_type::request && c.state != dhcp_state::requesting);
    if (from_lease) r.ciaddr = c.lease.ip;
    wire::emit_dhcp_header(std::span<std::byte, wire::dhcp_view::header_size>(out, wire::dhcp_view::header_size), r);
    wire::dhcp_option_writer options({out + wire::dhcp_view::header_size, k_message_len - wire::dhcp_view::header_size});
    options.add_u8(wire::dhcp_option::message_type, static_cast<std::uint8_t>(type));
    if (type == wire::dhcp_message_type::request && c.state == dhcp_state::requesting) {
        options.add_addr(wire::dhcp_option::requested_ip, c.offered);
        options.add_addr(wire::dhcp_option::server_id, c.offer_server);
    }
    if (type == wire::dhcp_message_type::release) options.add_addr(wire::dhcp_option::server_id, c.lease.server);
    if (type != wire::dhcp_message_type::release) options.add(wire::dhcp_option::parameter_list, k_parameter_list);
    if (options.finish() == 0) {  // cannot happen with these few options; refuse rather than send garbage
        pbuf_free(p);
        return count_failure(err::buf);
    }
    udp_pcb* pcb = detail::stack_access::dhcp_pcb(s);
    const err e = udp_sendto_if(pcb, p, dst, wire::k_dhcp_server_port, c.n);
    pbuf_free(p);
    if (e != err::ok) return count_failure(e);
    s.st().dhcp_xmit.inc();
    if (type == wire::dhcp_message_type::discover) ++c.counters.discovers;
    if (type == wire::dhcp_message_type::request) ++c.counters.requests;
    if (type == wire::dhcp_message_type::release) ++c.counters.releases;
    return err::ok;
}

/// Sets the next retransmission of DISCOVER/REQUEST after c.sends messages (§4.1 backoff).
void schedule_backoff(dhcp_client& c, clock_type::time_point now) {
    const unsigned doublings = std::min(c.sends == 0 ? 0u : c.sends - 1, 4u);
    const milliseconds base = std::min<milliseconds>(k_max_retry, k_first_retry * (1u << doublings));
    std::uniform_int_distribution<long> jitter(-k_jitter.count(), k_jitter.count());
    c.retry_at = now + scaled(c, base + milliseconds{jitter(c.rng)});
}

/// While renewing/rebinding: half the time left to `until`, at least 60 s (§4.4.5).
void schedule_lease_retry(dhcp_client& c, clock_type::time_point now, clock_type::time_point until) {
    const auto half = std::chrono::duration_cast<milliseconds>(until - now) / 2;
    c.retry_at = now + std::max(half, scaled(c, k_min_lease_retry));
}

/// Sends one DISCOVER or REQUEST of the current exchange (the first or a retransmission).
void send_exchange(dhcp_client& c, wire::dhcp_message_type type, ip4_addr dst, clock_type::time_point now) {
    if (c.sends > 0) ++c.counters.retransmissions;
    ++c.sends;
    (void)send_message(c, type, dst);  // a failed send is counted and retried by the timer
    schedule_backoff(c, now);
}

/// Takes the leased address off the netif (if it is still the one we set) and forgets the lease.
void drop_address(dhcp_client& c) {
    if (leased(c.state) && c.n->ip == c.lease.ip) netif_set_addr(c.n, {}, {}, {});
    c.lease = {};
}

void begin_discovery(dhcp_client& c, clock_type::time_point now) {
    drop_address(c);
    c.state = dhcp_state::selecting;
    c.xid = new_xid(c);
    c.sends = 0;
    c.offered = c.offer_server = {};
    send_exchange(c, wire::dhcp_message_type::discover, ip4_addr::from_host(0xffffffffu), now);
}

/// The netmask a server that sends none implies: the address's class (RFC 791).
ip4_addr class_netmask(ip4_addr a) {
    const std::uint32_t h = a.host();
    if ((h >> 31) == 0) return ip4_addr::from_octets(255, 0, 0, 0);
    if ((h >> 30) == 2) return ip4_addr::from_octets(255, 255, 0, 0);
    return ip4_addr::from_octets(255, 255, 255, 0);
}

/// An ACK: the lease starts (or is extended) now.
void bind(dhcp_client& c, const wire::dhcp_view& reply, const wire::dhcp_options& opts, clock_type::time_point now) {
    const bool address_changes = !leased(c.state) || c.lease.ip != reply.yiaddr();
    dhcp_lease l;
    l.ip = reply.yiaddr();
    l.netmask = opts.subnet_mask.value_or(class_netmask(l.ip));
    l.gw = opts.router.value_or(ip4_addr{});
    l.server = opts.server_id.value_or(leased(c.state) ? c.lease.server : c.offer_server);
    l.lease_s = *opts.lease_time;
    // T1 and T2 default to 1/2 and 7/8 of the lease (§4.4.5); inconsistent ones are replaced.
    l.t1_s = opts.renewal_time.value_or(l.lease_s / 2);
    l.t2_s = opts.rebinding_time.value_or(static_cast<std::uint32_t>(std::uint64_t{l.lease_s} * 7 / 8));
    if (l.t2_s > l.lease_s || l.t1_s > l.t2_s) {
        l.t1_s = l.lease_s / 2;
        l.t2_s = static_cast<std::uint32_t>(std::uint64_t{l.lease_s} * 7 / 8);
    }
    if (leased(c.state) && address_changes) drop_address(c);
    c.lease = l;
    c.infinite = l.lease_s == k_infinite_lease;
    const auto at = [&](std::uint32_t secs) {
        return now + scaled(c, std::chrono::duration_cast<milliseconds>(seconds{secs}));
    };
    c.t1_at = at(l.t1_s);
    c.t2_at = at(l.t2_s);
    c.expire_at = at(l.lease_s);
    c.state = dhcp_state::bound;
    c.sends = 0;
    ++c.counters.leases;
    netif_set_addr(c.n, l.ip, l.netmask, l.gw);
    if (address_changes && c.n->eth && c.n->is_up()) (void)etharp_gratuitous(*c.s, c.n);  // lost: peers ARP anyway
}

/// The lease ended (expiry or NAK): the address goes, discovery starts again.
void lose_lease(dhcp_client& c, clock_type::time_point now) { begin_discovery(c, now); }

void on_tick(void* arg) {
    auto& c = *static_cast<dhcp_client*>(arg);
    const auto now = clock_type::now();
    if (leased(c.state) && !c.infinite && now >= c.expire_at) {
        ++c.counters.expiries;
        return lose_lease(c, now);
    }
    const ip4_addr broadcast = ip4_addr::from_host(0xffffffffu);
    switch (c.state) {
        case dhcp_state::off: return;
        case dhcp_state::selecting:
            if (now >= c.retry_at) send_exchange(c, wire::dhcp_message_type::discover, broadcast, now);
            return;
        case dhcp_state::requesting:
            if (now < c.retry_at) return;
            if (c.sends >= k_max_requests) return begin_discovery(c, now);
            return send_exchange(c, wire::dhcp_message_type::request, broadcast, now);
        case dhcp_state::bound:
            if (c.infinite || now < c.t1_at) return;
            c.state = dhcp_state::renewing;
            ++c.counters.renewals;
            c.xid = new_xid(c);
            c.sends = 1;
            (void)send_message(c, wire::dhcp_message_type::request, c.lease.server);
            return schedule_lease_retry(c, now, c.t2_at);
        case dhcp_state::renewing:
            if (now >= c.t2_at) {
                c.state = dhcp_state::rebinding;
                ++c.counters.rebinds;
                c.sends = 1;
                (void)send_message(c, wire::dhcp_message_type::request, broadcast);
                return schedule_lease_retry(c, now, c.expire_at);
            }
            if (now < c.retry_at) return;
            ++c.counters.retransmissions;
            (void)send_message(c, wire::dhcp_message_type::request, c.lease.server);
            return schedule_lease_retry(c, now, c.t2_at);
        case dhcp_state::rebinding:
            if (now < c.retry_at) return;
            ++c.counters.retransmissions;
            (void)send_message(c, wire::dhcp_message_type::request, broadcast);
            return schedule_lease_retry(c, now, c.expire_at);
    }
}

/// The client on one of s's netifs that waits for this reply, or nullptr.
dhcp_client* find_client(stack& s, const wire::dhcp_view& reply) {
    for (netif* n : detail::stack_access::netifs(s)) {
        dhcp_client* c = n->dhcp;
        if (c && c->state != dhcp_state::off && c->xid == reply.xid() && c->hwaddr == reply.chaddr()) return c;
    }
    return nullptr;
}

/// A reply the client's state expects: OFFER while selecting, ACK or NAK while
/// requesting, renewing or rebinding. False (dropped as dhcp_unexpected) otherwise.
bool accept_reply(dhcp_client& c, const wire::dhcp_view& reply, const wire::dhcp_options& opts) {
    const auto now = clock_type::now();
    switch (*opts.message_type) {
        case wire::dhcp_message_type::offer:
            if (c.state != dhcp_state::selecting || !opts.server_id || reply.yiaddr().is_any()) return false;
            ++c.counters.offers;
            c.offered = reply.yiaddr();
            c.offer_server = *opts.server_id;
            c.state = dhcp_state::requesting;
            c.sends = 0;
            send_exchange(c, wire::dhcp_message_type::request, ip4_addr::from_host(0xffffffffu), now);
            return true;
        case wire::dhcp_message_type::ack:
            if (!awaiting_answer(c.state)) return false;
            if (!opts.lease_time || reply.yiaddr().is_any()) return false;
            ++c.counters.acks;
            bind(c, reply, opts, now);
            return true;
        case wire::dhcp_message_type::nak:
            if (!awaiting_answer(c.state)) return false;
            ++c.counters.naks;
            lose_lease(c, now);
            return true;
        default: return false;
    }
}

/// The shared pcb's receive callback: every DHCP reply to port 68 arrives here.
void dhcp_recv(void* arg, udp_pcb*, pbuf* p, ip4_addr, std::uint16_t) {
    stack& s = *static_cast<stack*>(arg);
    std::array<std::byte, k_pool_bufsize> copy;
    std::span<const std::byte> message;
    if (p->len == p->tot_len) {
        message = {p->bytes(), p->len};
    } else if (p->tot_len <= copy.size()) {  // chained: read it whole (control plane, rare)
        message = {copy.data(), pbuf_copy_partial(p, copy.data(), p->tot_len, 0)};
    }
    const auto reply = wire::dhcp_view::parse(message);
    if (!reply) return s.st().drop(drop_reason::dhcp_malformed, p);
    const auto opts = wire::parse_dhcp_options(reply->options());
    if (opts.check != wire::dhcp_options_check::ok || !opts.options.message_type)
        return s.st().drop(drop_reason::dhcp_malformed, p);
    dhcp_client* c = reply->op() == wire::k_bootp_reply ? find_client(s, *reply) : nullptr;
    if (!c) return s.st().drop(drop_reason::dhcp_not_ours, p);
    if (!accept_reply(*c, *reply, opts.options)) return s.st().drop(drop_reason::dhcp_unexpected, p);
    s.st().dhcp_recv.inc();
    pbuf_free(p);
}

bool config_ok(const dhcp_config& cfg) {
    return cfg.time_divisor >= 1 && cfg.time_divisor <= k_dhcp_max_time_divisor && cfg.tick >= milliseconds{1} &&
           cfg.tick <= seconds{1};
}

}  // namespace

err dhcp_start(stack& s, netif* n, const dhcp_config& cfg) {
    assert_core_context(s, "dhcp_start");
    if (!n || !netif_is_added(s, n) || !config_ok(cfg)) return err::arg;
    const wire::mac_addr hwaddr = n->eth ? n->eth->hwaddr : cfg.hwaddr;
    if (hwaddr.is_zero() || hwaddr.is_group()) return err::arg;
    dhcp_stop(s, n);
    udp_pcb*& pcb = detail::stack_access::dhcp_pcb(s);
    if (!pcb) {
        udp_pcb* fresh = udp_new(s);
        if (!fresh) return err::mem;
        if (udp_bind(fresh, ip4_addr::any(), wire::k_dhcp_client_port) != err::ok) {
            udp_remove(fresh);
            return err::use;
        }
        udp_recv(fresh, dhcp_recv, &s);
        pcb = fresh;
    }
    auto* c = new (std::nothrow) dhcp_client{};
    if (!c) {
        dhcp_stop(s, n);  // releases the pcb if no other client uses it
        return err::mem;
    }
    c->s = &s;
    c->n = n;
    c->cfg = cfg;
    c->hwaddr = hwaddr;
    c->rng.seed(std::random_device{}());
    c->timer_id = s.add_cyclic_timer(cfg.tick, on_tick, c);
    n->dhcp = c;
    begin_discovery(*c, clock_type::now());
    return err::ok;
}

void dhcp_stop(stack& s, netif* n) {
    assert_core_context(s, "dhcp_stop");
    if (!n) return;
    if (dhcp_client* c = n->dhcp) {
        s.remove_timer(c->timer_id);
        drop_address(*c);
        n->dhcp = nullptr;
        delete c;
    }
    const auto& ifs = detail::stack_access::netifs(s);
    const bool others = std::any_of(ifs.begin(), ifs.end(), [](const netif* other) { return other->dhcp; });
    udp_pcb*& pcb = detail::stack_access::dhcp_pcb(s);
    if (!others && pcb) {
        udp_remove(pcb);
        pcb = nullptr;
    }
}

err dhcp_release(stack& s, netif* n) {
    assert_core_context(s, "dhcp_release");
    if (!n || !n->dhcp) return err::arg;
    dhcp_client& c = *n->dhcp;
    err e = err::ok;
    if (leased(c.state)) e = send_message(c, wire::dhcp_message_type::release, c.lease.server);
    dhcp_stop(s, n);
    return e;
}

dhcp_status dhcp_get(const netif* n) {
    dhcp_status out;
    if (!n || !n->dhcp) return out;
    const dhcp_client& c = *n->dhcp;
    out.state = c.state;
    out.lease = c.lease;
    out.xid = c.xid;
    out.counters = c.counters;
    return out;
}

// ---- netifapi: any application thread, through the dispatcher ---------------------------

err netifapi_dhcp_start(stack& s, netif* n, const dhcp_config& cfg) {
    return detail::netifapi_on_own(s, n, "netifapi_dhcp_start", [&](netif* own) { return dhcp_start(s, own, cfg); });
}

err netifapi_dhcp_stop(stack& s, netif* n) {
    return detail::netifapi_on_own(s, n, "netifapi_dhcp_stop", [&](netif* own) { dhcp_stop(s, own); });
}

err netifapi_dhcp_release(stack& s, netif* n) {
    return detail::netifapi_on_own(s, n, "netifapi_dhcp_release", [&](netif* own) { return dhcp_release(s, own); });
}

result<dhcp_status> netifapi_dhcp_get(stack& s, netif* n) {
    dhcp_status out;
    const err e = detail::netifapi_on_own(s, n, "netifapi_dhcp_get", [&](netif* own) { out = dhcp_get(own); });
    if (e != err::ok) return e;
    return out;
}

LWBENCH_NS_END
