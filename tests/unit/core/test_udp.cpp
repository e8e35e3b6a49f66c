// test_udp.cpp — UDP pcbs and the raw API: demux precedence, bind conflicts,
// ephemeral ports, send errors, checksum generation (and opt-out), counters, and the
// core-context assertion (stack/src/core/udp.cpp).
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

/// Stack + loopback; both threading modes with inline input (synchronous delivery at
/// the end of each core operation).
class UdpBase : public ::testing::Test {
protected:
    explicit UdpBase(threading_mode m) : mode(m), s(inline_config(m)) {}
    void SetUp() override { ASSERT_EQ(lo.status(), err::ok); }
    void TearDown() override {
        in_core(s, [&] {
            // Newest first: each is at the head of the stack's list (O(1) removal).
            for (auto it = pcbs.rbegin(); it != pcbs.rend(); ++it) udp_remove(*it);
        });
        expect_no_leaks(s);
    }
    /// A pcb (removed at teardown), optionally bound and recording into `r`. Core context.
    udp_pcb* pcb(recorder* r = nullptr) {
        udp_pcb* p = udp_new(s);
        pcbs.push_back(p);
        if (r) udp_recv(p, &recorder::on_recv, r);
        return p;
    }
    void forget(udp_pcb* p) { std::erase(pcbs, p); }
    /// Sends `payload` (a pool pbuf, filled without a counted copy). Core context.
    err send(udp_pcb* from, const bytes& payload, ip4_addr dst, std::uint16_t port) {
        pbuf* p = make_pbuf(s, payload, pbuf_layer::transport);
        if (!p) return err::mem;
        const err e = udp_sendto(from, p, dst, port);
        pbuf_free(p);  // the caller keeps ownership on every outcome
        return e;
    }

    threading_mode mode;
    stack s;
    loopback_netif lo{s};
    std::vector<udp_pcb*> pcbs;
};

