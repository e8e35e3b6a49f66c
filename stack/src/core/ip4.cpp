// ip4.cpp — IPv4 output (header prepend) and input (validation, demux to UDP, TCP and ICMP).
#include "lwbench/ip4.hpp"

#include <algorithm>
#include <cstring>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/icmp.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcp.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"
#include "lwbench/wire/icmp.hpp"
#include "lwbench/wire/ipv4.hpp"
#include "lwbench/wire/tcp.hpp"

LWBENCH_NS_BEGIN

void wire::emit_ipv4(std::span<std::byte, 20> out, const ipv4_repr& r, bool checksum) noexcept {
    std::byte* p = out.data();
    p[0] = std::byte{0x45};  // version 4, IHL 5
    p[1] = std::byte{r.tos};
    store_be16(p + 2, static_cast<std::uint16_t>(20 + r.payload_len));
    store_be16(p + 4, r.ident);
    store_be16(p + 6, r.dont_fragment ? 0x4000 : 0);
    p[8] = std::byte{r.ttl};
    p[9] = std::byte{r.protocol};
    store_be16(p + 10, 0);
    store_addr(p + 12, r.src);
    store_addr(p + 16, r.dst);
    if (checksum) {
        const std::uint16_t c = inet_chksum(p, 20);
        std::memcpy(p + 10, &c, 2);  // native order is wire order for the checksum (RFC 1071)
    }
}

err ip4_output_if(stack& s, pbuf* p, ip4_addr src, ip4_addr dst, std::uint8_t ttl, std::uint8_t tos,
                  std::uint8_t proto, netif* n) {
    assert_core_context(s, "ip4_output_if");
    if (!p) return err::arg;
    if (!n) return err::rte;
    if (!n->is_up()) return err::if_;
    if (std::size_t{p->tot_len} + k_ip4_hlen > n->caps.mtu) return err::msgsize;
    pbuf* q = p;
    if (!pbuf_add_header(p, k_ip4_hlen)) {
        // No headroom (a ref pbuf): chain a header pbuf in front.
        q = pbuf_alloc(s, pbuf_layer::ip, 0, pbuf_type::pool);
        if (!q) return err::mem;
        if (!pbuf_add_header(q, k_ip4_hlen)) {
            pbuf_free(q);
            return err::buf;
        }
        pbuf_chain(q, p);
    }
    wire::ipv4_repr r;
    r.src = src.is_any() ? n->ip : src;
    r.dst = dst;
    r.protocol = proto;
    r.ttl = ttl;
    r.tos = tos;
    r.ident = detail::stack_access::next_ip_ident(s);
    r.payload_len = static_cast<std::uint16_t>(q->tot_len - k_ip4_hlen);
    wire::emit_ipv4(std::span<std::byte, 20>(q->bytes(), 20), r, n->caps.chksum_gen_ip);
    s.st().ip_xmit.inc();
    const err e = n->output(n, q, dst);
    if (q != p) {
        pbuf_free(q);  // also drops the chain's reference on p
    } else if (e != err::ok) {
        // The caller still owns p and may retry (e.g. after err::mem): give it back as
        // it was. No driver keeps a reference on a packet it refused.
        (void)pbuf_remove_header(p, k_ip4_hlen);
    }
    return e;
}

void ip4_input(stack& s, pbuf* p, netif* inp) {
    assert_core_context(s, "ip4_input");
    auto& st = s.st();
    const auto drop = [&](drop_reason r) {
        st.drop(r);
        pbuf_free(p);
    };
    // Compare the pointer only: a netif removed while this packet waited in the
    // mailbox must not be dereferenced.
    if (!netif_is_added(s, inp)) return drop(drop_reason::netif_removed);
    if (!inp->is_up()) return drop(drop_reason::ip_netif_down);
    if (p->tot_len < 20) return drop(drop_reason::ip_too_short);
    const std::span<const std::byte> first(p->bytes(), p->len);
    switch (wire::ipv4_view::check(first)) {
        case wire::ipv4_check::ok: break;
        case wire::ipv4_check::too_short: return drop(drop_reason::ip_header_split);  // tot_len >= 20 but split
        case wire::ipv4_check::bad_version: return drop(drop_reason::ip_bad_version);
        case wire::ipv4_check::bad_ihl: {
            // An IHL of 20..60 bytes that the packet holds, but the first pbuf does not,
            // is a header split across pbufs, not a bad IHL.
            const std::size_t ihl = (std::to_integer<unsigned>(first[0]) & 0x0f) * 4u;
            return drop(ihl >= 20 && ihl <= p->tot_len ? drop_reason::ip_header_split : drop_reason::ip_bad_ihl);
        }
    }
    const auto ip = *wire::ipv4_view::parse(first);
    const std::size_t hlen = ip.header_len();
    if (ip.total_len() < hlen || ip.total_len() > p->tot_len) return drop(drop_reason::ip_bad_length);
    if (inp->caps.chksum_check_ip && inet_chksum(first.data(), hlen) != 0) return drop(drop_reason::ip_bad_checksum);
    if (ip.more_fragments() || ip.frag_offset() != 0) return drop(drop_reason::ip_fragment);
    if (!ip4_is_local(s, ip.dst())) return drop(drop_reason::ip_not_for_us);
    const ip4_addr src = ip.src(), dst = ip.dst();
    const std::uint8_t proto = ip.protocol();
    pbuf_realloc(p, ip.total_len());  // drop link padding beyond the IP packet
    st.ip_recv.inc();
    if (proto != wire::k_proto_udp && proto != wire::k_proto_tcp && proto != wire::k_proto_icmp)
        return drop(drop_reason::ip_unknown_proto);
    if (p->tot_len == hlen) {
        (void)pbuf_remove_header(p, hlen);  // empty IP payload: keep one (empty) pbuf
    } else {
        p = pbuf_free_header(p, hlen);
    }
    switch (proto) {
        case wire::k_proto_udp: return udp_input(s, p, inp, src, dst);
        case wire::k_proto_tcp: return tcp_input(s, p, inp, src, dst);
        case wire::k_proto_icmp: return icmp_input(s, p, inp, src, dst);
    }
}

LWBENCH_NS_END
