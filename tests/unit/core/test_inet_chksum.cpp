// test_inet_chksum.cpp — RFC 1071 checksum: known vectors, real packets, each compiled
// variant of the vector loop against the byte-at-a-time reference (every length and
// alignment, carries at the lanes' limits), chains split at odd offsets, and the UDP
// pseudo header (stack/src/core/inet_chksum.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "lwbench/inet_chksum.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/tcpip.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

// Real packets, written byte by byte as Linux emits them (DF set, TTL 64, 20-byte
// header, UDP checksum on). Their checksums were computed independently with Python:
//
//   def csum(b):                                  # RFC 1071, big-endian words
//       if len(b) % 2: b += b'\0'
//       s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
//       while s >> 16: s = (s & 0xffff) + (s >> 16)
//       return ~s & 0xffff
//   ip_csum  = csum(ip_header_with_checksum_field_0)
//   udp_csum = csum(src + dst + b'\0\x11' + udp_len_be16 + udp_with_checksum_field_0)
//
// and cross-checked with tshark 4.0 (ip.checksum.status == udp.checksum.status == Good).
//
// DNS query "example.com" A (id 0x1a2b, RD), 192.168.1.10:45678 -> 8.8.8.8:53, IP ident
// 0x3c1d: IP checksum 0x2cd5, UDP checksum 0x91a5, 57 bytes.
const char* const k_dns_hex =
    "450000393c1d400040112cd5c0a8010a08080808"  // IPv4
    "b26e0035002591a5"                          // UDP
    "1a2b01000001000000000000076578616d706c6503636f6d0000010001";
// NTPv4 client request (LI 0, VN 4, mode 3; poll 6, precision -32; transmit timestamp
// e9a1c2d3.4f5e6d7c), 10.0.0.5:123 -> 162.159.200.1:123, IP ident 0x8d4f:
// IP checksum 0x38ac, UDP checksum 0xf771, 76 bytes.
const char* const k_ntp_hex =
    "4500004c8d4f4000401138ac0a000005a29fc801"
    "007b007b0038f771"
    "23000620000000000000000000000000000000000000000000000000000000000000000000000000"
    "e9a1c2d34f5e6d7c";

struct real_packet {
    const char* name;
    const char* hex;
    std::uint16_t ip_csum, udp_csum;
};
const real_packet k_real[] = {{"dns", k_dns_hex, 0x2cd5, 0x91a5}, {"ntp", k_ntp_hex, 0x38ac, 0xf771}};

class Chksum : public ::testing::Test {
protected:
    void TearDown() override { expect_no_leaks(s); }
    /// A chain of stable ref pbufs over buf, cut at the given offsets.
    pbuf* split(const std::uint8_t* buf, std::size_t len, const std::vector<std::size_t>& cuts) {
        pbuf* head = nullptr;
        std::size_t from = 0;
        auto add = [&](std::size_t to) {
            pbuf* q = pbuf_alloc_ref(s, buf + from, to - from, true);
            if (!q) return;
            if (head) {
                pbuf_cat(head, q);
            } else {
                head = q;
            }
            from = to;
        };
        for (std::size_t c : cuts) add(c);
        add(len);
        return head;
    }
    stack s;
};

/// Bytes of a native-order 16-bit value as stored in memory.
bytes mem(std::uint16_t v) {
    bytes b(2);
    std::memcpy(b.data(), &v, 2);
    return b;
}

// RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2; the checksum is 220d.
TEST_F(Chksum, Rfc1071NumericalExample) {
    const std::uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(mem(chksum_sum(d, sizeof d)), (bytes{0xdd, 0xf2}));
    EXPECT_EQ(mem(inet_chksum(d, sizeof d)), (bytes{0x22, 0x0d}));
    EXPECT_EQ(mem(inet_chksum_bytewise(d, sizeof d)), (bytes{0x22, 0x0d}));
    EXPECT_EQ(ref_chksum(d), 0x220d);  // the test's own reference agrees
}

