// test_etharp.cpp — the ARP wire view (fixed bytes both ways) and the ARP cache
// (stack/src/core/etharp.cpp): replies, learning, gratuitous ARP, held packets and
// their bound, ageing by ticks, a full table, malformed packets.
#include <gtest/gtest.h>

#include "ethernet_support.hpp"
#include "lwbench/wire/arp.hpp"

namespace lwbench::test {
namespace {

// Who has 192.0.2.2? Tell 192.0.2.1 (02:00:00:00:00:01).
const bytes k_request = hex("0001" "0800" "06" "04" "0001" "020000000001" "c0000201" "000000000000" "c0000202");
// 192.0.2.2 is at 02:00:00:00:00:02.
const bytes k_reply = hex("0001" "0800" "06" "04" "0002" "020000000002" "c0000202" "020000000001" "c0000201");

TEST(WireArp, ParsesFixedBytes) {
    const auto v = wire::arp_view::parse(std::as_bytes(std::span(k_request)));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->operation(), wire::k_arp_op_request);
    EXPECT_EQ(v->sender_mac(), k_peer_mac);
    EXPECT_EQ(v->sender_ip(), k_peer_ip);
    EXPECT_TRUE(v->target_mac().is_zero());
    EXPECT_EQ(v->target_ip(), k_our_ip);
}

TEST(WireArp, EmitsFixedBytes) {
    bytes out(28);
    wire::emit_arp(std::as_writable_bytes(std::span(out)).first<28>(),
                   {wire::k_arp_op_reply, k_our_mac, k_our_ip, k_peer_mac, k_peer_ip});
    EXPECT_EQ(out, k_reply);
}

TEST(WireArp, ChecksLengthAndKind) {
    EXPECT_EQ(wire::arp_view::check(std::as_bytes(std::span(k_request)).first(27)), wire::arp_check::too_short);
    for (std::size_t field : {0u, 2u, 4u, 5u}) {  // hardware type, protocol type, the two lengths
        bytes b = k_request;
        b[field + (field < 4 ? 1 : 0)] ^= 0x40;
        EXPECT_EQ(wire::arp_view::check(std::as_bytes(std::span(b))), wire::arp_check::unsupported) << field;
    }
    EXPECT_EQ(wire::arp_view::check(std::as_bytes(std::span(k_request))), wire::arp_check::ok);
}

class EtharpTest : public EthernetTest {};

TEST_P(EtharpTest, AnswersARequestForUsAndLearnsTheSender) {
    receive(ethernet_frame(wire::mac_addr::broadcast(), k_peer_mac, wire::k_ethertype_arp, k_request));
    ASSERT_EQ(eth.frames.size(), 1u);
    EXPECT_EQ(eth.frames[0], ethernet_frame(k_peer_mac, k_our_mac, wire::k_ethertype_arp, k_reply));
    EXPECT_EQ(in_core(s, [&] { return etharp_lookup(&eth.nif, k_peer_ip); }), std::optional(k_peer_mac));
    EXPECT_EQ(s.st().arp_recv.get(), 1u);
    EXPECT_EQ(s.st().arp_xmit.get(), 1u);
}

TEST_P(EtharpTest, IgnoresRequestsForOthersWithoutLearning) {
    bytes other = arp_packet(1, k_peer_mac, k_peer_ip, {}, ip4_addr::from_octets(192, 0, 2, 77));
    receive(ethernet_frame(wire::mac_addr::broadcast(), k_peer_mac, wire::k_ethertype_arp, other));
    EXPECT_TRUE(eth.frames.empty());
    EXPECT_EQ(in_core(s, [&] { return etharp_lookup(&eth.nif, k_peer_ip); }), std::nullopt);
    EXPECT_EQ(s.st().dropped_total(), 0u);  // a valid packet, just not for us
}

TEST_P(EtharpTest, GratuitousArpAnnouncesOurAddress) {
    ASSERT_EQ(in_core(s, [&] { return etharp_gratuitous(s, &eth.nif); }), err::ok);
    ASSERT_EQ(eth.frames.size(), 1u);
    const bytes announce = hex("0001" "0800" "06" "04" "0001" "020000000002" "c0000202" "000000000000" "c0000202");
    EXPECT_EQ(eth.frames[0], ethernet_frame(wire::mac_addr::broadcast(), k_our_mac, wire::k_ethertype_arp, announce));
}

TEST_P(EtharpTest, HoldsPacketsWhileResolvingThenSendsThemInOrder) {
    ASSERT_EQ(send_ip(k_peer_ip), err::ok);
    ASSERT_EQ(send_ip(k_peer_ip), err::ok);
    // One request (the second packet joins the pending entry), no IP frame yet.
    ASSERT_EQ(eth.frames.size(), 1u);
    const bytes request = arp_packet(1, k_our_mac, k_our_ip, {}, k_peer_ip);
    EXPECT_EQ(eth.frames[0], ethernet_frame(wire::mac_addr::broadcast(), k_our_mac, wire::k_ethertype_arp, request));
    EXPECT_GT(s.pools().pool_in_use(), 0u);  // the held packets
    // The reply releases both, addressed to the peer.
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp,
                           arp_packet(2, k_peer_mac, k_peer_ip, k_our_mac, k_our_ip)));
    ASSERT_EQ(eth.frames.size(), 3u);
    for (std::size_t i = 1; i < 3; ++i) {
        const bytes& f = eth.frames[i];
        EXPECT_EQ(bytes(f.begin(), f.begin() + 14), hex("020000000001" "020000000002" "0800"));
        EXPECT_EQ(be16(f, 14 + 4), static_cast<std::uint16_t>(i));  // IP ident 1, 2: the order sent
    }
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
    // Resolved: the next packet goes straight out.
    ASSERT_EQ(send_ip(k_peer_ip), err::ok);
    EXPECT_EQ(eth.frames.size(), 4u);
}

