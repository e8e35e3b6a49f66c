// test_wire.cpp — IPv4 and UDP header views and emitters on fixed byte arrays, in
// both directions, and emit -> parse round trips (stack/include/lwbench/wire/).
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "lwbench/wire/ipv4.hpp"
#include "lwbench/wire/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

using namespace lwbench::wire;

// The DNS query of test_inet_chksum.cpp (192.168.1.10:45678 -> 8.8.8.8:53).
const bytes k_dns = hex(
    "450000393c1d400040112cd5c0a8010a08080808"
    "b26e0035002591a5"
    "1a2b01000001000000000000076578616d706c6503636f6d0000010001");

std::span<const std::byte> as_span(const bytes& b, std::size_t off = 0, std::size_t n = SIZE_MAX) {
    return {reinterpret_cast<const std::byte*>(b.data()) + off, std::min(n, b.size() - off)};
}

// Every IPv4 accessor reads the known field value from known bytes.
TEST(WireIpv4, ViewReadsKnownBytes) {
    auto v = ipv4_view::parse(as_span(k_dns));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->version(), 4);
    EXPECT_EQ(v->header_len(), 20u);
    EXPECT_EQ(v->tos(), 0);
    EXPECT_EQ(v->total_len(), 57);
    EXPECT_EQ(v->ident(), 0x3c1d);
    EXPECT_FALSE(v->more_fragments());
    EXPECT_EQ(v->frag_offset(), 0);
    EXPECT_EQ(v->ttl(), 64);
    EXPECT_EQ(v->protocol(), 17);
    EXPECT_EQ(v->checksum(), 0x2cd5);
    EXPECT_EQ(v->src(), ip4_addr::from_octets(192, 168, 1, 10));
    EXPECT_EQ(v->dst(), ip4_addr::from_octets(8, 8, 8, 8));
    EXPECT_EQ(v->header().size(), 20u);
    EXPECT_EQ(v->src().to_string(), "192.168.1.10");
}

// Fragment fields: MF and a 13-bit offset (in 8-byte units), DF is not MF.
TEST(WireIpv4, ViewFragmentFields) {
    bytes b = k_dns;
    put_be16(b, 6, 0x2000 | 0x1abc);  // MF + offset 0x1abc
    auto v = ipv4_view::parse(as_span(b));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->more_fragments());
    EXPECT_EQ(v->frag_offset(), 0x1abc);
    put_be16(b, 6, 0x4000);  // DF only
    v = ipv4_view::parse(as_span(b));
    EXPECT_FALSE(v->more_fragments());
    EXPECT_EQ(v->frag_offset(), 0);
}

// check(): length before anything else, then version, then IHL bounds.
TEST(WireIpv4, CheckRejectsBadHeaders) {
    EXPECT_EQ(ipv4_view::check(as_span(k_dns)), ipv4_check::ok);
    EXPECT_EQ(ipv4_view::check(as_span(k_dns, 0, 19)), ipv4_check::too_short);
    EXPECT_EQ(ipv4_view::check({}), ipv4_check::too_short);
    EXPECT_EQ(ipv4_view::check(as_span(k_dns, 0, 20)), ipv4_check::ok);
    bytes b = k_dns;
    b[0] = 0x65;
    EXPECT_EQ(ipv4_view::check(as_span(b)), ipv4_check::bad_version);
    b[0] = 0x44;  // IHL 4 = 16 bytes
    EXPECT_EQ(ipv4_view::check(as_span(b)), ipv4_check::bad_ihl);
    b[0] = 0x4f;  // IHL 15 = 60 bytes > 57
    EXPECT_EQ(ipv4_view::check(as_span(b)), ipv4_check::bad_ihl);
    b[0] = 0x46;  // IHL 6 = 24 bytes: fine with 57 bytes, not with 23
    EXPECT_EQ(ipv4_view::check(as_span(b)), ipv4_check::ok);
    EXPECT_EQ(ipv4_view::parse(as_span(b))->header_len(), 24u);
    EXPECT_EQ(ipv4_view::check(as_span(b, 0, 23)), ipv4_check::bad_ihl);
    EXPECT_FALSE(ipv4_view::parse(as_span(b, 0, 23)));
}