// The IPv4 header example of Wikipedia's "Internet checksum" article: checksum b861.
TEST_F(Chksum, WikipediaIpv4HeaderExample) {
    bytes h = hex("450000730000400040110000c0a80001c0a800c7");
    EXPECT_EQ(wire16(inet_chksum(h.data(), h.size())), 0xb861);
    put_be16(h, 10, 0xb861);
    EXPECT_EQ(inet_chksum(h.data(), h.size()), 0);  // a correct header verifies to 0
}

// Real IPv4 header checksums: computing over the header (field zeroed) gives the
// known value, verifying the header as received gives 0.
TEST_F(Chksum, RealPacketsIpHeader) {
    for (const auto& rp : k_real) {
        SCOPED_TRACE(rp.name);
        bytes b = hex(rp.hex);
        EXPECT_EQ(inet_chksum(b.data(), 20), 0);
        EXPECT_EQ(be16(b, 10), rp.ip_csum);
        put_be16(b, 10, 0);
        EXPECT_EQ(wire16(inet_chksum(b.data(), 20)), rp.ip_csum);
        EXPECT_EQ(wire16(inet_chksum_bytewise(b.data(), 20)), rp.ip_csum);
    }
}

// Real UDP checksums through inet_chksum_pseudo, contiguous and split at odd offsets.
TEST_F(Chksum, RealPacketsUdpPseudoHeader) {
    for (const auto& rp : k_real) {
        SCOPED_TRACE(rp.name);
        bytes b = hex(rp.hex);
        const ip4_addr src{[&] { std::uint32_t a; std::memcpy(&a, &b[12], 4); return a; }()};
        const ip4_addr dst{[&] { std::uint32_t a; std::memcpy(&a, &b[16], 4); return a; }()};
        const auto ulen = static_cast<std::uint16_t>(b.size() - 20);
        ASSERT_EQ(be16(b, 24), ulen);
        // As received: verifies to 0.
        pbuf* p = split(b.data() + 20, ulen, {});
        EXPECT_EQ(inet_chksum_pseudo(p, 17, ulen, src, dst), 0);
        pbuf_free(p);
        // As sent: field 0 -> the known checksum, also when split at odd offsets.
        put_be16(b, 26, 0);
        p = split(b.data() + 20, ulen, {});
        EXPECT_EQ(wire16(inet_chksum_pseudo(p, 17, ulen, src, dst)), rp.udp_csum);
        pbuf_free(p);
        p = split(b.data() + 20, ulen, {3, 8, 21});
        EXPECT_EQ(wire16(inet_chksum_pseudo(p, 17, ulen, src, dst)), rp.udp_csum);
        pbuf_free(p);
    }
}

// The dispatched loop (inet_chksum) equals the byte-at-a-time reference for every
// length 0..300 at every start alignment 0..7 (random bytes, fixed seed).
TEST_F(Chksum, WordLoopMatchesBytewiseAllLengthsAndAlignments) {
    std::mt19937 rng(12345);
    alignas(64) std::uint8_t buf[320];
    int mismatches = 0;
    for (int round = 0; round < 4; ++round) {
        for (auto& c : buf) c = static_cast<std::uint8_t>(rng());
        for (std::size_t align = 0; align < 8; ++align)
            for (std::size_t len = 0; len <= 300; ++len) {
                const std::uint8_t* d = buf + align;
                const std::uint16_t w = inet_chksum(d, len);
                const std::uint16_t b = inet_chksum_bytewise(d, len);
                if (w != b || wire16(w) != ref_chksum({d, len})) {
                    if (++mismatches < 10)
                        ADD_FAILURE() << "len " << len << " align " << align << ": word " << std::hex << wire16(w)
                                      << " bytewise " << wire16(b) << " reference " << ref_chksum({d, len});
                }
            }
    }
    EXPECT_EQ(mismatches, 0);
}

