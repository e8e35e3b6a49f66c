// etharp.cpp — the ARP cache of an Ethernet netif: resolution for output, request and
// reply handling, gratuitous ARP, held packets, and ageing by the tcpip thread's timer.
#include "lwbench/etharp.hpp"

#include "lwbench/ethernet.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/wire/arp.hpp"

LWBENCH_NS_BEGIN
namespace {

using entry = etharp_entry;

etharp_table& table_of(const netif* n) { return n->eth->arp; }

/// Frees the packets held on e, each counted as `why`, and empties the entry.
void clear_entry(stack& s, entry& e, drop_reason why) {
    for (std::uint8_t i = 0; i < e.queued; ++i) s.st().drop(why, e.queue[i]);
    e = entry{};
}

entry* find_entry(etharp_table& t, ip4_addr ip) {
    for (auto& e : t.entries)
        if (e.st != entry::state::empty && e.ip == ip) return &e;
    return nullptr;
}

/// A free entry for ip: an empty one, else the oldest stable one (evicted). nullptr if
/// every entry is resolving (those hold packets and are never evicted).
entry* new_entry(stack& s, etharp_table& t, ip4_addr ip) {
    entry* victim = nullptr;
    for (auto& e : t.entries) {
        if (e.st == entry::state::empty) {
            victim = &e;
            break;
        }
        if (e.st == entry::state::stable && (!victim || e.age > victim->age)) victim = &e;
    }
    if (!victim) return nullptr;
    clear_entry(s, *victim, drop_reason::arp_unresolved);  // a stable entry holds nothing
    victim->ip = ip;
    return victim;
}

err send_arp(stack& s, netif* n, std::uint16_t op, const wire::mac_addr& eth_dst, const wire::mac_addr& target_mac,
             ip4_addr target_ip) {
    pbuf* p = pbuf_alloc(s, pbuf_layer::link, wire::arp_view::size, pbuf_type::pool);
    if (!p) return err::mem;
    wire::emit_arp(std::span<std::byte, wire::arp_view::size>(p->bytes(), wire::arp_view::size),
                   {op, n->eth->hwaddr, n->ip, target_mac, target_ip});
    const err e = ethernet_output(s, n, p, eth_dst, wire::k_ethertype_arp);
    if (e == err::ok) s.st().arp_xmit.inc();
    pbuf_free(p);
    return e;
}

/// Sends what waited on e (now stable) and releases it.
void flush_queue(stack& s, netif* n, entry& e) {
    for (std::uint8_t i = 0; i < e.queued; ++i) {
        // Nobody can be told of a failure now: count it (the driver counts its own).
        const err result = ethernet_output(s, n, e.queue[i], e.mac, wire::k_ethertype_ipv4);
        if (result == err::mem) s.st().drop(drop_reason::no_pbuf);
        if (result == err::if_) s.st().drop(drop_reason::ip_netif_down);
        pbuf_free(e.queue[i]);
        e.queue[i] = nullptr;
    }
    e.queued = 0;
}

/// Records ip → mac; creates the entry only if `create`. Sends held packets.
void update_entry(stack& s, netif* n, ip4_addr ip, const wire::mac_addr& mac, bool create) {
    if (ip.is_any() || ip.is_broadcast() || mac.is_group()) return;  // never cache these
    auto& t = table_of(n);
    entry* e = find_entry(t, ip);
    if (!e) {
        if (!create) return;
        e = new_entry(s, t, ip);
        if (!e) return;  // table full of resolving entries: learn it later
    }
    e->st = entry::state::stable;
    e->mac = mac;
    e->age = 0;
    flush_queue(s, n, *e);
}

/// The MAC for an IPv4 group address (RFC 1112 §6.4).
wire::mac_addr multicast_mac(ip4_addr ip) {
    const std::uint32_t h = ip.host();
    return {{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((h >> 16) & 0x7f), static_cast<std::uint8_t>(h >> 8),
             static_cast<std::uint8_t>(h)}};
}

}  // namespace

