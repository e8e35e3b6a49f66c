// test_ethernet.cpp — the Ethernet II wire view (fixed bytes both ways) and frame
// input/output (stack/src/core/ethernet.cpp): demux, malformed frames dropped and
// counted, the header prepended and removed again.
#include <gtest/gtest.h>

#include "ethernet_support.hpp"
#include "lwbench/wire/ethernet.hpp"

namespace lwbench::test {
namespace {

// An ARP request header from 02:00:00:00:00:01 to everyone.
const bytes k_header = hex("ffffffffffff" "020000000001" "0806");

TEST(WireEthernet, ParsesFixedBytes) {
    const auto b = std::as_bytes(std::span(k_header));
    const auto v = wire::ethernet_view::parse(b);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->dst().is_broadcast());
    EXPECT_EQ(v->src(), k_peer_mac);
    EXPECT_EQ(v->ethertype(), wire::k_ethertype_arp);
}

TEST(WireEthernet, EmitsFixedBytesAndRoundTrips) {
    bytes out(14);
    auto span = std::as_writable_bytes(std::span(out));
    wire::emit_ethernet(span.first<14>(), {wire::mac_addr::broadcast(), k_peer_mac, wire::k_ethertype_arp});
    EXPECT_EQ(out, k_header);
    const auto v = wire::ethernet_view::parse(std::as_bytes(std::span(out)));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->src(), k_peer_mac);
}

TEST(WireEthernet, RefusesShortBuffers) {
    EXPECT_FALSE(wire::ethernet_view::parse(std::as_bytes(std::span(k_header)).first(13)).has_value());
}

TEST(WireEthernet, MacAddressKinds) {
    EXPECT_TRUE(wire::mac_addr::broadcast().is_group());
    EXPECT_TRUE((wire::mac_addr{{0x33, 0x33, 0, 0, 0, 1}}.is_group()));
    EXPECT_FALSE(k_our_mac.is_group());
    EXPECT_TRUE(wire::mac_addr{}.is_zero());
}

TEST_P(EthernetTest, MalformedFramesAreDroppedAndCounted) {
    receive(hex("ffffffffffff0200000000"));  // 11 bytes
    EXPECT_EQ(dropped(drop_reason::eth_too_short), 1u);
    const bytes arp = arp_packet(1, k_peer_mac, k_peer_ip, {}, k_our_ip);
    receive(ethernet_frame({{0x02, 9, 9, 9, 9, 9}}, k_peer_mac, wire::k_ethertype_arp, arp));
    EXPECT_EQ(dropped(drop_reason::eth_not_for_us), 1u);
    receive(ethernet_frame({{0x33, 0x33, 0, 0, 0, 1}}, k_peer_mac, 0x86dd, pattern(40)));  // IPv6 multicast
    EXPECT_EQ(dropped(drop_reason::eth_not_for_us), 2u);
    receive(ethernet_frame(k_our_mac, k_peer_mac, 0x86dd, pattern(40)));
    EXPECT_EQ(dropped(drop_reason::eth_unknown_type), 1u);
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp, {}));  // header only
    EXPECT_EQ(dropped(drop_reason::arp_malformed), 1u);
    EXPECT_EQ(s.st().eth_recv.get(), 1u);  // only the last one passed the Ethernet checks
    EXPECT_TRUE(eth.frames.empty());
    EXPECT_EQ(s.st().dropped_total(), 5u);
}

TEST_P(EthernetTest, Ipv4FramesReachIp4Input) {
    // An IPv4/UDP packet to a port nobody listens on: counted by UDP (udp_no_port),
    // which proves the frame went through ethernet_input to ip4_input and udp_input.
    pkt_spec spec;
    spec.src = k_peer_ip;
    spec.dst = k_our_ip;
    spec.dport = 9;
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_ipv4, build_udp(spec, pattern(10))));
    EXPECT_EQ(s.st().eth_recv.get(), 1u);
    EXPECT_EQ(s.st().ip_recv.get(), 1u);
    EXPECT_EQ(dropped(drop_reason::udp_no_port), 1u);
}

TEST_P(EthernetTest, OutputPrependsTheHeaderAndRestoresThePacket) {
    const bytes payload = pattern(20);
    in_core(s, [&] {
        pbuf* p = make_pbuf(s, payload, pbuf_layer::link);
        ASSERT_EQ(ethernet_output(s, &eth.nif, p, k_peer_mac, wire::k_ethertype_ipv4), err::ok);
        EXPECT_EQ(chain_bytes(p), payload);  // the caller's packet as it was
        pbuf_free(p);
        // A ref pbuf has no headroom: a header pbuf is chained in front.
        pbuf* r = pbuf_alloc_ref(s, payload.data(), payload.size(), true);
        ASSERT_EQ(ethernet_output(s, &eth.nif, r, k_peer_mac, wire::k_ethertype_ipv4), err::ok);
        EXPECT_EQ(chain_bytes(r), payload);
        pbuf_free(r);
    });
    const bytes want = ethernet_frame(k_peer_mac, k_our_mac, wire::k_ethertype_ipv4, payload);
    ASSERT_EQ(eth.frames.size(), 2u);
    EXPECT_EQ(eth.frames[0], want);
    EXPECT_EQ(eth.frames[1], want);
    EXPECT_EQ(s.st().eth_xmit.get(), 2u);
}

TEST_P(EthernetTest, OutputOnADownNetifFails) {
    in_core(s, [&] {
        netif_set_down(&eth.nif);
        pbuf* p = make_pbuf(s, pattern(4), pbuf_layer::link);
        EXPECT_EQ(ethernet_output(s, &eth.nif, p, k_peer_mac, wire::k_ethertype_ipv4), err::if_);
        pbuf_free(p);
    });
    EXPECT_TRUE(eth.frames.empty());
}

TEST_P(EthernetTest, BroadcastAndMulticastNeedNoResolution) {
    ASSERT_EQ(send_ip(ip4_addr::from_octets(192, 0, 2, 255)), err::ok);
    ASSERT_EQ(send_ip(ip4_addr::from_octets(255, 255, 255, 255)), err::ok);
    ASSERT_EQ(send_ip(ip4_addr::from_octets(224, 1, 2, 3)), err::ok);
    ASSERT_EQ(eth.frames.size(), 3u);
    EXPECT_EQ(bytes(eth.frames[0].begin(), eth.frames[0].begin() + 6), hex("ffffffffffff"));
    EXPECT_EQ(bytes(eth.frames[1].begin(), eth.frames[1].begin() + 6), hex("ffffffffffff"));
    EXPECT_EQ(bytes(eth.frames[2].begin(), eth.frames[2].begin() + 6), hex("01005e010203"));
}

INSTANTIATE_TEST_SUITE_P(Modes, EthernetTest, ::testing::ValuesIn(threading_modes()), mode_param_name);

}  // namespace
}  // namespace lwbench::test