class Udp : public UdpBase, public ::testing::WithParamInterface<threading_mode> {
protected:
    Udp() : UdpBase(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(Modes, Udp, ::testing::ValuesIn(threading_modes()), mode_param_name);

// ---- demux ------------------------------------------------------------------------------

using demux_param = std::tuple<threading_mode, bool>;
class UdpDemux : public UdpBase, public ::testing::WithParamInterface<demux_param> {
protected:
    UdpDemux() : UdpBase(std::get<0>(GetParam())) {}
    bool wildcard_first() const { return std::get<1>(GetParam()); }
};

// A connected pcb whose remote matches beats a pcb bound to the destination address,
// which beats a wildcard pcb — whatever order the pcbs were created in.
// udp_bind forbids a specific and a wildcard pcb on one port (no SO_REUSEADDR), so the
// overlapping ports are set directly on the pcbs (as a reuse option would).
TEST_P(UdpDemux, ConnectedBeatsSpecificBeatsWildcard) {
    recorder wild, spec, conn;
    udp_pcb *w = nullptr, *sp = nullptr, *c = nullptr, *from6000 = nullptr, *from6001 = nullptr;
    in_core(s, [&] {
        // Bound to distinct ports in the chosen order (which decides the list order),
        // then all moved onto port 7000.
        auto make_w = [&] {
            w = pcb(&wild);
            ASSERT_EQ(udp_bind(w, ip4_addr::any(), 7003), err::ok);
        };
        auto make_s = [&] {
            sp = pcb(&spec);
            ASSERT_EQ(udp_bind(sp, k_lo, 7001), err::ok);
        };
        auto make_c = [&] {
            c = pcb(&conn);
            ASSERT_EQ(udp_bind(c, ip4_addr::any(), 7002), err::ok);
            ASSERT_EQ(udp_connect(c, k_lo, 6000), err::ok);
        };
        if (wildcard_first()) {
            make_w(), make_s(), make_c();
        } else {
            make_c(), make_s(), make_w();
        }
        w->local_port = sp->local_port = c->local_port = 7000;
        from6000 = pcb();
        from6001 = pcb();
        ASSERT_EQ(udp_bind(from6000, ip4_addr::any(), 6000), err::ok);
        ASSERT_EQ(udp_bind(from6001, ip4_addr::any(), 6001), err::ok);
    });
    const ip4_addr bcast = ip4_addr::from_octets(127, 255, 255, 255);
    in_core(s, [&] { EXPECT_EQ(send(from6000, {1}, k_lo, 7000), err::ok); });  // -> connected
    in_core(s, [&] { EXPECT_EQ(send(from6001, {2}, k_lo, 7000), err::ok); });  // -> specific
    in_core(s, [&] { EXPECT_EQ(send(from6001, {3}, bcast, 7000), err::ok); });  // -> wildcard
    in_core(s, [&] { EXPECT_EQ(send(from6000, {4}, bcast, 7000), err::ok); });  // -> connected
    ASSERT_EQ(conn.count.load(), 2u);
    ASSERT_EQ(spec.count.load(), 1u);
    ASSERT_EQ(wild.count.load(), 1u);
    EXPECT_EQ(conn.snapshot()[0].data, bytes{1});
    EXPECT_EQ(conn.snapshot()[1].data, bytes{4});
    EXPECT_EQ(spec.snapshot()[0].data, bytes{2});
    EXPECT_EQ(wild.snapshot()[0].data, bytes{3});
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

std::string demux_name(const ::testing::TestParamInfo<demux_param>& i) {
    return std::string(to_string(std::get<0>(i.param))) + (std::get<1>(i.param) ? "_wildcard_first" : "_connected_first");
}
INSTANTIATE_TEST_SUITE_P(CreationOrder, UdpDemux,
                         ::testing::Combine(::testing::ValuesIn(threading_modes()), ::testing::Bool()), demux_name);

// A connected pcb takes nothing from other remote ports or addresses.
TEST_P(Udp, ConnectedPcbIgnoresOtherRemotes) {
    recorder r;
    udp_pcb *c = nullptr, *a = nullptr, *b = nullptr;
    in_core(s, [&] {
        c = pcb(&r);
        ASSERT_EQ(udp_bind(c, ip4_addr::any(), 7100), err::ok);
        ASSERT_EQ(udp_connect(c, k_lo, 6000), err::ok);
        EXPECT_NE(c->flags & udp_flags::connected, 0);
        a = pcb();
        b = pcb();
        ASSERT_EQ(udp_bind(a, ip4_addr::any(), 6000), err::ok);
        ASSERT_EQ(udp_bind(b, ip4_addr::any(), 6001), err::ok);
    });
    in_core(s, [&] { EXPECT_EQ(send(b, {9}, k_lo, 7100), err::ok); });
    EXPECT_EQ(r.count.load(), 0u);
    EXPECT_EQ(s.st().dropped(drop_reason::udp_no_port), 1u);
    in_core(s, [&] { EXPECT_EQ(send(a, {8}, k_lo, 7100), err::ok); });
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].sport, 6000);
    // Another remote address: connect to 127.0.0.5 -> the packet from 127.0.0.1 is not for c.
    in_core(s, [&] { ASSERT_EQ(udp_connect(c, ip4_addr::from_octets(127, 0, 0, 5), 6000), err::ok); });
    in_core(s, [&] { EXPECT_EQ(send(a, {7}, k_lo, 7100), err::ok); });
    EXPECT_EQ(r.count.load(), 1u);
    EXPECT_EQ(s.st().dropped(drop_reason::udp_no_port), 2u);
    // After disconnect c takes anything again.
    in_core(s, [&] { udp_disconnect(c); });
    EXPECT_EQ(c->flags & udp_flags::connected, 0);
    in_core(s, [&] { EXPECT_EQ(send(b, {6}, k_lo, 7100), err::ok); });
    EXPECT_EQ(r.count.load(), 2u);
}

// udp_send goes to the connected remote; unconnected it is err::conn.
TEST_P(Udp, SendUsesConnectedRemote) {
    recorder r;
    udp_pcb *dst = nullptr, *src = nullptr;
    in_core(s, [&] {
        dst = pcb(&r);
        ASSERT_EQ(udp_bind(dst, k_lo, 7200), err::ok);
        src = pcb();
        pbuf* p = make_pbuf(s, bytes{1, 2, 3}, pbuf_layer::transport);
        EXPECT_EQ(udp_send(src, p), err::conn);
        EXPECT_EQ(udp_connect(src, k_lo, 7200), err::ok);
        EXPECT_GE(src->local_port, k_ephemeral_first);  // connect binds an unbound pcb
        EXPECT_EQ(udp_send(src, p), err::ok);
        pbuf_free(p);
    });
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].data, (bytes{1, 2, 3}));
    EXPECT_EQ(r.snapshot()[0].sport, src->local_port);
}

