// netif.cpp — netif list, routing, and the netifapi wrappers.
#include "lwbench/netif.hpp"

#include <algorithm>

#include "lwbench/detail/netifapi.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/dhcp.hpp"
#include "lwbench/ethernet.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

err netif_add(stack& s, netif* n) {
    assert_core_context(s, "netif_add");
    if (!n || !n->output || n->owner) return err::arg;
    n->owner = &s;
    n->poll_requested = false;
    detail::stack_access::netifs(s).push_back(n);
    return err::ok;
}

err netif_remove(stack& s, netif* n) {
    assert_core_context(s, "netif_remove");
    auto& ifs = detail::stack_access::netifs(s);
    const auto it = std::find(ifs.begin(), ifs.end(), n);
    if (!n || it == ifs.end()) return err::arg;
    dhcp_stop(s, n);  // its timer and its address go with the netif
    ifs.erase(it);
    detail::stack_access::forget_poll(s, n);
    n->flags &= static_cast<std::uint8_t>(~netif_flags::up);
    if (n->on_remove) n->on_remove(n);
    n->owner = nullptr;
    return err::ok;
}

bool netif_is_added(stack& s, const netif* n) {
    const auto& ifs = detail::stack_access::netifs(s);
    return std::find(ifs.begin(), ifs.end(), n) != ifs.end();
}

void netif_input(stack& s, pbuf* p, netif* inp) {
    assert_core_context(s, "netif_input");
    // Compare the pointer only: a netif removed while this packet waited in the
    // mailbox must not be dereferenced.
    if (!netif_is_added(s, inp)) {
        s.st().drop(drop_reason::netif_removed);
        pbuf_free(p);
        return;
    }
    if (inp->eth) {
        ethernet_input(s, p, inp);
    } else {
        ip4_input(s, p, inp);
    }
}

void netif_set_up(netif* n) { n->flags |= netif_flags::up | netif_flags::link_up; }
void netif_set_down(netif* n) { n->flags &= static_cast<std::uint8_t>(~netif_flags::up); }
void netif_set_addr(netif* n, ip4_addr ip, ip4_addr netmask, ip4_addr gw) {
    n->ip = ip;
    n->netmask = netmask;
    n->gw = gw;
}

netif* ip4_route(stack& s, ip4_addr dst) {
    for (netif* n : detail::stack_access::netifs(s))
        if (n->is_up() && !n->ip.is_any() && ip4_same_net(dst, n->ip, n->netmask)) return n;
    if (dst.is_loopback())
        for (netif* n : detail::stack_access::netifs(s))
            if (n->is_up() && n->ip.is_loopback()) return n;
    for (netif* n : detail::stack_access::netifs(s))
        if (n->is_up() && !n->gw.is_any()) return n;
    return nullptr;
}

bool ip4_is_local(stack& s, ip4_addr addr) {
    if (addr.is_broadcast()) return true;
    for (netif* n : detail::stack_access::netifs(s)) {
        if (!n->is_up()) continue;
        if (n->ip == addr) return true;
        const std::uint32_t bcast = n->ip.addr | ~n->netmask.addr;
        if (!n->netmask.is_any() && addr.addr == bcast && n->netmask.addr != 0xffffffffu) return true;
    }
    return false;
}

// ---- netifapi: any application thread, through the dispatcher ----------------------


err netifapi_add(stack& s, netif* n) {
    assert_not_core_context(s, "netifapi_add");
    return s.call([&] { return netif_add(s, n); });
}

err netifapi_remove(stack& s, netif* n) {
    assert_not_core_context(s, "netifapi_remove");
    const err e = s.call([&] { return netif_remove(s, n); });
    if (e != err::ok) return e;
    // Input messages posted before the removal may still name n: let them run (they
    // are dropped as netif_removed) before the caller may free n.
    return s.callback_wait([](void*) { return err::ok; }, nullptr);
}

err netifapi_set_up(stack& s, netif* n) { return detail::netifapi_on_own(s, n, "netifapi_set_up", netif_set_up); }

err netifapi_set_down(stack& s, netif* n) {
    return detail::netifapi_on_own(s, n, "netifapi_set_down", netif_set_down);
}

err netifapi_set_addr(stack& s, netif* n, ip4_addr ip, ip4_addr netmask, ip4_addr gw) {
    return detail::netifapi_on_own(s, n, "netifapi_set_addr",
                                   [&](netif* own) { netif_set_addr(own, ip, netmask, gw); });
}

result<netif_state> netifapi_get(stack& s, netif* n) {
    netif_state out;
    const err e = detail::netifapi_on_own(s, n, "netifapi_get", [&](netif* own) {
        out = {own->ip, own->netmask, own->gw, own->flags};
    });
    if (e != err::ok) return e;
    return out;
}

LWBENCH_NS_END
