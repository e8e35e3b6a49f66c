// test_tcp_loopback.cpp — TCP end to end through the zero-copy loopback, under all
// 48 threading configurations: handshake, byte-exact bulk transfer (copy and
// no-copy writes), orderly close through TIME_WAIT, simultaneous open and close, zero
// window with persist probes, sequence numbers that wrap, zero payload copies on the
// no-copy path, and every pbuf returned (stack/src/core/tcp*.cpp).
#include <gtest/gtest.h>

#include "lwbench/loopback_netif.hpp"
#include "tcp_support.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

/// RFC 6298's 1 s RTO floor (the default): nothing is lost on the loopback, so no
/// retransmission may happen even when a sanitizer or a busy machine stalls the stack
/// for a while. Short delayed-ACK timer; TIME_WAIT ends when a test says so.
tcp_config test_tcp_config() {
    tcp_config c;
    c.tick_ms = 5;
    c.delack_ms = 10;
    c.time_wait_ms = 60000;  // tests end TIME_WAIT themselves (time_wait_due), after checking it
    return c;
}

class TcpLoop : public ::testing::TestWithParam<stack_config> {
protected:
    void SetUp() override {
        ASSERT_EQ(lo.status(), err::ok);
        in_core(s, [&] { ASSERT_EQ(tcp_configure(s, test_tcp_config()), err::ok); });
    }
    void TearDown() override {
        in_core(s, [&] { tcp_free_all(s); });
        // Packets still in the mailbox or the loopback queue hold pbufs: let them drain.
        EXPECT_TRUE(wait_until([&] { return s.pools().pool_in_use() == 0 && s.pools().ref_in_use() == 0; }));
        expect_no_leaks(s);
    }
    stack s{GetParam()};
    loopback_netif lo{s};
};
INSTANTIATE_TEST_SUITE_P(AllConfigs, TcpLoop, ::testing::ValuesIn(all_configs()), config_name);

// Handshake, 300 KB each way at once (copy one way, no copy the other), then an
// orderly close: the active closer ends in TIME_WAIT and is freed after 2*MSL, the
// passive closer is freed when its FIN is acknowledged.
TEST_P(TcpLoop, TransferBothWaysAndClose) {
    tcp_server server;
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    ASSERT_TRUE(open_connection(s, server, client, k_lo, 80));
    const bytes up = pattern(300000, 3), down = pattern(300000, 11);
    tcp_end& peer = *server.first();
    in_core(s, [&] {
        client.send(up.data(), up.size(), true);
        peer.send(down.data(), down.size(), false);
    });
    ASSERT_TRUE(wait_core(s, [&] { return peer.received.size() == up.size() && client.received.size() == down.size(); }));
    EXPECT_TRUE(peer.received == up);
    EXPECT_TRUE(client.received == down);
    ASSERT_TRUE(wait_core(s, [&] { return client.acked == up.size() && peer.acked == down.size(); }));

    tcp_pcb* client_pcb = nullptr;
    in_core(s, [&] {
        client_pcb = client.pcb;
        ASSERT_EQ(tcp_shutdown(client.pcb, false, true), err::ok);  // half close: keep callbacks
    });
    ASSERT_TRUE(wait_core(s, [&] { return peer.eof && client_pcb->state == tcp_state::fin_wait_2; }));
    in_core(s, [&] {
        EXPECT_EQ(peer.pcb->state, tcp_state::close_wait);
        ASSERT_EQ(tcp_close(peer.pcb), err::ok);
    });
    ASSERT_TRUE(wait_core(s, [&] { return client.eof; }));
    in_core(s, [&] {
        EXPECT_EQ(client_pcb->state, tcp_state::time_wait);
        EXPECT_EQ(tcp_close(client_pcb), err::ok);
        client_pcb->time_wait_due = 1;  // 2*MSL is over
    });
    // The listener stays; the passive closer and (after 2*MSL) the TIME_WAIT pcb go.
    ASSERT_TRUE(wait_core(s, [&] { return tcp_pcbs_in_use(s) == 1; }));
    EXPECT_FALSE(client.error);
    EXPECT_FALSE(peer.error);
}