// After udp_remove nothing is delivered to the pcb: the port has no listener.
TEST_P(Udp, RemovedPcbGetsNothing) {
    recorder r;
    udp_pcb* a = nullptr;
    in_core(s, [&] {
        a = pcb(&r);
        ASSERT_EQ(udp_bind(a, ip4_addr::any(), 7300), err::ok);
        udp_remove(a);
        forget(a);
    });
    udp_pcb* b = nullptr;
    in_core(s, [&] { b = pcb(); });
    in_core(s, [&] { EXPECT_EQ(send(b, {1}, k_lo, 7300), err::ok); });
    EXPECT_EQ(r.count.load(), 0u);
    EXPECT_EQ(s.st().dropped(drop_reason::udp_no_port), 1u);
}

// ---- bind ---------------------------------------------------------------------------------

// Bind conflicts: same port with the same or a wildcard address is err::use; distinct
// specific addresses coexist; rebinding a pcb to its own port is fine.
TEST_P(Udp, BindConflicts) {
    in_core(s, [&] {
        udp_pcb* a = pcb();
        udp_pcb* b = pcb();
        const ip4_addr other = ip4_addr::from_octets(10, 0, 0, 1);
        EXPECT_EQ(udp_bind(a, ip4_addr::any(), 5000), err::ok);
        EXPECT_EQ(udp_bind(b, ip4_addr::any(), 5000), err::use);
        EXPECT_EQ(udp_bind(b, k_lo, 5000), err::use);
        EXPECT_EQ(b->local_port, 0);  // failed bind changes nothing
        EXPECT_EQ(udp_bind(a, ip4_addr::any(), 5000), err::ok);  // rebinding itself
        EXPECT_EQ(udp_bind(a, k_lo, 5001), err::ok);
        EXPECT_EQ(udp_bind(b, other, 5001), err::ok);  // a different specific address
        EXPECT_EQ(udp_bind(b, ip4_addr::any(), 5001), err::use);
        udp_pcb* c = pcb();
        EXPECT_EQ(udp_bind(c, ip4_addr::any(), 5000), err::ok);  // a moved away from 5000
        EXPECT_EQ(udp_bind(nullptr, ip4_addr::any(), 1), err::arg);
    });
}

// Port 0 picks distinct ports from 49152 upwards.
TEST_P(Udp, EphemeralPortsDistinctAndInRange) {
    in_core(s, [&] {
        std::set<std::uint16_t> seen;
        for (int i = 0; i < 200; ++i) {
            udp_pcb* p = pcb();
            ASSERT_EQ(udp_bind(p, ip4_addr::any(), 0), err::ok);
            EXPECT_GE(p->local_port, 49152);
            seen.insert(p->local_port);
        }
        EXPECT_EQ(seen.size(), 200u);
        EXPECT_EQ(*seen.begin(), 49152);  // a fresh stack starts at the range's start
        EXPECT_EQ(*seen.rbegin(), 49152 + 199);
    });
}

// The ephemeral counter wraps from 65535 to 49152 and skips ports in use.
TEST_P(Udp, EphemeralPortsWrapAndSkipTaken) {
    in_core(s, [&] {
        udp_pcb* taken = pcb();
        ASSERT_EQ(udp_bind(taken, ip4_addr::any(), 49152), err::ok);
        detail::stack_access::next_ephemeral_port(s) = 65534;  // core state: a unit test of the core may reach it
        udp_pcb* a = pcb();
        udp_pcb* b = pcb();
        udp_pcb* c = pcb();
        ASSERT_EQ(udp_bind(a, ip4_addr::any(), 0), err::ok);
        ASSERT_EQ(udp_bind(b, ip4_addr::any(), 0), err::ok);
        ASSERT_EQ(udp_bind(c, ip4_addr::any(), 0), err::ok);
        EXPECT_EQ(a->local_port, 65534);
        EXPECT_EQ(b->local_port, 65535);
        EXPECT_EQ(c->local_port, 49153);  // 49152 is taken
    });
}

