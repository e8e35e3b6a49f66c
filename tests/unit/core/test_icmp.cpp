// test_icmp.cpp — the ICMP echo view and icmp_input (stack/src/core/icmp.cpp): an echo
// request answered with the same identifier, sequence and data, checksums verified by
// an independent implementation; malformed or unsupported messages dropped and counted.
#include <gtest/gtest.h>

#include "ethernet_support.hpp"
#include "lwbench/wire/icmp.hpp"

namespace lwbench::test {
namespace {

// Echo request, identifier 0x1234, sequence 1, data "abcd" (checksum filled in by ref_chksum).
const bytes k_echo_body = hex("0800" "0000" "1234" "0001" "61626364");

bytes icmp_message(std::uint8_t type, std::span<const std::uint8_t> body_after_type) {
    bytes b(1 + body_after_type.size());
    b[0] = type;
    std::copy(body_after_type.begin(), body_after_type.end(), b.begin() + 1);
    put_be16(b, 2, 0);
    put_be16(b, 2, ref_chksum(b));
    return b;
}

/// An IPv4 packet (20-byte header) around an ICMP message.
bytes ip_packet(ip4_addr src, ip4_addr dst, const bytes& icmp) {
    bytes b(20 + icmp.size());
    b[0] = 0x45;
    put_be16(b, 2, static_cast<std::uint16_t>(b.size()));
    b[8] = 64;
    b[9] = wire::k_proto_icmp;
    put_addr(b, 12, src);
    put_addr(b, 16, dst);
    std::copy(icmp.begin(), icmp.end(), b.begin() + 20);
    fix_ip_checksum(b);
    return b;
}

TEST(WireIcmp, ParsesFixedBytes) {
    const auto v = wire::icmp_echo_view::parse(std::as_bytes(std::span(k_echo_body)));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->type(), wire::k_icmp_echo_request);
    EXPECT_EQ(v->code(), 0);
    EXPECT_EQ(v->identifier(), 0x1234);
    EXPECT_EQ(v->sequence(), 1);
    EXPECT_FALSE(wire::icmp_echo_view::parse(std::as_bytes(std::span(k_echo_body)).first(7)).has_value());
}

class IcmpTest : public EthernetTest {
protected:
    void SetUp() override {
        EthernetTest::SetUp();
        // The peer asks for us first (as the kernel does before pinging): we learn its MAC.
        receive(ethernet_frame(wire::mac_addr::broadcast(), k_peer_mac, wire::k_ethertype_arp,
                               arp_packet(1, k_peer_mac, k_peer_ip, {}, k_our_ip)));
        eth.frames.clear();
    }
    void receive_icmp(ip4_addr dst, const bytes& icmp) {
        receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_ipv4, ip_packet(k_peer_ip, dst, icmp)));
    }
};

TEST_P(IcmpTest, AnswersAnEchoRequest) {
    const bytes request = icmp_message(8, bytes(k_echo_body.begin() + 1, k_echo_body.end()));
    receive_icmp(k_our_ip, request);
    ASSERT_EQ(eth.frames.size(), 1u);
    const bytes& f = eth.frames[0];
    ASSERT_EQ(f.size(), 14u + 20u + request.size());
    EXPECT_EQ(bytes(f.begin(), f.begin() + 14), hex("020000000001" "020000000002" "0800"));
    const bytes ip(f.begin() + 14, f.begin() + 34);
    EXPECT_EQ(ref_sum(ip), 0xffffu) << "IPv4 header checksum";
    EXPECT_EQ(ip[9], wire::k_proto_icmp);
    EXPECT_EQ(bytes(ip.begin() + 12, ip.begin() + 16), hex("c0000202"));  // from us
    EXPECT_EQ(bytes(ip.begin() + 16, ip.begin() + 20), hex("c0000201"));  // to the pinger
    const bytes reply(f.begin() + 34, f.end());
    EXPECT_EQ(ref_sum(reply), 0xffffu) << "ICMP checksum";
    EXPECT_EQ(reply[0], wire::k_icmp_echo_reply);
    EXPECT_EQ(bytes(reply.begin() + 4, reply.end()), bytes(request.begin() + 4, request.end()));  // id, seq, data
    EXPECT_EQ(s.st().icmp_recv.get(), 1u);
    EXPECT_EQ(s.st().icmp_xmit.get(), 1u);
    EXPECT_EQ(s.st().payload_copies.get(), 0u);  // answered in place
}

TEST_P(IcmpTest, MalformedAndUnsupportedMessagesAreDroppedAndCounted) {
    bytes bad = icmp_message(8, bytes(k_echo_body.begin() + 1, k_echo_body.end()));
    bad[9] ^= 0xff;  // payload changed after the checksum
    receive_icmp(k_our_ip, bad);
    EXPECT_EQ(dropped(drop_reason::icmp_bad_checksum), 1u);
    receive_icmp(k_our_ip, hex("0800f7ff"));  // 4 bytes: no echo header
    EXPECT_EQ(dropped(drop_reason::icmp_too_short), 1u);
    receive_icmp(k_our_ip, icmp_message(13, hex("00000012340001" "0000000000000000" "0000000000000000")));  // timestamp
    EXPECT_EQ(dropped(drop_reason::icmp_unsupported), 1u);
    receive_icmp(ip4_addr::from_octets(192, 0, 2, 255), icmp_message(8, hex("00000012340002")));
    EXPECT_EQ(dropped(drop_reason::icmp_not_unicast), 1u);
    EXPECT_TRUE(eth.frames.empty());
    EXPECT_EQ(s.st().dropped_total(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Modes, IcmpTest, ::testing::ValuesIn(threading_modes()), mode_param_name);

}  // namespace
}  // namespace lwbench::test