// The emitter writes exactly the known header bytes (checksum included).
TEST(WireIpv4, EmitProducesKnownBytes) {
    ipv4_repr r;
    r.src = ip4_addr::from_octets(192, 168, 1, 10);
    r.dst = ip4_addr::from_octets(8, 8, 8, 8);
    r.protocol = 17;
    r.ttl = 64;
    r.ident = 0x3c1d;
    r.payload_len = 37;
    r.dont_fragment = true;
    std::array<std::byte, 20> out{};
    emit_ipv4(out, r, true);
    const bytes got(reinterpret_cast<const std::uint8_t*>(out.data()), reinterpret_cast<const std::uint8_t*>(out.data()) + 20);
    EXPECT_EQ(got, bytes(k_dns.begin(), k_dns.begin() + 20));
    // Without checksum (offload) the field is 0 and nothing else changes.
    emit_ipv4(out, r, false);
    bytes want(k_dns.begin(), k_dns.begin() + 20);
    put_be16(want, 10, 0);
    EXPECT_EQ(std::memcmp(out.data(), want.data(), 20), 0);
}

// The UDP view reads the known fields; the emitter writes them back (checksum 0).
TEST(WireUdp, ViewAndEmitKnownBytes) {
    auto v = udp_view::parse(as_span(k_dns, 20));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->src_port(), 45678);
    EXPECT_EQ(v->dst_port(), 53);
    EXPECT_EQ(v->length(), 37);
    EXPECT_EQ(v->checksum(), 0x91a5);
    EXPECT_FALSE(udp_view::parse(as_span(k_dns, 20, 7)));
    EXPECT_TRUE(udp_view::parse(as_span(k_dns, 20, 8)));

    std::array<std::byte, 8> out;
    out.fill(std::byte{0xee});
    emit_udp(out, {45678, 53, 37});
    bytes want(k_dns.begin() + 20, k_dns.begin() + 28);
    put_be16(want, 6, 0);
    EXPECT_EQ(std::memcmp(out.data(), want.data(), 8), 0);
}

// emit -> parse gives back every field, for random headers.
TEST(WireIpv4, RoundTrip) {
    std::mt19937 rng(99);
    for (int i = 0; i < 500; ++i) {
        ipv4_repr r;
        r.src = ip4_addr{static_cast<std::uint32_t>(rng())};
        r.dst = ip4_addr{static_cast<std::uint32_t>(rng())};
        r.protocol = static_cast<std::uint8_t>(rng());
        r.ttl = static_cast<std::uint8_t>(rng());
        r.tos = static_cast<std::uint8_t>(rng());
        r.ident = static_cast<std::uint16_t>(rng());
        r.payload_len = static_cast<std::uint16_t>(rng() % (65535 - 20));
        r.dont_fragment = rng() & 1;
        std::array<std::byte, 20> out{};
        emit_ipv4(out, r, true);
        auto v = ipv4_view::parse(out);
        ASSERT_TRUE(v);
        EXPECT_EQ(v->version(), 4);
        EXPECT_EQ(v->header_len(), 20u);
        EXPECT_EQ(v->src(), r.src);
        EXPECT_EQ(v->dst(), r.dst);
        EXPECT_EQ(v->protocol(), r.protocol);
        EXPECT_EQ(v->ttl(), r.ttl);
        EXPECT_EQ(v->tos(), r.tos);
        EXPECT_EQ(v->ident(), r.ident);
        EXPECT_EQ(v->total_len(), r.payload_len + 20);
        EXPECT_EQ(v->frag_offset(), 0);
        EXPECT_FALSE(v->more_fragments());
        EXPECT_EQ((std::to_integer<unsigned>(out[6]) & 0x40) != 0, r.dont_fragment);
        const bytes hb(reinterpret_cast<const std::uint8_t*>(out.data()), reinterpret_cast<const std::uint8_t*>(out.data()) + 20);
        EXPECT_EQ(ref_chksum(hb), 0) << "emitted header does not verify";
    }
}

TEST(WireUdp, RoundTrip) {
    std::mt19937 rng(5);
    for (int i = 0; i < 200; ++i) {
        const udp_repr r{static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng()),
                         static_cast<std::uint16_t>(rng())};
        std::array<std::byte, 8> out{};
        emit_udp(out, r);
        auto v = udp_view::parse(out);
        ASSERT_TRUE(v);
        EXPECT_EQ(v->src_port(), r.src_port);
        EXPECT_EQ(v->dst_port(), r.dst_port);
        EXPECT_EQ(v->length(), r.length);
        EXPECT_EQ(v->checksum(), 0);
    }
}

}  // namespace
}  // namespace lwbench::test