// When all 16384 ephemeral ports are taken, port 0 is err::use.
TEST_P(Udp, EphemeralRangeExhausted) {
    in_core(s, [&] {
        for (unsigned i = 0; i < 65536u - 49152u; ++i) {
            udp_pcb* p = pcb();
            ASSERT_EQ(udp_bind(p, ip4_addr::any(), 0), err::ok) << i;
        }
        udp_pcb* last = pcb();
        EXPECT_EQ(udp_bind(last, ip4_addr::any(), 0), err::use);
        EXPECT_EQ(last->local_port, 0);
    });
}

// udp_sendto binds an unbound pcb; the receiver sees that port as the source.
TEST_P(Udp, SendtoAutoBinds) {
    recorder r;
    udp_pcb *rx = nullptr, *tx = nullptr;
    in_core(s, [&] {
        rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7400), err::ok);
        tx = pcb();
        EXPECT_EQ(tx->local_port, 0);
        EXPECT_EQ(send(tx, pattern(10), k_lo, 7400), err::ok);
        EXPECT_GE(tx->local_port, k_ephemeral_first);
    });
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].sport, tx->local_port);
    EXPECT_EQ(r.snapshot()[0].src, k_lo);
}

// ---- send errors ------------------------------------------------------------------------

// Larger than MTU - 28: err::msgsize, the pbuf untouched, nothing sent; MTU - 28 fits.
TEST_P(Udp, MsgsizeBeyondMtuNoTruncation) {
    recorder r;
    in_core(s, [&] {
        udp_pcb* rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7500), err::ok);
        udp_pcb* tx = pcb();
        pbuf* big = make_pbuf(s, pattern(1473), pbuf_layer::transport);
        void* const payload = big->payload;
        EXPECT_EQ(udp_sendto(tx, big, k_lo, 7500), err::msgsize);
        EXPECT_EQ(big->payload, payload);
        EXPECT_EQ(big->tot_len, 1473);
        EXPECT_EQ(big->ref.load(), 1);
        pbuf_free(big);
        EXPECT_EQ(send(tx, pattern(1472), k_lo, 7500), err::ok);
    });
    EXPECT_EQ(lo.transmitted(), 1u);
    EXPECT_EQ(s.st().udp_xmit.get(), 1u);
    EXPECT_EQ(s.st().ip_xmit.get(), 1u);
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].data, pattern(1472));
}

// The limit follows the netif's MTU, also for chained ref pbufs.
TEST_P(Udp, MsgsizeFollowsMtu) {
    stack s2{inline_config(mode)};
    loopback_config cfg;
    cfg.mtu = 576;
    loopback_netif lo2(s2, cfg);
    const bytes data = pattern(549);
    in_core(s2, [&] {
        udp_pcb* tx = udp_new(s2);
        pbuf* p = pbuf_alloc_ref(s2, data.data(), 549, true);
        EXPECT_EQ(udp_sendto(tx, p, k_lo, 9), err::msgsize);
        pbuf_free(p);
        p = pbuf_alloc_ref(s2, data.data(), 548, true);
        EXPECT_EQ(udp_sendto(tx, p, k_lo, 9), err::ok);  // no listener: dropped at input
        pbuf_free(p);
        udp_remove(tx);
    });
    EXPECT_EQ(lo2.transmitted(), 1u);
    EXPECT_EQ(s2.st().dropped(drop_reason::udp_no_port), 1u);
    expect_no_leaks(s2);
}

// No netif routes the destination: err::rte, nothing sent.
TEST_P(Udp, NoRouteIsRte) {
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        EXPECT_EQ(send(tx, pattern(4), ip4_addr::from_octets(10, 1, 2, 3), 9), err::rte);
    });
    EXPECT_EQ(lo.transmitted(), 0u);
    EXPECT_EQ(s.st().udp_xmit.get(), 0u);
}

// Bad arguments: null pcb or pbuf -> arg; port 0 or address any -> val.
TEST_P(Udp, SendtoArgumentErrors) {
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        pbuf* p = make_pbuf(s, bytes{1}, pbuf_layer::transport);
        EXPECT_EQ(udp_sendto(nullptr, p, k_lo, 9), err::arg);
        EXPECT_EQ(udp_sendto(tx, nullptr, k_lo, 9), err::arg);
        EXPECT_EQ(udp_sendto(tx, p, k_lo, 0), err::val);
        EXPECT_EQ(udp_sendto_if(tx, p, ip4_addr::any(), 9, &lo.nif()), err::val);
        EXPECT_EQ(p->tot_len, 1);
        pbuf_free(p);
    });
    EXPECT_EQ(lo.transmitted(), 0u);
}

