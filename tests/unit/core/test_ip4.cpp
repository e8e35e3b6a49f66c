// test_ip4.cpp — IPv4 input validation (every malformed field dropped with exactly
// one, the right, drop counter; nothing leaked) and IPv4 output through a capturing
// netif (stack/src/core/ip4.cpp).
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <tuple>

#include "lwbench/ip4.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

constexpr std::uint16_t k_port = 7;
const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

using drop_counts = std::array<std::uint64_t, k_drop_reasons>;
drop_counts drops(const stack& s) {
    drop_counts d{};
    for (std::size_t i = 0; i < k_drop_reasons; ++i) d[i] = s.st().dropped(static_cast<drop_reason>(i));
    return d;
}
/// Names the counters that moved between a and b (for failure messages).
std::string moved(const drop_counts& a, const drop_counts& b) {
    std::string out;
    for (std::size_t i = 0; i < k_drop_reasons; ++i)
        if (a[i] != b[i])
            out += std::string(drop_reason_name(static_cast<drop_reason>(i))) + "+" + std::to_string(b[i] - a[i]) + " ";
    return out.empty() ? "none" : out;
}

/// Stack + loopback (127.0.0.1/8) + a pcb bound to *:7 that records what it gets.
/// Inline input in either threading mode: stack::input processes before returning.
class Ip4InputBase : public ::testing::Test {
protected:
    explicit Ip4InputBase(threading_mode m) : s(inline_config(m)) {}
    void SetUp() override {
        ASSERT_EQ(lo.status(), err::ok);
        in_core(s, [&] {
            pcb = udp_new(s);
            ASSERT_EQ(udp_bind(pcb, ip4_addr::any(), k_port), err::ok);
            udp_recv(pcb, &recorder::on_recv, &rx);
        });
    }
    void TearDown() override {
        in_core(s, [&] { udp_remove(pcb); });
        expect_no_leaks(s);
    }
    /// A valid packet to the bound pcb with a 32-byte payload.
    static bytes valid(std::size_t payload = 32) {
        pkt_spec sp;
        sp.dport = k_port;
        return build_udp(sp, pattern(payload));
    }
    /// Injects `b` as a single pool pbuf through stack::input (inline: synchronous).
    void inject(const bytes& b) {
        pbuf* p = make_pbuf(s, b);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(s.input(p, &lo.nif()), err::ok);
    }
    /// Injects b and expects it dropped with `reason` and no other counter.
    void expect_dropped(const bytes& b, drop_reason reason) {
        const auto before = drops(s);
        const auto delivered = s.st().udp_delivered.get();
        inject(b);
        const auto after = drops(s);
        EXPECT_EQ(after[static_cast<std::size_t>(reason)] - before[static_cast<std::size_t>(reason)], 1u)
            << "expected " << drop_reason_name(reason) << ", moved: " << moved(before, after);
        EXPECT_EQ(s.st().dropped_total(), [&] {
            std::uint64_t t = 0;
            for (auto v : before) t += v;
            return t + 1;
        }()) << "moved: " << moved(before, after);
        EXPECT_EQ(s.st().udp_delivered.get(), delivered);
        EXPECT_EQ(rx.count.load(), 0u);
        EXPECT_EQ(s.pools().pool_in_use(), 0u);
    }

    stack s;
    loopback_netif lo{s};
    udp_pcb* pcb = nullptr;
    recorder rx;
};