TEST_P(EtharpTest, BoundsThePendingQueueAndExpiresUnansweredEntries) {
    for (std::size_t i = 0; i < k_etharp_queue_len; ++i) ASSERT_EQ(send_ip(k_peer_ip), err::ok);
    EXPECT_EQ(send_ip(k_peer_ip), err::mem);
    EXPECT_EQ(send_ip(k_peer_ip), err::mem);
    EXPECT_EQ(dropped(drop_reason::arp_queue_full), 2u);
    // Each tick re-sends the request until the entry gives up and drops what it held.
    in_core(s, [&] {
        for (std::uint16_t t = 0; t < k_etharp_pending_ticks; ++t) etharp_tick(s, &eth.nif);
    });
    EXPECT_EQ(eth.frames.size(), std::size_t{k_etharp_pending_ticks});  // 1 + (ticks - 1) requests
    EXPECT_EQ(dropped(drop_reason::arp_unresolved), k_etharp_queue_len);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
}

TEST_P(EtharpTest, StableEntriesExpireAfterTheirMaximumAge) {
    receive(ethernet_frame(wire::mac_addr::broadcast(), k_peer_mac, wire::k_ethertype_arp, k_request));
    in_core(s, [&] {
        for (std::uint16_t t = 0; t + 1 < k_etharp_max_age_ticks; ++t) etharp_tick(s, &eth.nif);
        EXPECT_TRUE(etharp_lookup(&eth.nif, k_peer_ip).has_value());
        etharp_tick(s, &eth.nif);
        EXPECT_FALSE(etharp_lookup(&eth.nif, k_peer_ip).has_value());
    });
}

TEST_P(EtharpTest, AFullTableOfResolvingEntriesDropsAndCounts) {
    for (std::uint8_t i = 0; i < k_etharp_table_size; ++i)
        ASSERT_EQ(send_ip(ip4_addr::from_octets(192, 0, 2, static_cast<std::uint8_t>(10 + i))), err::ok);
    EXPECT_EQ(send_ip(ip4_addr::from_octets(192, 0, 2, 200)), err::mem);
    EXPECT_EQ(dropped(drop_reason::arp_table_full), 1u);
    // Teardown (etharp_stop) frees the held packets, counted as unresolved.
    in_core(s, [&] { etharp_stop(s, &eth.nif); });
    EXPECT_EQ(dropped(drop_reason::arp_unresolved), k_etharp_table_size);
}

TEST_P(EtharpTest, OffNetDestinationsGoThroughTheGatewayOrFail) {
    const ip4_addr far = ip4_addr::from_octets(198, 51, 100, 1);
    EXPECT_EQ(send_ip(far), err::rte);  // no gateway
    in_core(s, [&] { netif_set_addr(&eth.nif, k_our_ip, k_netmask, k_peer_ip); });
    ASSERT_EQ(send_ip(far), err::ok);
    ASSERT_EQ(eth.frames.size(), 1u);
    EXPECT_EQ(eth.frames[0], ethernet_frame(wire::mac_addr::broadcast(), k_our_mac, wire::k_ethertype_arp,
                                            arp_packet(1, k_our_mac, k_our_ip, {}, k_peer_ip)));
}

TEST_P(EtharpTest, MalformedArpIsDroppedAndCounted) {
    const bytes truncated(k_request.begin(), k_request.begin() + 20);
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp, truncated));
    bytes token_ring = k_request;
    token_ring[1] = 6;
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp, token_ring));
    EXPECT_EQ(dropped(drop_reason::arp_malformed), 2u);
    bytes rarp = k_request;
    rarp[7] = 3;
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp, rarp));
    EXPECT_EQ(dropped(drop_reason::arp_unknown_op), 1u);
    EXPECT_TRUE(eth.frames.empty());
    EXPECT_EQ(s.st().arp_recv.get(), 0u);
}

TEST_P(EtharpTest, StartTwiceOrOnANonEthernetNetifIsRefused) {
    capture_netif plain;
    in_core(s, [&] {
        EXPECT_EQ(etharp_start(s, &eth.nif), err::arg);
        EXPECT_EQ(etharp_start(s, &plain.nif), err::arg);
    });
}

INSTANTIATE_TEST_SUITE_P(Modes, EtharpTest, ::testing::ValuesIn(threading_modes()), mode_param_name);

}  // namespace
}  // namespace lwbench::test