// The netif's output error is returned and the datagram is not counted as sent.
TEST_P(Udp, NetifOutputErrorPropagates) {
    capture_netif cap;
    cap.result = err::if_;
    in_core(s, [&] {
        ASSERT_EQ(netif_add(s, &cap.nif), err::ok);
        netif_set_up(&cap.nif);
        udp_pcb* tx = pcb();
        EXPECT_EQ(send(tx, pattern(4), ip4_addr::from_octets(10, 0, 0, 2), 9), err::if_);
        netif_remove(s, &cap.nif);
    });
    EXPECT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(s.st().udp_xmit.get(), 0u);
}

// ---- checksums on the wire ---------------------------------------------------------------

class UdpWire : public Udp {
protected:
    void SetUp() override {
        Udp::SetUp();
        in_core(s, [&] {
            ASSERT_EQ(netif_add(s, &cap.nif), err::ok);
            netif_set_up(&cap.nif);
        });
    }
    void TearDown() override {
        in_core(s, [&] { netif_remove(s, &cap.nif); });
        Udp::TearDown();
    }
    /// Feeds a captured packet back in through the capture netif (its own address).
    void reinject(const bytes& b) {
        pbuf* p = make_pbuf(s, b);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(s.input(p, &cap.nif), err::ok);
    }
    capture_netif cap;  // 10.0.0.1/24
};
INSTANTIATE_TEST_SUITE_P(Modes, UdpWire, ::testing::ValuesIn(threading_modes()), mode_param_name);

// udp_sendto emits exactly the packet an independent builder produces (header
// fields, UDP checksum with pseudo header, IP checksum) — the real DNS query.
TEST_P(UdpWire, EmitsExactBytes) {
    const bytes dns = hex("1a2b01000001000000000000076578616d706c6503636f6d0000010001");
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        ASSERT_EQ(udp_bind(tx, ip4_addr::any(), 45678), err::ok);
        EXPECT_EQ(send(tx, dns, ip4_addr::from_octets(10, 0, 0, 53), 53), err::ok);
    });
    pkt_spec sp;
    sp.src = ip4_addr::from_octets(10, 0, 0, 1);
    sp.dst = ip4_addr::from_octets(10, 0, 0, 53);
    sp.sport = 45678;
    sp.dport = 53;
    sp.ident = 1;
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(cap.sent[0], build_udp(sp, dns));
}

// A ref pbuf payload (header in a chained pbuf) gives the same bytes on the wire.
TEST_P(UdpWire, RefPayloadEmitsSameBytes) {
    const bytes data = pattern(333, 4);
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        ASSERT_EQ(udp_bind(tx, ip4_addr::any(), 1234), err::ok);
        pbuf* p = pbuf_alloc_ref(s, data.data(), data.size(), true);
        EXPECT_EQ(udp_sendto(tx, p, ip4_addr::from_octets(10, 0, 0, 2), 4321), err::ok);
        EXPECT_EQ(p->ref.load(), 1);
        pbuf_free(p);
    });
    pkt_spec sp;
    sp.src = ip4_addr::from_octets(10, 0, 0, 1);
    sp.dst = ip4_addr::from_octets(10, 0, 0, 2);
    sp.sport = 1234;
    sp.dport = 4321;
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(cap.sent[0], build_udp(sp, data));
}

// nochksum: the checksum field is 0 on the wire, and a receiver accepts it.
TEST_P(UdpWire, NoChecksumFlagSendsZeroAndIsAccepted) {
    recorder r;
    in_core(s, [&] {
        udp_pcb* rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7600), err::ok);
        udp_pcb* tx = pcb();
        udp_setflags(tx, udp_flags::nochksum);
        EXPECT_EQ(send(tx, pattern(21), ip4_addr::from_octets(10, 0, 0, 1), 7600), err::ok);
    });
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(be16(cap.sent[0], 26), 0);
    EXPECT_EQ(ref_chksum({cap.sent[0].data(), 20}), 0);  // the IP header checksum is still there
    reinject(cap.sent[0]);
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].data, pattern(21));
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