class Ip4Input : public Ip4InputBase, public ::testing::WithParamInterface<threading_mode> {
protected:
    Ip4Input() : Ip4InputBase(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(Modes, Ip4Input, ::testing::ValuesIn(threading_modes()), mode_param_name);

// ---- the table of malformed packets --------------------------------------------------

struct malformed_case {
    const char* name;
    std::function<void(bytes&)> mutate;
    drop_reason reason;
};

void set_ip_field16(bytes& b, std::size_t off, std::uint16_t v) {
    put_be16(b, off, v);
    fix_ip_checksum(b);
}

const malformed_case k_cases[] = {
    {"empty", [](bytes& b) { b.clear(); }, drop_reason::ip_too_short},
    {"truncated_19_bytes", [](bytes& b) { b.resize(19); }, drop_reason::ip_too_short},
    {"version_6", [](bytes& b) { b[0] = 0x65; fix_ip_checksum(b); }, drop_reason::ip_bad_version},
    {"version_0", [](bytes& b) { b[0] = 0x05; }, drop_reason::ip_bad_version},
    {"ihl_4", [](bytes& b) { b[0] = 0x44; }, drop_reason::ip_bad_ihl},
    {"ihl_0", [](bytes& b) { b[0] = 0x40; }, drop_reason::ip_bad_ihl},
    {"ihl_beyond_buffer", [](bytes& b) { b[0] = 0x4f; b.resize(40); }, drop_reason::ip_bad_ihl},
    {"total_len_larger_than_buffer", [](bytes& b) { set_ip_field16(b, 2, static_cast<std::uint16_t>(b.size() + 1)); },
     drop_reason::ip_bad_length},
    {"total_len_below_header", [](bytes& b) { set_ip_field16(b, 2, 19); }, drop_reason::ip_bad_length},
    {"total_len_zero", [](bytes& b) { set_ip_field16(b, 2, 0); }, drop_reason::ip_bad_length},
    {"bad_ip_checksum", [](bytes& b) { b[10] ^= 0x01; }, drop_reason::ip_bad_checksum},
    {"bad_ip_checksum_ttl_changed", [](bytes& b) { b[8] = 63; }, drop_reason::ip_bad_checksum},
    {"fragment_more_fragments", [](bytes& b) { set_ip_field16(b, 6, 0x2000); }, drop_reason::ip_fragment},
    {"fragment_offset", [](bytes& b) { set_ip_field16(b, 6, 0x0001); }, drop_reason::ip_fragment},
    {"fragment_df_and_offset", [](bytes& b) { set_ip_field16(b, 6, 0x4000 | 0x00b9); }, drop_reason::ip_fragment},
    {"unknown_protocol_gre", [](bytes& b) { b[9] = 47; fix_ip_checksum(b); }, drop_reason::ip_unknown_proto},  // TCP (6) and ICMP (1) are known now
    {"unknown_protocol_experimental", [](bytes& b) { b[9] = 253; fix_ip_checksum(b); }, drop_reason::ip_unknown_proto},
    {"not_for_us",
     [](bytes& b) {
         put_addr(b, 16, ip4_addr::from_octets(10, 9, 9, 9));
         fix_udp_checksum(b);
         fix_ip_checksum(b);
     },
     drop_reason::ip_not_for_us},
    {"not_for_us_other_loopback_address",
     [](bytes& b) {
         put_addr(b, 16, ip4_addr::from_octets(127, 0, 0, 2));
         fix_udp_checksum(b);
         fix_ip_checksum(b);
     },
     drop_reason::ip_not_for_us},
    // Total length cuts into the UDP packet: the UDP length now exceeds the IP payload.
    {"total_len_cuts_udp", [](bytes& b) { set_ip_field16(b, 2, 20 + 8 + 10); b.resize(20 + 8 + 10); },
     drop_reason::udp_bad_length},
    // Same, with link padding after the IP packet: the UDP length must be checked
    // against the IP payload, not against what the buffer holds.
    {"total_len_cuts_udp_padding_follows", [](bytes& b) { set_ip_field16(b, 2, 20 + 8 + 10); },
     drop_reason::udp_bad_length},
    {"udp_shorter_than_header", [](bytes& b) { set_ip_field16(b, 2, 24); b.resize(24); }, drop_reason::udp_too_short},
    {"udp_no_payload_bytes", [](bytes& b) { set_ip_field16(b, 2, 20); b.resize(20); }, drop_reason::udp_too_short},
    {"udp_length_below_8", [](bytes& b) { put_be16(b, 24, 7); }, drop_reason::udp_bad_length},
    {"udp_length_zero", [](bytes& b) { put_be16(b, 24, 0); }, drop_reason::udp_bad_length},
    {"udp_length_beyond_ip_payload", [](bytes& b) { put_be16(b, 24, static_cast<std::uint16_t>(b.size() - 20 + 1)); },
     drop_reason::udp_bad_length},
    {"bad_udp_checksum_payload_flipped", [](bytes& b) { b[30] ^= 0x40; }, drop_reason::udp_bad_checksum},
    {"bad_udp_checksum_field", [](bytes& b) { put_be16(b, 26, static_cast<std::uint16_t>(be16(b, 26) + 1)); },
     drop_reason::udp_bad_checksum},
    // The pseudo header covers the source address: a changed source fails the UDP check.
    {"bad_udp_checksum_source_changed",
     [](bytes& b) { put_addr(b, 12, ip4_addr::from_octets(127, 0, 0, 9)); fix_ip_checksum(b); },
     drop_reason::udp_bad_checksum},
    {"no_listener", [](bytes& b) { put_be16(b, 22, 9); fix_udp_checksum(b); }, drop_reason::udp_no_port},
};

using malformed_param = std::tuple<threading_mode, malformed_case>;
class Ip4Malformed : public Ip4InputBase, public ::testing::WithParamInterface<malformed_param> {
protected:
    Ip4Malformed() : Ip4InputBase(std::get<0>(GetParam())) {}
    const malformed_case& the_case() const { return std::get<1>(GetParam()); }
};

// Each malformed packet is dropped with exactly its counter; nothing leaks or crashes.
TEST_P(Ip4Malformed, DroppedWithExactlyOneCounter) {
    bytes b = valid();
    the_case().mutate(b);
    expect_dropped(b, the_case().reason);
}

std::string case_name(const ::testing::TestParamInfo<malformed_param>& c) {
    return std::string(to_string(std::get<0>(c.param))) + "_" + std::get<1>(c.param).name;
}
INSTANTIATE_TEST_SUITE_P(Cases, Ip4Malformed,
                         ::testing::Combine(::testing::ValuesIn(threading_modes()), ::testing::ValuesIn(k_cases)),
                         case_name);

// ---- valid variants --------------------------------------------------------------------

// The unmodified packet of the table is delivered (the table's drops are the mutations).
TEST_P(Ip4Input, ValidPacketDelivered) {
    const bytes b = valid();
    inject(b);
    ASSERT_EQ(rx.count.load(), 1u);
    const auto got = rx.snapshot();
    EXPECT_EQ(got[0].data, pattern(32));
    EXPECT_EQ(got[0].src, k_lo);
    EXPECT_EQ(got[0].sport, 40000);
    EXPECT_EQ(s.st().dropped_total(), 0u);
    EXPECT_EQ(s.st().ip_recv.get(), 1u);
    EXPECT_EQ(s.st().udp_recv.get(), 1u);
    EXPECT_EQ(s.st().udp_delivered.get(), 1u);
}

// Link padding after the IP total length is trimmed: the datagram is delivered intact.
TEST_P(Ip4Input, LinkPaddingTrimmedAndDelivered) {
    bytes b = valid(17);
    for (int i = 0; i < 6; ++i) b.push_back(0xa5);
    inject(b);
    ASSERT_EQ(rx.count.load(), 1u);
    EXPECT_EQ(rx.snapshot()[0].data, pattern(17));
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

// UDP padding inside the IP packet (UDP length < IP payload) is trimmed as well.
TEST_P(Ip4Input, UdpLengthShorterThanIpPayloadTrimmed) {
    bytes b = valid(20);
    put_be16(b, 24, 8 + 12);  // UDP says 12 payload bytes, IP carries 20
    fix_udp_checksum(b);      // computed over the 20 UDP bytes the header announces
    inject(b);
    ASSERT_EQ(rx.count.load(), 1u);
    const bytes all = pattern(20);
    const bytes want(all.begin(), all.begin() + 12);
    EXPECT_EQ(rx.snapshot()[0].data, want);
}

// A zero UDP checksum means "none" over IPv4: accepted without verification.
TEST_P(Ip4Input, ZeroUdpChecksumAccepted) {
    bytes b = valid();
    put_be16(b, 26, 0);
    inject(b);
    EXPECT_EQ(rx.count.load(), 1u);
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

// An empty datagram is delivered as an empty pbuf.
TEST_P(Ip4Input, EmptyDatagramDelivered) {
    inject(valid(0));
    ASSERT_EQ(rx.count.load(), 1u);
    EXPECT_TRUE(rx.snapshot()[0].data.empty());
}

// IP options (IHL 6) are skipped: the payload is delivered intact.
TEST_P(Ip4Input, HeaderWithOptionsDelivered) {
    bytes b = valid(10);
    b.insert(b.begin() + 20, {0x01, 0x01, 0x01, 0x00});  // NOP NOP NOP EOL
    b[0] = 0x46;
    put_be16(b, 2, static_cast<std::uint16_t>(b.size()));
    fix_ip_checksum(b);  // the UDP checksum does not cover IP options: unchanged
    inject(b);
    ASSERT_EQ(rx.count.load(), 1u);
    EXPECT_EQ(rx.snapshot()[0].data, pattern(10));
}

// The subnet broadcast (127.255.255.255) is ours.
TEST_P(Ip4Input, SubnetBroadcastDelivered) {
    pkt_spec sp;
    sp.dport = k_port;
    sp.dst = ip4_addr::from_octets(127, 255, 255, 255);
    inject(build_udp(sp, pattern(5)));
    EXPECT_EQ(rx.count.load(), 1u);
}

// With checksum verification off on the netif (offload), bad checksums pass.
TEST_P(Ip4Input, ChecksumCheckOffloadedAcceptsBadChecksums) {
    in_core(s, [&] {
        lo.nif().caps.chksum_check_ip = false;
        lo.nif().caps.chksum_check_udp = false;
    });
    bytes b = valid();
    b[10] ^= 0xff;
    b[26] ^= 0xff;
    inject(b);
    EXPECT_EQ(rx.count.load(), 1u);
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

// A header split over two pbufs is not reassembled: dropped as ip_header_split.
TEST_P(Ip4Input, HeaderSplitOverPbufsDropped) {
    const bytes b = valid();
    pbuf* p = make_pbuf(s, {b.data(), 10});
    pbuf_cat(p, make_pbuf(s, {b.data() + 10, b.size() - 10}));
    EXPECT_EQ(s.input(p, &lo.nif()), err::ok);
    EXPECT_EQ(s.st().dropped(drop_reason::ip_header_split), 1u);
    EXPECT_EQ(s.st().dropped_total(), 1u);
}

// An options header (IHL 6) that the buffer holds but whose first pbuf ends after the
// fixed 20 bytes is a split header, like the 20-byte case above — not a bad IHL.
// Regression test: this case used to be counted as ip_bad_ihl.
TEST_P(Ip4Input, OptionsHeaderSplitOverPbufsCountedAsSplit) {
    bytes b = valid(10);
    b.insert(b.begin() + 20, {0x01, 0x01, 0x01, 0x00});
    b[0] = 0x46;
    put_be16(b, 2, static_cast<std::uint16_t>(b.size()));
    fix_ip_checksum(b);
    pbuf* p = make_pbuf(s, {b.data(), 20});
    pbuf_cat(p, make_pbuf(s, {b.data() + 20, b.size() - 20}));
    EXPECT_EQ(s.input(p, &lo.nif()), err::ok);
    EXPECT_EQ(s.st().dropped(drop_reason::ip_header_split), 1u);
    EXPECT_EQ(s.st().dropped(drop_reason::ip_bad_ihl), 0u);
    EXPECT_EQ(s.st().dropped_total(), 1u);
}

// Header in the first pbuf, payload in later ones: delivered, content intact.
TEST_P(Ip4Input, PayloadInLaterPbufsDelivered) {
    const bytes b = valid(300);
    pbuf* p = make_pbuf(s, {b.data(), 28});
    pbuf_cat(p, make_pbuf(s, {b.data() + 28, 101}));
    pbuf_cat(p, make_pbuf(s, {b.data() + 129, b.size() - 129}));
    EXPECT_EQ(s.input(p, &lo.nif()), err::ok);
    ASSERT_EQ(rx.count.load(), 1u);
    EXPECT_EQ(rx.snapshot()[0].data, pattern(300));
}

// A packet arriving on a netif that is down is dropped as ip_netif_down.
TEST_P(Ip4Input, NetifDownDrops) {
    in_core(s, [&] { netif_set_down(&lo.nif()); });
    expect_dropped(valid(), drop_reason::ip_netif_down);
    in_core(s, [&] { netif_set_up(&lo.nif()); });
}

// A pcb bound to the port but without a recv callback counts as no listener.
TEST_P(Ip4Input, BoundPcbWithoutCallbackIsNoPort) {
    in_core(s, [&] { udp_recv(pcb, nullptr, nullptr); });
    expect_dropped(valid(), drop_reason::udp_no_port);
}

// ---- IPv4 output ----------------------------------------------------------------------

class Ip4Output : public ::testing::Test {
protected:
    void SetUp() override {
        in_core(s, [&] {
            ASSERT_EQ(netif_add(s, &cap.nif), err::ok);
            netif_set_up(&cap.nif);
        });
    }
    void TearDown() override {
        in_core(s, [&] { netif_remove(s, &cap.nif); });
        expect_no_leaks(s);
    }
    stack s;
    capture_netif cap;
};

// ip4_output_if prepends exactly the header an independent builder produces.
TEST_F(Ip4Output, HeaderBytesExact) {
    // A "UDP packet" without checksum, so the builder's UDP part is just bytes.
    pkt_spec sp;
    sp.src = ip4_addr::from_octets(10, 0, 0, 1);
    sp.dst = ip4_addr::from_octets(10, 0, 0, 77);
    sp.udp_checksum = false;
    sp.ttl = 33;
    const bytes want = build_udp(sp, pattern(50));
    pbuf* p = make_pbuf(s, {want.data() + 20, want.size() - 20}, pbuf_layer::ip);
    in_core(s, [&] {
        EXPECT_EQ(ip4_output_if(s, p, ip4_addr::any(), sp.dst, 33, 0, 17, &cap.nif), err::ok);
    });
    pbuf_free(p);
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(cap.sent[0], want);  // ident 1: the stack's first packet
    EXPECT_EQ(s.st().ip_xmit.get(), 1u);
}

// No headroom (a ref pbuf): a header pbuf is chained in front; the result is the same.
TEST_F(Ip4Output, RefPbufGetsChainedHeader) {
    const bytes payload = pattern(40);
    pbuf* p = pbuf_alloc_ref(s, payload.data(), payload.size(), true);
    in_core(s, [&] {
        EXPECT_EQ(ip4_output_if(s, p, ip4_addr::any(), ip4_addr::from_octets(10, 0, 0, 9), 64, 0, 99, &cap.nif),
                  err::ok);
    });
    EXPECT_EQ(p->ref.load(), 1);  // the chain's reference was dropped again
    EXPECT_EQ(p->tot_len, 40);
    pbuf_free(p);
    ASSERT_EQ(cap.sent.size(), 1u);
    ASSERT_EQ(cap.sent[0].size(), 60u);
    EXPECT_EQ(cap.sent[0][9], 99);
    EXPECT_EQ(ref_chksum({cap.sent[0].data(), 20}), 0);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), cap.sent[0].begin() + 20));
}

// Errors: no netif -> rte; netif down -> if_; too big for the MTU -> msgsize; nothing sent.
TEST_F(Ip4Output, ErrorsSendNothing) {
    pbuf* p = pbuf_alloc(s, pbuf_layer::ip, 1481, pbuf_type::pool);  // 1481 + 20 > 1500
    pbuf* ok = pbuf_alloc(s, pbuf_layer::ip, 1480, pbuf_type::pool);
    const ip4_addr d = ip4_addr::from_octets(10, 0, 0, 2);
    in_core(s, [&] {
        EXPECT_EQ(ip4_output_if(s, p, {}, d, 64, 0, 17, nullptr), err::rte);
        EXPECT_EQ(ip4_output_if(s, p, {}, d, 64, 0, 17, &cap.nif), err::msgsize);
        EXPECT_EQ(p->tot_len, 1481);  // no header added
        netif_set_down(&cap.nif);
        EXPECT_EQ(ip4_output_if(s, ok, {}, d, 64, 0, 17, &cap.nif), err::if_);
        netif_set_up(&cap.nif);
        EXPECT_EQ(ip4_output_if(s, ok, {}, d, 64, 0, 17, &cap.nif), err::ok);
    });
    EXPECT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(cap.sent[0].size(), 1500u);
    pbuf_free(p);
    pbuf_free(ok);
}

// Checksum generation off on the netif (offload): the header checksum field is 0.
TEST_F(Ip4Output, ChecksumOffloadLeavesFieldZero) {
    cap.nif.caps.chksum_gen_ip = false;
    pbuf* p = pbuf_alloc(s, pbuf_layer::ip, 8, pbuf_type::pool);
    std::memset(p->payload, 0, 8);
    in_core(s, [&] { EXPECT_EQ(ip4_output_if(s, p, {}, ip4_addr::from_octets(10, 0, 0, 2), 64, 0, 17, &cap.nif), err::ok); });
    pbuf_free(p);
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(be16(cap.sent[0], 10), 0);
}

// Successive packets get successive IP identifiers.
TEST_F(Ip4Output, IdentIncrements) {
    in_core(s, [&] {
        for (int i = 0; i < 3; ++i) {
            pbuf* p = pbuf_alloc(s, pbuf_layer::ip, 0, pbuf_type::pool);
            EXPECT_EQ(ip4_output_if(s, p, {}, ip4_addr::from_octets(10, 0, 0, 2), 64, 0, 17, &cap.nif), err::ok);
            pbuf_free(p);
        }
    });
    ASSERT_EQ(cap.sent.size(), 3u);
    EXPECT_EQ(be16(cap.sent[0], 4), 1);
    EXPECT_EQ(be16(cap.sent[1], 4), 2);
    EXPECT_EQ(be16(cap.sent[2], 4), 3);
}

}  // namespace
}  // namespace lwbench::test