// Carry folding: all-0xff and all-0x00 buffers up to 64 KiB (the 64-bit accumulator
// and the final fold).
TEST_F(Chksum, FoldingExtremes) {
    std::vector<std::uint8_t> ff(65535, 0xff), zero(65535, 0);
    for (std::size_t len : {1u, 2u, 3u, 31u, 32u, 33u, 1500u, 65534u, 65535u}) {
        SCOPED_TRACE(len);
        EXPECT_EQ(wire16(inet_chksum(ff.data(), len)), ref_chksum({ff.data(), len}));
        EXPECT_EQ(inet_chksum(ff.data(), len), inet_chksum_bytewise(ff.data(), len));
        EXPECT_EQ(inet_chksum(zero.data(), len), 0xffff);
    }
}

// A 101-byte buffer split into 2 pbufs at every point, and 3 pbufs at every pair of
// points (odd offsets included), checksums like the flat buffer — also when the
// buffer itself starts at an odd address.
TEST_F(Chksum, ChainsSplitAtEveryOffset) {
    constexpr std::size_t n = 101;
    alignas(8) std::uint8_t storage[n + 1];
    std::mt19937 rng(7);
    for (auto& c : storage) c = static_cast<std::uint8_t>(rng());
    int bad = 0;
    for (std::size_t start : {0u, 1u}) {
        const std::uint8_t* buf = storage + start;
        const std::uint16_t flat = inet_chksum(buf, n);
        ASSERT_EQ(wire16(flat), ref_chksum({buf, n}));
        for (std::size_t i = 0; i <= n; ++i) {
            pbuf* p = split(buf, n, {i});
            ASSERT_NE(p, nullptr);
            if (inet_chksum_pbuf(p) != flat && ++bad < 10) ADD_FAILURE() << "2 parts at " << i;
            pbuf_free(p);
            for (std::size_t j = i; j <= n; ++j) {
                p = split(buf, n, {i, j});
                ASSERT_NE(p, nullptr);
                if (inet_chksum_pbuf(p) != flat && ++bad < 10)
                    ADD_FAILURE() << "3 parts at " << i << "," << j << " start " << start;
                pbuf_free(p);
            }
        }
    }
    EXPECT_EQ(bad, 0);
}

// inet_chksum_pseudo over a chain split anywhere equals the flat computation with
// the pseudo header written out (src, dst, 0, proto, length).
TEST_F(Chksum, PseudoHeaderMatchesExplicitComputation) {
    const bytes data = pattern(77, 5);
    const ip4_addr src = ip4_addr::from_octets(10, 1, 2, 3), dst = ip4_addr::from_octets(192, 168, 200, 254);
    bytes flat = {10, 1, 2, 3, 192, 168, 200, 254, 0, 17, 0, 77};
    flat.insert(flat.end(), data.begin(), data.end());
    const std::uint16_t want = ref_chksum(flat);
    for (std::size_t i = 0; i <= data.size(); ++i) {
        pbuf* p = split(data.data(), data.size(), {i});
        EXPECT_EQ(wire16(inet_chksum_pseudo(p, 17, 77, src, dst)), want) << "split at " << i;
        pbuf_free(p);
    }
    // Different protocol and length fields give a different sum.
    pbuf* p = split(data.data(), data.size(), {});
    EXPECT_NE(wire16(inet_chksum_pseudo(p, 6, 77, src, dst)), want);
    pbuf_free(p);
}

// ---- each compiled variant of the summing loop ----------------------------------------

std::string variant_name(detail::chksum_variant v) {
    return v == detail::chksum_variant::portable ? "portable" : "avx2";
}

class ChksumVariant : public ::testing::TestWithParam<detail::chksum_variant> {
protected:
    void SetUp() override {
        if (!detail::chksum_variant_available(GetParam()))
            GTEST_SKIP() << "this CPU (or build) cannot run the " << variant_name(GetParam()) << " variant";
    }
    /// The variant's checksum (complemented sum), comparable with inet_chksum_bytewise.
    std::uint16_t chksum(const std::uint8_t* d, std::size_t len) const {
        return static_cast<std::uint16_t>(~detail::chksum_sum_variant(GetParam(), d, len));
    }
};