// nochksum over the loopback, end to end: delivered, nothing dropped.
TEST_P(Udp, NoChecksumOverLoopbackDelivered) {
    recorder r;
    in_core(s, [&] {
        udp_pcb* rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7601), err::ok);
        udp_pcb* tx = pcb();
        udp_setflags(tx, udp_flags::nochksum);
        EXPECT_NE(tx->flags & udp_flags::nochksum, 0);
        EXPECT_EQ(send(tx, pattern(99), k_lo, 7601), err::ok);
    });
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].data, pattern(99));
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

// A computed checksum of 0 is sent as 0xffff (0 would mean "no checksum"), and the
// receiver verifies it.
TEST_P(UdpWire, ComputedZeroChecksumSentAsFfff) {
    // Choose the last payload word so that the ones'-complement sum is 0xffff.
    pkt_spec sp;
    sp.src = sp.dst = ip4_addr::from_octets(10, 0, 0, 1);
    sp.sport = 1111;
    sp.dport = 7700;
    sp.udp_checksum = false;
    bytes payload = {0x12, 0x34, 0, 0};
    bytes b = build_udp(sp, payload);
    bytes ph(b.begin() + 12, b.begin() + 20);
    ph.insert(ph.end(), {0, 17, 0, 12});
    const std::uint32_t sum = ref_sum({b.data() + 20, 12}, ref_sum(ph));
    put_be16(payload, 2, static_cast<std::uint16_t>(0xffff - sum));
    recorder r;
    in_core(s, [&] {
        udp_pcb* rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7700), err::ok);
        udp_pcb* tx = pcb();
        ASSERT_EQ(udp_bind(tx, ip4_addr::any(), 1111), err::ok);
        EXPECT_EQ(send(tx, payload, sp.dst, 7700), err::ok);
    });
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(be16(cap.sent[0], 26), 0xffff);
    reinject(cap.sent[0]);
    ASSERT_EQ(r.count.load(), 1u);
    EXPECT_EQ(r.snapshot()[0].data, payload);
}

// chksum_gen_udp off on the netif (offload): the UDP field is left 0.
TEST_P(UdpWire, ChecksumGenerationOffload) {
    cap.nif.caps.chksum_gen_udp = false;
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        EXPECT_EQ(send(tx, pattern(8), ip4_addr::from_octets(10, 0, 0, 2), 9), err::ok);
    });
    ASSERT_EQ(cap.sent.size(), 1u);
    EXPECT_EQ(be16(cap.sent[0], 26), 0);
}

// A failed send leaves the caller's pbuf as it was, so that retrying it (the natural
// reaction to err::mem from a full queue) sends the original datagram.
// Regression test: headers prepended in the caller's headroom used to stay there after
// a failed output, so a retry sent a stale 28-byte IP+UDP header as payload.
TEST_P(UdpWire, FailedSendLeavesPbufUnchangedForRetry) {
    const bytes payload = pattern(40, 3);
    pbuf* p = make_pbuf(s, payload, pbuf_layer::transport);
    void* const at = p->payload;
    in_core(s, [&] {
        udp_pcb* tx = pcb();
        ASSERT_EQ(udp_bind(tx, ip4_addr::any(), 1500), err::ok);
        cap.result = err::mem;  // e.g. a full transmit queue
        EXPECT_EQ(udp_sendto(tx, p, ip4_addr::from_octets(10, 0, 0, 2), 53), err::mem);
        EXPECT_EQ(p->payload, at) << "headers left in the caller's pbuf after a failed send";
        EXPECT_EQ(p->tot_len, 40);
        cap.result = err::ok;
        EXPECT_EQ(udp_sendto(tx, p, ip4_addr::from_octets(10, 0, 0, 2), 53), err::ok);  // retry
    });
    pbuf_free(p);
    pkt_spec sp;
    sp.src = ip4_addr::from_octets(10, 0, 0, 1);
    sp.dst = ip4_addr::from_octets(10, 0, 0, 2);
    sp.sport = 1500;
    sp.dport = 53;
    sp.ident = 2;  // the failed attempt used ident 1
    ASSERT_EQ(cap.sent.size(), 2u);
    EXPECT_EQ(cap.sent[1], build_udp(sp, payload)) << "the retried datagram differs from the original";
}