// No-copy writes and a raw receiver: not one payload byte is copied inside the stack.
TEST_P(TcpLoop, NoCopyPathCopiesNothing) {
    tcp_server server;
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    ASSERT_TRUE(open_connection(s, server, client, k_lo, 81));
    const bytes data = pattern(200000, 5);
    const auto copies0 = s.st().payload_copies.get();
    const auto heap0 = s.st().heap_alloc.get();
    in_core(s, [&] { client.send(data.data(), data.size(), false); });
    ASSERT_TRUE(wait_core(s, [&] { return server.first()->received.size() == data.size() && client.acked == data.size(); }));
    EXPECT_TRUE(server.first()->received == data);
    EXPECT_EQ(s.st().payload_copies.get(), copies0);
    EXPECT_EQ(s.st().heap_alloc.get(), heap0);
    EXPECT_EQ(s.st().tcp_rexmit.get(), 0u) << ::testing::PrintToString(s.st().drops_by_name());
}

// Both ends connect to each other at once (RFC 9293 figure 8): SYN_SENT -> SYN_RCVD
// -> ESTABLISHED on both sides, then data both ways, then both close at once
// (figure 13): FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides.
TEST_P(TcpLoop, SimultaneousOpenAndClose) {
    tcp_end a, b;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    in_core(s, [&] {
        tcp_pcb* pa = tcp_new(s);
        tcp_pcb* pb = tcp_new(s);
        ASSERT_EQ(tcp_bind(pa, k_lo, 7001), err::ok);
        ASSERT_EQ(tcp_bind(pb, k_lo, 7002), err::ok);
        a.attach(pa);
        b.attach(pb);
        // Both SYNs are queued on the loopback before either is delivered.
        ASSERT_EQ(tcp_connect(pa, k_lo, 7002, &tcp_end::on_connected), err::ok);
        ASSERT_EQ(tcp_connect(pb, k_lo, 7001, &tcp_end::on_connected), err::ok);
    });
    ASSERT_TRUE(wait_core(s, [&] { return a.connected && b.connected; }));
    const bytes x = pattern(5000, 1), y = pattern(7000, 2);
    in_core(s, [&] {
        EXPECT_EQ(a.pcb->state, tcp_state::established);
        EXPECT_EQ(b.pcb->state, tcp_state::established);
        a.send(x.data(), x.size(), true);
        b.send(y.data(), y.size(), true);
    });
    ASSERT_TRUE(wait_core(s, [&] { return a.acked == x.size() && b.acked == y.size(); }));
    EXPECT_TRUE(b.received == x);
    EXPECT_TRUE(a.received == y);
    tcp_pcb *pa = nullptr, *pb = nullptr;
    in_core(s, [&] {
        pa = a.pcb;
        pb = b.pcb;
        ASSERT_EQ(tcp_shutdown(pa, false, true), err::ok);  // both FINs cross on the wire
        ASSERT_EQ(tcp_shutdown(pb, false, true), err::ok);
        EXPECT_EQ(pa->state, tcp_state::fin_wait_1);
        EXPECT_EQ(pb->state, tcp_state::fin_wait_1);
    });
    ASSERT_TRUE(wait_core(s, [&] {
        return pa->state == tcp_state::time_wait && pb->state == tcp_state::time_wait && a.eof && b.eof;
    }));
    in_core(s, [&] {
        EXPECT_EQ(tcp_close(pa), err::ok);
        EXPECT_EQ(tcp_close(pb), err::ok);
        pa->time_wait_due = pb->time_wait_due = 1;  // 2*MSL is over
    });
    ASSERT_TRUE(wait_core(s, [&] { return tcp_pcbs_in_use(s) == 0; }));
}

