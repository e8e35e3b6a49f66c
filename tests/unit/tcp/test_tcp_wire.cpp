// test_tcp_wire.cpp — the TCP header view, the option walk and the emitter on fixed
// byte arrays, in both directions, plus emit -> parse round trips
// (stack/include/lwbench/wire/tcp.hpp).
#include <gtest/gtest.h>

#include <random>

#include "lwbench/wire/tcp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

using namespace lwbench::wire;

std::span<const std::byte> as_span(const bytes& b) { return {reinterpret_cast<const std::byte*>(b.data()), b.size()}; }

// A SYN 40000 -> 80, seq 0x01020304, window 65535, data offset 6, MSS 1460.
const bytes k_syn = hex("9c400050" "01020304" "00000000" "6002ffff" "abcd0000" "020405b4");
// An ACK+PSH with data 80 -> 40000, seq 0xfffffff0, ack 0x01020305, window 4096,
// data offset 5, urgent 0x0102, two payload bytes.
const bytes k_data = hex("00509c40" "fffffff0" "01020305" "50181000" "12340102" "6869");

TEST(WireTcp, ViewReadsKnownBytes) {
    const auto v = tcp_view::parse(as_span(k_syn));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->src_port(), 40000);
    EXPECT_EQ(v->dst_port(), 80);
    EXPECT_EQ(v->seq(), 0x01020304u);
    EXPECT_EQ(v->ack(), 0u);
    EXPECT_EQ(v->header_len(), 24u);
    EXPECT_EQ(v->flags(), tcp_flag::syn);
    EXPECT_TRUE(v->has(tcp_flag::syn));
    EXPECT_FALSE(v->has(tcp_flag::ack));
    EXPECT_EQ(v->window(), 0xffff);
    EXPECT_EQ(v->checksum(), 0xabcd);
    EXPECT_EQ(v->urgent(), 0);
    EXPECT_EQ(v->options().size(), 4u);

    const auto d = tcp_view::parse(as_span(k_data));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->seq(), 0xfffffff0u);
    EXPECT_EQ(d->ack(), 0x01020305u);
    EXPECT_EQ(d->header_len(), 20u);
    EXPECT_EQ(d->flags(), tcp_flag::ack | tcp_flag::psh);
    EXPECT_EQ(d->window(), 4096);
    EXPECT_EQ(d->urgent(), 0x0102);
    EXPECT_TRUE(d->options().empty());
}

TEST(WireTcp, CheckRejectsShortAndBadOffsets) {
    EXPECT_EQ(tcp_view::check(as_span(bytes(19))), tcp_check::too_short);
    EXPECT_FALSE(tcp_view::parse(as_span(bytes(19))));
    for (unsigned words = 0; words < 5; ++words) {  // data offset below 5 words
        bytes b = k_data;
        b[12] = static_cast<std::uint8_t>(words << 4);
        EXPECT_EQ(tcp_view::check(as_span(b)), tcp_check::bad_header_len) << words;
    }
    bytes b = k_syn;
    b.pop_back();  // announces 24 bytes, holds 23
    EXPECT_EQ(tcp_view::check(as_span(b)), tcp_check::bad_header_len);
    b = k_data;
    b[12] = 0xf0;  // 60 bytes announced, 22 held
    EXPECT_EQ(tcp_view::check(as_span(b)), tcp_check::bad_header_len);
    EXPECT_EQ(tcp_view::check(as_span(k_syn)), tcp_check::ok);
}

TEST(WireTcp, OptionsWalk) {
    const auto opt = [](std::string_view h) { return parse_tcp_options(as_span(hex(h))); };
    EXPECT_EQ(opt("020405b4")->mss, 1460);
    EXPECT_FALSE(opt("")->mss);
    // NOPs, window scale (3, len 3), SACK permitted (4, len 2), timestamps (8, len 10) skipped.
    EXPECT_EQ(opt("0101" "030307" "0402" "080a0000000100000002" "02040218")->mss, 0x0218);
    // End of list stops the walk: what follows is not read.
    EXPECT_FALSE(opt("00" "020405b4")->mss);
    EXPECT_TRUE(opt("00ffffff"));
    // Malformed: length 0 or 1, length past the end, no length byte, MSS of length 3.
    EXPECT_FALSE(opt("0300"));
    EXPECT_FALSE(opt("0301"));
    EXPECT_FALSE(opt("0806000000"));  // 6 announced, 5 held
    EXPECT_FALSE(opt("0101" "08"));
    EXPECT_FALSE(opt("020305" "00"));
    EXPECT_FALSE(opt("02040a"));  // MSS cut short
}

TEST(WireTcp, EmitWritesKnownBytes) {
    tcp_repr syn{40000, 80, 0x01020304, 0, tcp_flag::syn, 0xffff, 0, 1460};
    bytes out(syn.header_len(), 0xee);
    emit_tcp({reinterpret_cast<std::byte*>(out.data()), out.size()}, syn);
    bytes want = k_syn;
    put_be16(want, 16, 0);  // emit leaves the checksum to the caller
    EXPECT_EQ(out, want);

    tcp_repr data{80, 40000, 0xfffffff0u, 0x01020305, tcp_flag::ack | tcp_flag::psh, 4096, 0x0102, std::nullopt};
    out.assign(data.header_len(), 0xee);
    emit_tcp({reinterpret_cast<std::byte*>(out.data()), out.size()}, data);
    want.assign(k_data.begin(), k_data.begin() + 20);
    put_be16(want, 16, 0);
    EXPECT_EQ(out, want);
}

TEST(WireTcp, ParseGivesTheReprEmitWrote) {
    const auto v = tcp_view::parse(as_span(k_syn));
    ASSERT_TRUE(v);
    const auto r = tcp_repr_of(*v);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (tcp_repr{40000, 80, 0x01020304, 0, tcp_flag::syn, 0xffff, 0, 1460}));
    bytes bad = k_syn;
    bad[21] = 3;  // MSS length 3: malformed options
    EXPECT_FALSE(tcp_repr_of(*tcp_view::parse(as_span(bad))));
}

// Random reprs survive emit -> parse unchanged, and the emitted header is checked OK.
TEST(WireTcp, RoundTripRandom) {
    std::mt19937 rng(14);
    for (int i = 0; i < 1000; ++i) {
        tcp_repr r;
        r.src_port = static_cast<std::uint16_t>(rng());
        r.dst_port = static_cast<std::uint16_t>(rng());
        r.seq = rng();
        r.ack = rng();
        r.flags = static_cast<std::uint8_t>(rng());
        r.window = static_cast<std::uint16_t>(rng());
        r.urgent = static_cast<std::uint16_t>(rng());
        if (rng() & 1) r.mss = static_cast<std::uint16_t>(rng());
        bytes out(r.header_len());
        emit_tcp({reinterpret_cast<std::byte*>(out.data()), out.size()}, r);
        const auto v = tcp_view::parse(as_span(out));
        ASSERT_TRUE(v);
        EXPECT_EQ(v->header_len(), r.header_len());
        const auto back = tcp_repr_of(*v);
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, r);
    }
}

}  // namespace
}  // namespace lwbench::test