// ---- counters and replies ----------------------------------------------------------------

// Send and receive counters move by exactly the number of datagrams.
TEST_P(Udp, SendReceiveCounters) {
    recorder r;
    in_core(s, [&] {
        udp_pcb* rx = pcb(&r);
        ASSERT_EQ(udp_bind(rx, ip4_addr::any(), 7800), err::ok);
        udp_pcb* tx = pcb();
        for (int i = 0; i < 5; ++i) EXPECT_EQ(send(tx, pattern(10 + i), k_lo, 7800), err::ok);
    });
    const auto& st = s.st();
    EXPECT_EQ(st.udp_xmit.get(), 5u);
    EXPECT_EQ(st.ip_xmit.get(), 5u);
    EXPECT_EQ(st.ip_recv.get(), 5u);
    EXPECT_EQ(st.udp_recv.get(), 5u);
    EXPECT_EQ(st.udp_delivered.get(), 5u);
    EXPECT_EQ(lo.transmitted(), 5u);
    EXPECT_EQ(lo.delivered(), 5u);
    EXPECT_EQ(st.dropped_total(), 0u);
    ASSERT_EQ(r.count.load(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(r.snapshot()[i].data, pattern(10 + i));  // in order
}

// A receive callback may send (a reply): it is delivered after the current delivery,
// never by recursion into the callback.
struct echo_state {
    int depth = 0, max_depth = 0, calls = 0;
    int replies_left = 3;
    static void on_recv(void* arg, udp_pcb* pcb, pbuf* p, ip4_addr src, std::uint16_t sport) {
        auto* e = static_cast<echo_state*>(arg);
        ++e->calls;
        e->max_depth = std::max(e->max_depth, ++e->depth);
        if (e->replies_left-- > 0) {
            pbuf* q = pbuf_clone(pbuf_layer::transport, p);
            EXPECT_EQ(udp_sendto(pcb, q, src, sport), err::ok);
            pbuf_free(q);
        }
        pbuf_free(p);
        --e->depth;
    }
};

TEST_P(Udp, CallbackReplyDeliveredWithoutRecursion) {
    echo_state ea, eb;
    in_core(s, [&] {
        udp_pcb* a = pcb();
        udp_pcb* b = pcb();
        ASSERT_EQ(udp_bind(a, ip4_addr::any(), 7900), err::ok);
        ASSERT_EQ(udp_bind(b, ip4_addr::any(), 7901), err::ok);
        udp_recv(a, &echo_state::on_recv, &ea);
        udp_recv(b, &echo_state::on_recv, &eb);
        EXPECT_EQ(send(a, pattern(5), k_lo, 7901), err::ok);
        EXPECT_EQ(eb.calls, 0);  // nothing delivered inside the sending operation
    });
    // a -> b -> a -> b -> a -> b -> a: b replies 3 times, a 3 times, then both stop.
    EXPECT_EQ(eb.calls, 4);
    EXPECT_EQ(ea.calls, 3);
    EXPECT_EQ(ea.max_depth, 1);
    EXPECT_EQ(eb.max_depth, 1);
}

// ---- core context --------------------------------------------------------------------------

// Raw API outside core context aborts where LWBENCH_CHECK_CORE_CONTEXT is defined
// (debug and sanitizer builds).
TEST(UdpDeathTest, SendtoOutsideCoreContextAborts) {
#if !defined(LWBENCH_CHECK_CORE_CONTEXT)
    GTEST_SKIP() << "core-context assertions are compiled out in this build (release)";
#else
    GTEST_FLAG_SET(death_test_style, "threadsafe");  // the stack runs threads
    EXPECT_DEATH(
        {
            stack s;
            loopback_netif lo(s);
            udp_pcb* pcb = nullptr;
            pbuf* p = nullptr;
            {
                core_guard g(s);
                pcb = udp_new(s);
                p = pbuf_alloc(s, pbuf_layer::transport, 4, pbuf_type::pool);
            }
            udp_sendto(pcb, p, k_lo, 9);  // no core_guard
        },
        "udp_sendto called outside core context");
#endif
}

}  // namespace
}  // namespace lwbench::test
