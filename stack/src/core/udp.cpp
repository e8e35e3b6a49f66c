// udp.cpp — UDP pcbs, bind/connect, output with checksum, input demultiplexing.
#include "lwbench/udp.hpp"

#include <cstring>
#include <new>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/detail/ports.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/wire/udp.hpp"

LWBENCH_NS_BEGIN

namespace {

bool port_taken(stack& s, const udp_pcb* self, ip4_addr addr, std::uint16_t port) {
    for (const udp_pcb* q = detail::stack_access::udp_pcbs(s); q; q = q->next)
        if (q != self && q->local_port == port && detail::addresses_overlap(q->local_ip, addr)) return true;
    return false;
}

std::uint16_t ephemeral_port(stack& s, const udp_pcb* self, ip4_addr addr) {
    return detail::ephemeral_port(s, [&](std::uint16_t port) { return port_taken(s, self, addr, port); });
}

bool is_registered(stack& s, const udp_pcb* pcb) {
    for (const udp_pcb* q = detail::stack_access::udp_pcbs(s); q; q = q->next)
        if (q == pcb) return true;
    return false;
}

}  // namespace

udp_pcb* udp_new(stack& s) {
    assert_core_context(s, "udp_new");
    auto* pcb = new (std::nothrow) udp_pcb{};
    if (pcb) pcb->owner = &s;
    return pcb;
}

void udp_remove(udp_pcb* pcb) {
    if (!pcb) return;
    stack& s = *pcb->owner;
    assert_core_context(s, "udp_remove");
    for (udp_pcb** pp = &detail::stack_access::udp_pcbs(s); *pp; pp = &(*pp)->next)
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    delete pcb;
}

err udp_bind(udp_pcb* pcb, ip4_addr addr, std::uint16_t port) {
    if (!pcb) return err::arg;
    stack& s = *pcb->owner;
    assert_core_context(s, "udp_bind");
    if (port == 0) {
        port = ephemeral_port(s, pcb, addr);
        if (port == 0) return err::use;
    } else if (port_taken(s, pcb, addr, port)) {
        return err::use;
    }
    pcb->local_ip = addr;
    pcb->local_port = port;
    if (!is_registered(s, pcb)) {
        pcb->next = detail::stack_access::udp_pcbs(s);
        detail::stack_access::udp_pcbs(s) = pcb;
    }
    return err::ok;
}

err udp_connect(udp_pcb* pcb, ip4_addr addr, std::uint16_t port) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "udp_connect");
    if (pcb->local_port == 0)
        if (const err e = udp_bind(pcb, pcb->local_ip, 0); e != err::ok) return e;
    pcb->remote_ip = addr;
    pcb->remote_port = port;
    pcb->flags |= udp_flags::connected;
    return err::ok;
}

void udp_disconnect(udp_pcb* pcb) {
    assert_core_context(*pcb->owner, "udp_disconnect");
    pcb->remote_ip = ip4_addr::any();
    pcb->remote_port = 0;
    pcb->flags &= static_cast<std::uint8_t>(~udp_flags::connected);
}

void udp_recv(udp_pcb* pcb, udp_recv_fn fn, void* arg) {
    assert_core_context(*pcb->owner, "udp_recv");
    pcb->recv = fn;
    pcb->recv_arg = arg;
}

void udp_setflags(udp_pcb* pcb, std::uint8_t flags) {
    pcb->flags = static_cast<std::uint8_t>((pcb->flags & udp_flags::connected) | (flags & ~udp_flags::connected));
}

err udp_send(udp_pcb* pcb, pbuf* p) {
    if (!pcb) return err::arg;
    if (!(pcb->flags & udp_flags::connected)) return err::conn;
    return udp_sendto(pcb, p, pcb->remote_ip, pcb->remote_port);
}

err udp_sendto(udp_pcb* pcb, pbuf* p, ip4_addr dst, std::uint16_t port) {
    if (!pcb || !p) return err::arg;
    stack& s = *pcb->owner;
    assert_core_context(s, "udp_sendto");
    netif* n = ip4_route(s, dst);
    if (!n) return err::rte;
    return udp_sendto_if(pcb, p, dst, port, n);
}