err etharp_output(netif* n, pbuf* p, ip4_addr next_hop) {
    stack& s = *n->owner;
    assert_core_context(s, "etharp_output");
    const bool subnet_broadcast = ip4_same_net(next_hop, n->ip, n->netmask) &&
                                  (next_hop.addr | n->netmask.addr) == 0xffffffffu;
    if (next_hop.is_broadcast() || subnet_broadcast)
        return ethernet_output(s, n, p, wire::mac_addr::broadcast(), wire::k_ethertype_ipv4);
    if (next_hop.is_multicast()) return ethernet_output(s, n, p, multicast_mac(next_hop), wire::k_ethertype_ipv4);
    if (!ip4_same_net(next_hop, n->ip, n->netmask)) {
        if (n->gw.is_any()) return err::rte;
        next_hop = n->gw;
    }
    auto& t = table_of(n);
    entry* e = find_entry(t, next_hop);
    if (e && e->st == entry::state::stable) return ethernet_output(s, n, p, e->mac, wire::k_ethertype_ipv4);
    if (!e) {
        e = new_entry(s, t, next_hop);
        if (!e) {
            s.st().drop(drop_reason::arp_table_full);
            return err::mem;
        }
        e->st = entry::state::pending;
        e->age = 0;
        (void)etharp_request(s, n, next_hop);  // a lost request is re-sent by the timer
    }
    if (e->queued == k_etharp_queue_len) {
        s.st().drop(drop_reason::arp_queue_full);
        return err::mem;
    }
    // Hold the packet: our own reference, or a copy when the caller's memory only
    // lives until this call returns.
    pbuf* held = p;
    if (pbuf_is_volatile(p)) {
        held = pbuf_clone(pbuf_layer::ip, p);
        if (!held) {
            s.st().drop(drop_reason::no_pbuf);
            return err::mem;
        }
    } else {
        pbuf_ref(p);
    }
    e->queue[e->queued++] = held;
    return err::ok;
}

void etharp_input(stack& s, pbuf* p, netif* n) {
    assert_core_context(s, "etharp_input");
    const auto packet = wire::arp_view::parse({p->bytes(), p->len});
    if (!packet) return s.st().drop(drop_reason::arp_malformed, p);
    const std::uint16_t op = packet->operation();
    if (op != wire::k_arp_op_request && op != wire::k_arp_op_reply) return s.st().drop(drop_reason::arp_unknown_op, p);
    s.st().arp_recv.inc();
    const ip4_addr sender_ip = packet->sender_ip(), target_ip = packet->target_ip();
    const wire::mac_addr sender_mac = packet->sender_mac();
    pbuf_free(p);
    const bool for_us = !n->ip.is_any() && target_ip == n->ip;
    // RFC 826's merge: refresh the sender's entry if we have one; create it only when
    // the packet was meant for us (we will talk back to that host).
    update_entry(s, n, sender_ip, sender_mac, for_us);
    if (for_us && op == wire::k_arp_op_request)
        (void)send_arp(s, n, wire::k_arp_op_reply, sender_mac, sender_mac, sender_ip);
}

err etharp_request(stack& s, netif* n, ip4_addr ip) {
    assert_core_context(s, "etharp_request");
    return send_arp(s, n, wire::k_arp_op_request, wire::mac_addr::broadcast(), wire::mac_addr{}, ip);
}

err etharp_gratuitous(stack& s, netif* n) { return etharp_request(s, n, n->ip); }

void etharp_tick(stack& s, netif* n) {
    assert_core_context(s, "etharp_tick");
    for (auto& e : table_of(n).entries) {
        if (e.st == entry::state::empty) continue;
        ++e.age;
        if (e.st == entry::state::pending) {
            if (e.age >= k_etharp_pending_ticks) {
                clear_entry(s, e, drop_reason::arp_unresolved);
            } else {
                (void)etharp_request(s, n, e.ip);
            }
        } else if (e.age >= k_etharp_max_age_ticks) {
            clear_entry(s, e, drop_reason::arp_unresolved);
        }
    }
}

err etharp_start(stack& s, netif* n) {
    assert_core_context(s, "etharp_start");
    if (!n || !n->eth || table_of(n).timer_id != 0) return err::arg;
    table_of(n).timer_id = s.add_cyclic_timer(
        k_etharp_tick,
        [](void* arg) {
            auto* self = static_cast<netif*>(arg);
            etharp_tick(*self->owner, self);
        },
        n);
    return err::ok;
}

void etharp_stop(stack& s, netif* n) {
    assert_core_context(s, "etharp_stop");
    auto& t = table_of(n);
    if (t.timer_id != 0) s.remove_timer(t.timer_id);
    t.timer_id = 0;
    for (auto& e : t.entries) clear_entry(s, e, drop_reason::arp_unresolved);
}

std::optional<wire::mac_addr> etharp_lookup(const netif* n, ip4_addr ip) {
    for (const auto& e : table_of(n).entries)
        if (e.st == entry::state::stable && e.ip == ip) return e.mac;
    return std::nullopt;
}

LWBENCH_NS_END
