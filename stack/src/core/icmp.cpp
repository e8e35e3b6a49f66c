// icmp.cpp — ICMP input: echo requests answered with echo replies; the rest counted.
#include "lwbench/icmp.hpp"

#include <cstring>

#include "lwbench/inet_chksum.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/wire/icmp.hpp"

LWBENCH_NS_BEGIN

void icmp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst) {
    assert_core_context(s, "icmp_input");
    auto& st = s.st();
    // The echo header must sit in the first pbuf: the reply is written there.
    const auto echo = wire::icmp_echo_view::parse({p->bytes(), p->len});
    if (!echo) return st.drop(drop_reason::icmp_too_short, p);
    if (inet_chksum_pbuf(p) != 0) return st.drop(drop_reason::icmp_bad_checksum, p);
    st.icmp_recv.inc();
    if (echo->type() != wire::k_icmp_echo_request) return st.drop(drop_reason::icmp_unsupported, p);
    if (dst != inp->ip) return st.drop(drop_reason::icmp_not_unicast, p);
    // Answer in place when the packet is ours alone; a pbuf shared with its sender (the
    // zero-copy loopback) or over someone else's memory is copied first (counted).
    if (p->ref.load(std::memory_order_relaxed) != 1 || p->type == pbuf_type::ref) {
        pbuf* copy = pbuf_clone(pbuf_layer::ip, p);
        pbuf_free(p);
        p = copy;
        if (!p) return st.drop(drop_reason::no_pbuf);
    }
    p->bytes()[0] = std::byte{wire::k_icmp_echo_reply};
    std::memset(p->bytes() + 2, 0, 2);
    const std::uint16_t sum = inet_chksum_pbuf(p);
    std::memcpy(p->bytes() + 2, &sum, 2);  // native order is wire order (RFC 1071)
    if (ip4_output_if(s, p, dst, src, 64, 0, wire::k_proto_icmp, inp) == err::ok) st.icmp_xmit.inc();
    pbuf_free(p);
}

LWBENCH_NS_END