// The receiver stops reading: the window closes, the sender persists (probes), and
// when the receiver reads again the transfer completes byte-exact.
TEST_P(TcpLoop, ZeroWindowPersistThenRecover) {
    in_core(s, [&] {
        tcp_config c = test_tcp_config();
        c.initial_rto_ms = c.min_rto_ms = 20;  // persist probes back off from the RTO: keep them quick
        ASSERT_EQ(tcp_configure(s, c), err::ok);
    });
    tcp_server server;
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    ASSERT_TRUE(open_connection(s, server, client, k_lo, 82));
    tcp_end& peer = *server.first();
    const bytes data = pattern(400000, 9);
    in_core(s, [&] {
        peer.auto_recved = false;
        client.send(data.data(), data.size(), true);
    });
    const auto probes0 = s.st().tcp_persist_probes.get();
    ASSERT_TRUE(wait_core(s, [&] { return s.st().tcp_persist_probes.get() >= probes0 + 2; }));
    in_core(s, [&] {
        EXPECT_EQ(client.pcb->snd_wnd < client.pcb->mss, true);  // the window is (nearly) shut
        EXPECT_LT(peer.received.size(), data.size());
        peer.auto_recved = true;
        peer.recved_all();
    });
    ASSERT_TRUE(wait_core(s, [&] { return peer.received.size() == data.size(); }));
    EXPECT_TRUE(peer.received == data);
    EXPECT_GT(s.st().tcp_window_updates.get(), 0u);
}

std::uint32_t isn_near_wrap(void* arg) {
    auto* n = static_cast<std::uint32_t*>(arg);
    return 0xffffffffu - 20000u + (*n)++ * 1000u;  // both ends wrap within the first 20 KB
}

// ISNs just below 2^32: every sequence comparison crosses the wrap during the transfer.
TEST_P(TcpLoop, SequenceNumbersWrap) {
    std::uint32_t counter = 0;
    in_core(s, [&] {
        tcp_config c = test_tcp_config();
        c.isn = &isn_near_wrap;
        c.isn_arg = &counter;
        ASSERT_EQ(tcp_configure(s, c), err::ok);
    });
    tcp_server server;
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    ASSERT_TRUE(open_connection(s, server, client, k_lo, 83));
    const bytes up = pattern(150000, 4), down = pattern(150000, 8);
    in_core(s, [&] {
        EXPECT_GT(client.pcb->iss, 0xfff00000u);
        client.send(up.data(), up.size(), true);
        server.first()->send(down.data(), down.size(), true);
    });
    ASSERT_TRUE(wait_core(s, [&] {
        return server.first()->received.size() == up.size() && client.received.size() == down.size() &&
               client.acked == up.size();
    }));
    EXPECT_TRUE(server.first()->received == up);
    EXPECT_TRUE(client.received == down);
    in_core(s, [&] {
        EXPECT_LT(client.pcb->snd_nxt, 0x10000000u);  // wrapped
        EXPECT_LT(server.first()->pcb->rcv_nxt, 0x10000000u);
    });
    EXPECT_EQ(s.st().tcp_rexmit.get(), 0u) << ::testing::PrintToString(s.st().drops_by_name());
}

// A connection to a port nobody listens on is refused with RST: err::rst, pcb freed.
TEST_P(TcpLoop, ConnectionRefused) {
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    in_core(s, [&] {
        tcp_pcb* p = tcp_new(s);
        client.attach(p);
        ASSERT_EQ(tcp_connect(p, k_lo, 9, &tcp_end::on_connected), err::ok);
    });
    ASSERT_TRUE(wait_core(s, [&] { return client.error.has_value(); }));
    EXPECT_EQ(*client.error, err::rst);
    EXPECT_FALSE(client.connected);
    in_core(s, [&] { EXPECT_EQ(tcp_pcbs_in_use(s), 0u); });
    EXPECT_GE(s.st().dropped(drop_reason::tcp_no_port), 1u);
}

}  // namespace
}  // namespace lwbench::test