// Random bytes, every length 0..2200 (the 64-byte vector blocks, the 32-byte and word
// tails, odd lengths) at every start alignment 0..63: equal to the reference.
TEST_P(ChksumVariant, MatchesBytewiseEveryLengthAndAlignment) {
    std::mt19937 rng(4242);
    std::vector<std::uint8_t> buf(2200 + 64);
    for (auto& c : buf) c = static_cast<std::uint8_t>(rng());
    int mismatches = 0;
    for (std::size_t align = 0; align < 64; ++align)
        for (std::size_t len = 0; len <= 2200; ++len) {
            const std::uint8_t* d = buf.data() + align;
            const std::uint16_t got = chksum(d, len), want = inet_chksum_bytewise(d, len);
            if (got != want && ++mismatches < 10)
                ADD_FAILURE() << "len " << len << " align " << align << ": " << std::hex << got << " != " << want;
        }
    EXPECT_EQ(mismatches, 0);
}

// Carries at their limits: all-0xff bytes (every 16-bit word 0xffff) fill the 32-bit
// lanes fastest; lengths around one accumulation round (8192 blocks of 64 bytes) and
// beyond several rounds, odd ones included. (Both references sum in 64 bits.)
TEST_P(ChksumVariant, LaneCarriesAtTheirLimits) {
    constexpr std::size_t round = 8192 * 64;
    std::vector<std::uint8_t> ff(4 * round + 128, 0xff);
    for (std::size_t len : {round - 1, round, round + 1, round + 63, round + 64, round + 65, 2 * round + 3,
                            4 * round + 127}) {
        SCOPED_TRACE(len);
        EXPECT_EQ(chksum(ff.data(), len), inet_chksum_bytewise(ff.data(), len));
        EXPECT_EQ(wire16(chksum(ff.data(), len)), ref_chksum({ff.data(), len}));
        EXPECT_EQ(chksum(ff.data() + 1, len), inet_chksum_bytewise(ff.data() + 1, len));
    }
    // Mixed words whose sum wraps the 16 bits many times.
    std::vector<std::uint8_t> mixed(round + 77);
    std::mt19937 rng(99);
    for (auto& c : mixed) c = static_cast<std::uint8_t>(0xf0u | (rng() & 0x0fu));
    EXPECT_EQ(chksum(mixed.data(), mixed.size()), inet_chksum_bytewise(mixed.data(), mixed.size()));
}

INSTANTIATE_TEST_SUITE_P(Variants, ChksumVariant,
                         ::testing::Values(detail::chksum_variant::portable, detail::chksum_variant::avx2),
                         [](const auto& param_info) { return variant_name(param_info.param); });

// Segment-sized chains (1500 bytes, odd start) cut at random points (odd offsets and
// parts long enough for the vector loop) checksum like the flat buffer.
TEST_F(Chksum, RandomChainsOfSegmentSize) {
    constexpr std::size_t n = 1500;
    std::vector<std::uint8_t> storage(n + 1);
    std::mt19937 rng(31337);
    for (auto& c : storage) c = static_cast<std::uint8_t>(rng());
    const std::uint8_t* buf = storage.data() + 1;
    const std::uint16_t flat = inet_chksum(buf, n);
    ASSERT_EQ(flat, inet_chksum_bytewise(buf, n));
    int bad = 0;
    for (int trial = 0; trial < 300; ++trial) {
        std::vector<std::size_t> cuts(1 + rng() % 4);
        for (auto& c : cuts) c = rng() % (n + 1);
        std::sort(cuts.begin(), cuts.end());
        pbuf* head = split(buf, n, cuts);
        ASSERT_NE(head, nullptr);
        if (inet_chksum_pbuf(head) != flat && ++bad < 10) ADD_FAILURE() << "trial " << trial;
        pbuf_free(head);
    }
    EXPECT_EQ(bad, 0);
}

}  // namespace
}  // namespace lwbench::test
