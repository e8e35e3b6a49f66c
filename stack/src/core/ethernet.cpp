// ethernet.cpp — Ethernet II frame input (demux to IPv4 and ARP) and output (header
// prepend, then the driver's link_output).
#include "lwbench/ethernet.hpp"

#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

void ethernet_input(stack& s, pbuf* p, netif* n) {
    assert_core_context(s, "ethernet_input");
    auto& st = s.st();
    const auto frame = wire::ethernet_view::parse({p->bytes(), p->len});
    if (!frame) return st.drop(drop_reason::eth_too_short, p);
    const wire::mac_addr dst = frame->dst();
    if (dst != n->eth->hwaddr && !dst.is_broadcast()) return st.drop(drop_reason::eth_not_for_us, p);
    const std::uint16_t type = frame->ethertype();
    if (type != wire::k_ethertype_ipv4 && type != wire::k_ethertype_arp)
        return st.drop(drop_reason::eth_unknown_type, p);
    st.eth_recv.inc();
    p = pbuf_free_header(p, wire::k_ethernet_hlen);
    if (!p) return st.drop(type == wire::k_ethertype_arp ? drop_reason::arp_malformed : drop_reason::ip_too_short);
    if (type == wire::k_ethertype_arp) return etharp_input(s, p, n);
    ip4_input(s, p, n);
}

err ethernet_output(stack& s, netif* n, pbuf* p, const wire::mac_addr& dst, std::uint16_t ethertype) {
    assert_core_context(s, "ethernet_output");
    if (!n->is_up()) return err::if_;
    pbuf* frame = p;
    if (!pbuf_add_header(p, wire::k_ethernet_hlen)) {
        // No headroom (a ref pbuf): chain a header pbuf in front.
        frame = pbuf_alloc(s, pbuf_layer::link, 0, pbuf_type::pool);
        if (!frame) return err::mem;
        if (!pbuf_add_header(frame, wire::k_ethernet_hlen)) {
            pbuf_free(frame);
            return err::buf;
        }
        pbuf_chain(frame, p);
    }
    wire::emit_ethernet(std::span<std::byte, wire::k_ethernet_hlen>(frame->bytes(), wire::k_ethernet_hlen),
                        {dst, n->eth->hwaddr, ethertype});
    const err e = n->eth->link_output(n, frame);
    if (e == err::ok) s.st().eth_xmit.inc();
    if (frame != p) {
        pbuf_free(frame);  // also drops the chain's reference on p
    } else {
        (void)pbuf_remove_header(p, wire::k_ethernet_hlen);  // the caller's packet as it was
    }
    return e;
}

LWBENCH_NS_END