err udp_sendto_if(udp_pcb* pcb, pbuf* p, ip4_addr dst, std::uint16_t port, netif* n) {
    if (!pcb || !p || !n) return err::arg;
    stack& s = *pcb->owner;
    assert_core_context(s, "udp_sendto_if");
    if (dst.is_any() || port == 0) return err::val;
    if (std::size_t{p->tot_len} + k_udp_hlen + k_ip4_hlen > n->caps.mtu) return err::msgsize;
    if (pcb->local_port == 0)
        if (const err e = udp_bind(pcb, pcb->local_ip, 0); e != err::ok) return e;
    pbuf* q = p;
    if (!pbuf_add_header(p, k_udp_hlen)) {
        // p has no headroom (a ref pbuf over caller memory): chain a header pbuf, as
        // lwIP does, instead of copying the payload.
        q = pbuf_alloc(s, pbuf_layer::ip, 0, pbuf_type::pool);
        if (!q) return err::mem;
        (void)pbuf_add_header(q, k_udp_hlen);
        pbuf_chain(q, p);
    }
    wire::emit_udp(std::span<std::byte, 8>(q->bytes(), 8), {pcb->local_port, port, q->tot_len});
    const ip4_addr src = pcb->local_ip.is_any() ? n->ip : pcb->local_ip;
    if (!(pcb->flags & udp_flags::nochksum) && n->caps.chksum_gen_udp) {
        std::uint16_t c = inet_chksum_pseudo(q, wire::k_proto_udp, q->tot_len, src, dst);
        if (c == 0) c = 0xffff;  // 0 means "no checksum" in UDP over IPv4
        std::memcpy(q->bytes() + 6, &c, 2);
    }
    const err e = ip4_output_if(s, q, src, dst, pcb->ttl, pcb->tos, wire::k_proto_udp, n);
    if (q != p) {
        pbuf_free(q);  // also drops the chain's reference on p
    } else if (e != err::ok) {
        (void)pbuf_remove_header(p, k_udp_hlen);  // failed: the caller gets p back unchanged
    }
    if (e == err::ok) s.st().udp_xmit.inc();
    return e;
}

void udp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst) {
    auto& st = s.st();
    const auto drop = [&](drop_reason r) {
        st.drop(r);
        pbuf_free(p);
    };
    if (p->tot_len < wire::udp_view::size) return drop(drop_reason::udp_too_short);
    const auto hdr = wire::udp_view::parse({p->bytes(), p->len});
    if (!hdr) return drop(drop_reason::ip_header_split);
    const std::uint16_t len = hdr->length();
    if (len < wire::udp_view::size || len > p->tot_len) return drop(drop_reason::udp_bad_length);
    pbuf_realloc(p, len);
    if (hdr->checksum() != 0 && inp->caps.chksum_check_udp &&
        inet_chksum_pseudo(p, wire::k_proto_udp, len, src, dst) != 0)
        return drop(drop_reason::udp_bad_checksum);
    const std::uint16_t dport = hdr->dst_port(), sport = hdr->src_port();

    // Demux: a connected pcb whose remote end matches wins; then a pcb bound to the
    // destination address; then a wildcard-bound pcb.
    udp_pcb* best = nullptr;
    for (udp_pcb* q = detail::stack_access::udp_pcbs(s); q; q = q->next) {
        if (q->local_port != dport) continue;
        if (!q->local_ip.is_any() && q->local_ip != dst) continue;
        if (q->flags & udp_flags::connected) {
            if (q->remote_port == sport && (q->remote_ip.is_any() || q->remote_ip == src)) {
                best = q;
                break;
            }
            continue;
        }
        if (!best || (best->local_ip.is_any() && !q->local_ip.is_any())) best = q;
    }
    if (!best || !best->recv) return drop(drop_reason::udp_no_port);
    st.udp_recv.inc();
    if (p->tot_len == wire::udp_view::size) {
        (void)pbuf_remove_header(p, wire::udp_view::size);  // empty datagram: keep one empty pbuf
    } else {
        p = pbuf_free_header(p, wire::udp_view::size);
    }
    st.udp_delivered.inc();
    best->recv(best->recv_arg, best, p, src, sport);
}

LWBENCH_NS_END
