// test_tcp_states.cpp — the TCP state machine against a scripted fake peer, in both
// threading modes: every state transition of RFC 9293 figure 5, the listen backlog,
// RST and challenge ACKs, malformed segments dropped and counted, sequence-number
// helpers at the wrap, out-of-order reassembly, delayed ACKs, Nagle and TCP_NODELAY,
// the peer's MSS, retransmission timeout with backoff, fast retransmit, zero window
// with persist probes (answered for longer than the retry limit, or unanswered), the
// send window from the newest acknowledgement, empty segments within a shrunk window
// (stack/src/core/tcp*.cpp).
//
// The stack's netif is a capture netif (10.0.0.1/24): what the stack sends is parsed
// from its bytes; what the peer (10.0.0.2) sends is built by an independent packet
// builder and injected with stack::input (inline input: processed before it returns).
#include <gtest/gtest.h>

#include "tcp_support.hpp"

namespace lwbench::test {
namespace {

namespace flag = wire::tcp_flag;
const ip4_addr k_us = ip4_addr::from_octets(10, 0, 0, 1);
const ip4_addr k_peer = ip4_addr::from_octets(10, 0, 0, 2);
constexpr std::uint32_t k_our_isn = 5000;

std::uint32_t fixed_isn(void* arg) { return *static_cast<std::uint32_t*>(arg); }

// ---- sequence-number helpers at the wrap -----------------------------------------------

TEST(TcpSeq, ComparisonsAcrossTheWrap) {
    EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
    EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
    EXPECT_TRUE(seq_leq(0xffffffffu, 0u));
    EXPECT_TRUE(seq_geq(0u, 0xffffffffu));
    EXPECT_FALSE(seq_lt(5u, 5u));
    EXPECT_TRUE(seq_leq(5u, 5u));
    EXPECT_TRUE(seq_between(0x2u, 0xfffffffeu, 0x5u));
    EXPECT_FALSE(seq_between(0x6u, 0xfffffffeu, 0x5u));
    EXPECT_FALSE(seq_between(0xfffffffdu, 0xfffffffeu, 0x5u));
    EXPECT_TRUE(seq_lt(0u, 0x7fffffffu));   // less than 2^31 apart: ordered
    EXPECT_TRUE(seq_gt(0u, 0x80000001u));   // more than 2^31: the other way round
}

// ---- the timers' clock -------------------------------------------------------------------

// tcp_core's deadlines come from a coarse clock that lags real time; a deadline is
// padded by the clock's resolution so that a timer never fires early: by the time
// now_ms() reaches deadline_ms(d), at least d ms of real time have passed. Checked by
// polling the clocks (bounded: the loop ends at the deadline or after 2 s).
TEST(TcpClock, DeadlineNeverEarly) {
    stack s;
    in_core(s, [&] {
        detail::tcp_core& core = detail::tcp_core_of(s);
        EXPECT_GE(core.now_ms(), 1u);  // 0 means "timer off"
        EXPECT_GE(core.clock_resolution_ms, 1u);
        for (std::uint32_t d : {1u, 5u, 12u}) {
            const auto start = std::chrono::steady_clock::now();
            const std::uint64_t due = core.deadline_ms(d);
            EXPECT_GE(due, core.now_ms() + d);
            while (core.now_ms() < due && std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
            }
            const auto elapsed = std::chrono::steady_clock::now() - start;
            EXPECT_GE(core.now_ms(), due) << "the clock did not reach the deadline within 2 s";
            EXPECT_GE(elapsed, std::chrono::milliseconds(d)) << "deadline " << d << " ms came early";
        }
    });
}

// ---- the fake-peer fixture ---------------------------------------------------------------

class TcpStates : public ::testing::TestWithParam<threading_mode> {
protected:
    TcpStates() : s(inline_config(GetParam())) {}
    void SetUp() override {
        in_core(s, [&] {
            ASSERT_EQ(netif_add(s, &cap.nif), err::ok);
            netif_set_up(&cap.nif);
            tcp_config c;
            c.isn = &fixed_isn;
            c.isn_arg = &isn;
            c.initial_rto_ms = 60000;  // no timer fires unless a test asks for it
            c.delack_ms = 60000;
            c.time_wait_ms = 60000;
            c.tick_ms = 5;
            ASSERT_EQ(tcp_configure(s, c), err::ok);
        });
    }
    void TearDown() override {
        in_core(s, [&] {
            tcp_free_all(s);
            netif_remove(s, &cap.nif);
        });
        expect_no_leaks(s);
    }
    void inject(const tcp_spec& t) {
        const bytes b = build_tcp(t);
        ASSERT_EQ(s.input(make_pbuf(s, b), &cap.nif), err::ok);
    }
    /// A segment from the peer on the current connection.
    tcp_spec from_peer(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, bytes payload = {}) const {
        tcp_spec t;
        t.sport = peer_port;
        t.dport = our_port;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.payload = std::move(payload);
        return t;
    }
    /// Everything sent since the last take (core context for the read: timers may send).
    std::vector<seen_segment> take() {
        std::vector<seen_segment> out;
        in_core(s, [&] {
            for (const auto& b : cap.sent) out.push_back(parse_tcp(b));
            cap.sent.clear();
        });
        for (const auto& seg : out) EXPECT_TRUE(seg.checksum_ok);
        return out;
    }
    seen_segment take_one() {
        auto v = take();
        EXPECT_EQ(v.size(), 1u);
        return v.empty() ? seen_segment{} : v.front();
    }
    tcp_state state(tcp_pcb* p) {
        return in_core(s, [&] { return p->state; });
    }
    /// Active open from our_port to the peer, up to the SYN sent (state SYN_SENT).
    tcp_pcb* start_active() {
        tcp_pcb* p = in_core(s, [&] {
            tcp_pcb* n = tcp_new(s);
            end.attach(n);
            EXPECT_EQ(tcp_bind(n, k_us, our_port), err::ok);
            EXPECT_EQ(tcp_connect(n, k_peer, peer_port, &tcp_end::on_connected), err::ok);
            return n;
        });
        const auto syn = take_one();
        EXPECT_EQ(syn.flags, flag::syn);
        EXPECT_EQ(syn.seq, k_our_isn);
        EXPECT_TRUE(syn.mss.has_value());
        EXPECT_EQ(state(p), tcp_state::syn_sent);
        return p;
    }
    /// Active open to the peer, completed: our ISN k_our_isn, the peer's `peer_isn`.
    tcp_pcb* establish_active(std::uint16_t peer_mss = 1460) {
        tcp_pcb* p = start_active();
        auto t = from_peer(flag::syn | flag::ack, peer_isn, k_our_isn + 1);
        t.mss = peer_mss;
        inject(t);
        const auto ack = take_one();
        EXPECT_EQ(ack.flags, flag::ack);
        EXPECT_EQ(ack.seq, k_our_isn + 1);
        EXPECT_EQ(ack.ack, peer_isn + 1);
        EXPECT_EQ(state(p), tcp_state::established);
        EXPECT_TRUE(end.connected);
        return p;
    }
    /// An established active connection whose peer announced a zero window, with
    /// `data` written (copied): persist is armed.
    tcp_pcb* persisting(const bytes& data) {
        tcp_pcb* p = establish_active();
        auto zero = from_peer(flag::ack, peer_isn + 1, k_our_isn + 1);
        zero.wnd = 0;
        inject(zero);
        in_core(s, [&] {
            EXPECT_EQ(tcp_write(p, data.data(), static_cast<std::uint32_t>(data.size()), tcp_write_flags::copy),
                      err::ok);
            EXPECT_EQ(tcp_output(p), err::ok);
            EXPECT_NE(p->persist_due, 0u);
        });
        return p;
    }
    /// Passive open: a listener on our_port accepts the peer's connection.
    tcp_pcb* establish_passive() {
        in_core(s, [&] { ASSERT_EQ(server.listen(s, our_port, 2), err::ok); });
        auto syn = from_peer(flag::syn, peer_isn, 0);
        syn.mss = 1000;
        inject(syn);
        const auto synack = take_one();
        EXPECT_EQ(synack.flags, flag::syn | flag::ack);
        EXPECT_EQ(synack.seq, k_our_isn);
        EXPECT_EQ(synack.ack, peer_isn + 1);
        EXPECT_EQ(server.accepted, 0u);
        inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1));
        EXPECT_EQ(server.accepted, 1u);
        EXPECT_TRUE(take().empty());
        tcp_pcb* p = server.first() ? server.first()->pcb : nullptr;
        EXPECT_NE(p, nullptr);
        if (p) {
            EXPECT_EQ(state(p), tcp_state::established);
        }
        return p;
    }

    std::uint32_t isn = k_our_isn;
    std::uint32_t peer_isn = 90000;
    std::uint16_t our_port = 80, peer_port = 5000;
    stack s;
    capture_netif cap;
    tcp_end end;
    tcp_server server;
};
INSTANTIATE_TEST_SUITE_P(Modes, TcpStates, ::testing::ValuesIn(threading_modes()), mode_param_name);

// ---- opening ----------------------------------------------------------------------------

// CLOSED -> LISTEN -> CLOSED, and LISTEN -> SYN_RCVD -> ESTABLISHED (passive open).
TEST_P(TcpStates, ListenAcceptAndCloseListener) {
    tcp_pcb* child = establish_passive();
    ASSERT_NE(child, nullptr);
    in_core(s, [&] {
        EXPECT_EQ(child->mss, 1000);  // the peer's MSS option
        EXPECT_EQ(server.pcb->state, tcp_state::listen);
        EXPECT_EQ(tcp_close(server.pcb), err::ok);  // freed at once
        EXPECT_EQ(tcp_pcbs_in_use(s), 1u);
    });
}

// CLOSED -> SYN_SENT -> ESTABLISHED (active open) and the peer's MSS bounds our segments.
TEST_P(TcpStates, ActiveOpenUsesPeerMss) {
    tcp_pcb* p = establish_active(536);
    const bytes data = pattern(1500);
    in_core(s, [&] {
        tcp_nagle_disable(p);
        ASSERT_EQ(tcp_write(p, data.data(), 1500, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    const auto segs = take();
    ASSERT_EQ(segs.size(), 3u);  // 536 + 536 + 428
    EXPECT_EQ(segs[0].payload.size(), 536u);
    EXPECT_EQ(segs[2].payload.size(), 428u);
    EXPECT_TRUE(segs[2].has(flag::psh));
    bytes joined;
    for (const auto& sg : segs) joined.insert(joined.end(), sg.payload.begin(), sg.payload.end());
    EXPECT_EQ(joined, data);
}

// SYN_SENT -> SYN_RCVD -> ESTABLISHED: the peer's SYN crosses ours (simultaneous open).
TEST_P(TcpStates, SimultaneousOpen) {
    tcp_pcb* p = start_active();
    inject(from_peer(flag::syn, peer_isn, 0));
    EXPECT_EQ(state(p), tcp_state::syn_rcvd);
    const auto synack = take_one();
    EXPECT_EQ(synack.flags, flag::syn | flag::ack);
    EXPECT_EQ(synack.seq, k_our_isn);
    EXPECT_EQ(synack.ack, peer_isn + 1);
    inject(from_peer(flag::syn | flag::ack, peer_isn, k_our_isn + 1));  // the peer's SYN,ACK
    (void)take();
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1));
    EXPECT_EQ(state(p), tcp_state::established);
    EXPECT_TRUE(end.connected);
}

// SYN_SENT -> CLOSED on RST (connection refused: err::rst) and on tcp_close.
TEST_P(TcpStates, SynSentResetAndClose) {
    tcp_pcb* p = start_active();
    inject(from_peer(flag::rst | flag::ack, 0, k_our_isn + 999));  // unacceptable ACK: ignored
    EXPECT_EQ(state(p), tcp_state::syn_sent);
    inject(from_peer(flag::rst | flag::ack, 0, k_our_isn + 1));
    ASSERT_TRUE(end.error.has_value());
    EXPECT_EQ(*end.error, err::rst);
    in_core(s, [&] {
        EXPECT_EQ(tcp_pcbs_in_use(s), 0u);
        tcp_pcb* n = tcp_new(s);
        EXPECT_EQ(tcp_connect(n, k_peer, peer_port, nullptr), err::ok);
        EXPECT_EQ(n->state, tcp_state::syn_sent);
        EXPECT_EQ(tcp_close(n), err::ok);
        EXPECT_EQ(tcp_pcbs_in_use(s), 0u);
    });
}

// The backlog bounds connections in the handshake; a full backlog drops SYNs (counted).
TEST_P(TcpStates, BacklogFullDropsSyn) {
    in_core(s, [&] { ASSERT_EQ(server.listen(s, our_port, 2), err::ok); });
    for (std::uint16_t i = 0; i < 3; ++i) {
        auto syn = from_peer(flag::syn, peer_isn, 0);
        syn.sport = static_cast<std::uint16_t>(6000 + i);
        inject(syn);
    }
    EXPECT_EQ(take().size(), 2u);  // two SYN,ACKs; the third SYN was dropped
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_backlog_full), 1u);
    // A child that completes frees its backlog slot.
    auto ack = from_peer(flag::ack, peer_isn + 1, k_our_isn + 1);
    ack.sport = 6000;
    inject(ack);
    EXPECT_EQ(server.accepted, 1u);
    auto syn = from_peer(flag::syn, peer_isn, 0);
    syn.sport = 6002;
    inject(syn);
    EXPECT_EQ(take().size(), 1u);
    // RST to a child in SYN_RCVD frees it (back to LISTEN) without the application knowing.
    auto rst = from_peer(flag::rst, peer_isn + 1, 0);
    rst.sport = 6001;
    inject(rst);
    in_core(s, [&] {
        EXPECT_EQ(server.pcb->backlog_pending, 1u);
        EXPECT_EQ(tcp_pcbs_in_use(s), 3u);  // listener, accepted child, 6002 in SYN_RCVD
    });
}

// A refused accept (callback returns an error) aborts the child with RST.
TEST_P(TcpStates, RefusedAcceptResets) {
    server.refuse = true;
    in_core(s, [&] { ASSERT_EQ(server.listen(s, our_port), err::ok); });
    inject(from_peer(flag::syn, peer_isn, 0));
    (void)take_one();
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1));
    const auto rst = take_one();
    EXPECT_TRUE(rst.has(flag::rst));
    in_core(s, [&] { EXPECT_EQ(tcp_pcbs_in_use(s), 1u); });
}

// ---- closing ------------------------------------------------------------------------------

// ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED (active close).
TEST_P(TcpStates, ActiveCloseThroughTimeWait) {
    tcp_pcb* p = establish_active();
    in_core(s, [&] { ASSERT_EQ(tcp_shutdown(p, false, true), err::ok); });
    const auto fin = take_one();
    EXPECT_EQ(fin.flags, flag::fin | flag::ack);
    EXPECT_EQ(fin.seq, k_our_isn + 1);
    EXPECT_EQ(state(p), tcp_state::fin_wait_1);
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 2));
    EXPECT_EQ(state(p), tcp_state::fin_wait_2);
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 2));
    EXPECT_EQ(state(p), tcp_state::time_wait);
    EXPECT_TRUE(end.eof);
    EXPECT_EQ(take_one().ack, peer_isn + 2);
    // A retransmitted FIN in TIME_WAIT is acknowledged again.
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 2));
    EXPECT_EQ(take_one().ack, peer_isn + 2);
    in_core(s, [&] {
        EXPECT_EQ(tcp_close(p), err::ok);
        p->time_wait_due = 1;  // make 2*MSL elapse now
    });
    ASSERT_TRUE(wait_core(s, [&] { return tcp_pcbs_in_use(s) == 0; }));
}

// TIME_WAIT -> CLOSED before the application closed: the pcb stays its own (state
// closed, off every list) until tcp_close, so its pointer never dangles.
TEST_P(TcpStates, FinishedConnectionWaitsForClose) {
    tcp_pcb* p = establish_active();
    in_core(s, [&] { ASSERT_EQ(tcp_shutdown(p, false, true), err::ok); });
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 2));
    EXPECT_EQ(state(p), tcp_state::time_wait);
    in_core(s, [&] { p->time_wait_due = 1; });
    ASSERT_TRUE(wait_core(s, [&] { return p->state == tcp_state::closed; }));
    in_core(s, [&] {
        EXPECT_EQ(tcp_pcbs_in_use(s), 1u);
        EXPECT_EQ(tcp_close(p), err::ok);
        EXPECT_EQ(tcp_pcbs_in_use(s), 0u);
    });
    EXPECT_FALSE(end.error);
}

// FIN_WAIT_1 -> TIME_WAIT when the peer's FIN also acknowledges ours.
TEST_P(TcpStates, FinWait1ToTimeWaitOnFinAck) {
    tcp_pcb* p = establish_active();
    in_core(s, [&] { ASSERT_EQ(tcp_close(p), err::ok); });
    (void)take_one();
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 2));
    EXPECT_EQ(state(p), tcp_state::time_wait);
}

// FIN_WAIT_1 -> CLOSING -> TIME_WAIT (simultaneous close).
TEST_P(TcpStates, SimultaneousClose) {
    tcp_pcb* p = establish_active();
    in_core(s, [&] { ASSERT_EQ(tcp_shutdown(p, false, true), err::ok); });
    (void)take_one();
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 1));  // does not ack our FIN
    EXPECT_EQ(state(p), tcp_state::closing);
    EXPECT_EQ(take_one().ack, peer_isn + 2);
    inject(from_peer(flag::ack, peer_isn + 2, k_our_isn + 2));
    EXPECT_EQ(state(p), tcp_state::time_wait);
}

// ESTABLISHED -> CLOSE_WAIT -> LAST_ACK -> CLOSED (passive close).
TEST_P(TcpStates, PassiveClose) {
    tcp_pcb* p = establish_passive();
    ASSERT_NE(p, nullptr);
    inject(from_peer(flag::fin | flag::ack, peer_isn + 1, k_our_isn + 1));
    EXPECT_EQ(state(p), tcp_state::close_wait);
    EXPECT_TRUE(server.first()->eof);
    EXPECT_EQ(take_one().ack, peer_isn + 2);
    in_core(s, [&] { ASSERT_EQ(tcp_close(p), err::ok); });
    EXPECT_EQ(state(p), tcp_state::last_ack);
    const auto fin = take_one();
    EXPECT_TRUE(fin.has(flag::fin));
    inject(from_peer(flag::ack, peer_isn + 2, k_our_isn + 2));
    in_core(s, [&] { EXPECT_EQ(tcp_pcbs_in_use(s), 1u); });  // only the listener
}

// ESTABLISHED -> CLOSED on RST: exact sequence resets; in-window but not exact gets a
// challenge ACK (RFC 5961); tcp_abort sends RST and reports err::abrt.
TEST_P(TcpStates, ResetAndAbort) {
    tcp_pcb* p = establish_active();
    inject(from_peer(flag::rst, peer_isn + 100, 0));
    EXPECT_EQ(state(p), tcp_state::established);
    const auto challenge = take_one();
    EXPECT_EQ(challenge.flags, flag::ack);
    EXPECT_EQ(challenge.ack, peer_isn + 1);
    inject(from_peer(flag::rst, peer_isn + 1, 0));
    ASSERT_TRUE(end.error.has_value());
    EXPECT_EQ(*end.error, err::rst);

    tcp_end other;
    in_core(s, [&] {
        tcp_pcb* n = tcp_new(s);
        other.attach(n);
        ASSERT_EQ(tcp_connect(n, k_peer, peer_port, nullptr), err::ok);
    });
    const auto syn = take_one();
    auto t = from_peer(flag::syn | flag::ack, peer_isn, syn.seq + 1);
    t.dport = syn.sport;
    inject(t);
    (void)take();
    in_core(s, [&] { tcp_abort(other.pcb); });
    const auto rst = take_one();
    EXPECT_TRUE(rst.has(flag::rst));
    ASSERT_TRUE(other.error.has_value());
    EXPECT_EQ(*other.error, err::abrt);
    in_core(s, [&] { EXPECT_EQ(tcp_pcbs_in_use(s), 0u); });
}

// A segment for no connection gets RST (per RFC 9293 3.10.7.1), counted as tcp_no_port.
TEST_P(TcpStates, NoConnectionAnswersRst) {
    inject(from_peer(flag::ack, 1234, 777));
    auto rst = take_one();
    EXPECT_EQ(rst.flags, flag::rst);
    EXPECT_EQ(rst.seq, 777u);
    inject(from_peer(flag::syn, 1234, 0, bytes(10)));
    rst = take_one();
    EXPECT_EQ(rst.flags, flag::rst | flag::ack);
    EXPECT_EQ(rst.ack, 1234u + 11);
    inject(from_peer(flag::rst, 1, 0));  // never answer a RST
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_no_port), 3u);
}

// ---- malformed input ----------------------------------------------------------------------

TEST_P(TcpStates, MalformedSegmentsAreDroppedAndCounted) {
    (void)establish_active();
    const auto before = s.st().tcp_recv.get();
    bytes b = build_tcp(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1, bytes{1, 2, 3}));
    // Bad checksum.
    bytes bad = b;
    bad[41] ^= 0xff;  // a payload byte
    ASSERT_EQ(s.input(make_pbuf(s, bad), &cap.nif), err::ok);
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_bad_checksum), 1u);
    // Data offset 4 words, then 15 words (longer than the segment).
    for (std::uint8_t off : {0x40, 0xf0}) {
        bad = b;
        bad[32] = off;
        fix_tcp_checksum(bad);
        ASSERT_EQ(s.input(make_pbuf(s, bad), &cap.nif), err::ok);
    }
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_bad_header_len), 2u);
    // Malformed options: an option of length 1.
    auto t = from_peer(flag::ack, peer_isn + 1, k_our_isn + 1);
    t.mss = 1460;
    bad = build_tcp(t);
    bad[41] = 1;
    fix_tcp_checksum(bad);
    ASSERT_EQ(s.input(make_pbuf(s, bad), &cap.nif), err::ok);
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_bad_options), 1u);
    // Shorter than a TCP header.
    bad.assign(b.begin(), b.begin() + 30);
    put_be16(bad, 2, 30);
    fix_ip_checksum(bad);
    ASSERT_EQ(s.input(make_pbuf(s, bad), &cap.nif), err::ok);
    EXPECT_EQ(s.st().dropped(drop_reason::tcp_too_short), 1u);
    EXPECT_EQ(s.st().tcp_recv.get(), before);  // none reached a pcb
    EXPECT_TRUE(end.received.empty());
    EXPECT_TRUE(take().empty());
}

// ---- data ---------------------------------------------------------------------------------

// Out-of-order segments wait for the gap; duplicate ACKs signal it; filling it
// delivers everything in order and acknowledges at once.
TEST_P(TcpStates, OutOfOrderReassembly) {
    tcp_pcb* p = establish_active();
    const bytes a = pattern(100, 1), b = pattern(100, 2), c = pattern(100, 3);
    const std::uint32_t base = peer_isn + 1;
    inject(from_peer(flag::ack, base + 200, k_our_isn + 1, c));
    inject(from_peer(flag::ack, base + 100, k_our_isn + 1, b));
    auto dup = take();
    ASSERT_EQ(dup.size(), 2u);
    EXPECT_EQ(dup[0].ack, base);
    EXPECT_EQ(dup[1].ack, base);
    EXPECT_TRUE(end.received.empty());
    inject(from_peer(flag::ack, base, k_our_isn + 1, a));
    bytes want = a;
    want.insert(want.end(), b.begin(), b.end());
    want.insert(want.end(), c.begin(), c.end());
    EXPECT_EQ(end.received, want);
    EXPECT_EQ(take_one().ack, base + 300);
    in_core(s, [&] { EXPECT_EQ(p->ooseq, nullptr); });
    // A segment entirely before rcv_nxt is unacceptable: dropped, answered with an ACK.
    inject(from_peer(flag::ack, base, k_our_isn + 1, a));
    EXPECT_EQ(take_one().ack, base + 300);
    EXPECT_EQ(end.received.size(), 300u);
}

// Delayed ACK: one segment is not acknowledged at once; the second is; the timer
// acknowledges a lone segment within delack_ms.
TEST_P(TcpStates, DelayedAck) {
    tcp_pcb* p = establish_active();
    const std::uint32_t base = peer_isn + 1;
    inject(from_peer(flag::ack, base, k_our_isn + 1, pattern(100)));
    EXPECT_TRUE(take().empty());
    inject(from_peer(flag::ack, base + 100, k_our_isn + 1, pattern(100)));
    EXPECT_EQ(take_one().ack, base + 200);
    inject(from_peer(flag::ack, base + 200, k_our_isn + 1, pattern(100)));
    EXPECT_TRUE(take().empty());
    in_core(s, [&] { p->delack_due = 1; });  // the delayed-ACK deadline has passed
    ASSERT_TRUE(wait_core(s, [&] { return !cap.sent.empty(); }));
    EXPECT_EQ(take_one().ack, base + 300);
}

// Nagle: while data is unacknowledged a small segment waits; TCP_NODELAY sends it.
TEST_P(TcpStates, NagleAndNodelay) {
    tcp_pcb* p = establish_active();
    const bytes d = pattern(10);
    in_core(s, [&] {
        ASSERT_EQ(tcp_write(p, d.data(), 10, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
        ASSERT_EQ(tcp_write(p, d.data(), 10, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_write(p, d.data(), 10, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    EXPECT_EQ(take().size(), 1u);  // the second and third writes wait (and coalesce)
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 11));
    const auto seg = take_one();
    EXPECT_EQ(seg.payload.size(), 20u);
    in_core(s, [&] {
        tcp_nagle_disable(p);
        ASSERT_EQ(tcp_write(p, d.data(), 10, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    EXPECT_EQ(take().size(), 1u);  // sent although 20 bytes are unacknowledged
}

// Send buffer: tcp_write beyond tcp_sndbuf fails with mem and queues nothing; the sent
// callback reports acknowledged bytes; writes after shutdown fail with conn.
TEST_P(TcpStates, SendBufferAndWriteErrors) {
    tcp_pcb* p = establish_active();
    const bytes big = pattern(70000);
    in_core(s, [&] {
        EXPECT_EQ(tcp_sndbuf(p), 0xffffu);
        EXPECT_EQ(tcp_write(p, big.data(), 70000, tcp_write_flags::copy), err::mem);
        EXPECT_EQ(tcp_sndbuf(p), 0xffffu);
        EXPECT_EQ(tcp_write(p, big.data(), 1000, tcp_write_flags::copy), err::ok);
        EXPECT_EQ(tcp_sndbuf(p), 0xffffu - 1000);
        EXPECT_EQ(tcp_output(p), err::ok);
        EXPECT_EQ(tcp_write(nullptr, big.data(), 1, 0), err::arg);
    });
    (void)take();
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1001));
    EXPECT_EQ(end.acked, 1000u);
    in_core(s, [&] {
        EXPECT_EQ(tcp_sndbuf(p), 0xffffu);
        ASSERT_EQ(tcp_shutdown(p, false, true), err::ok);
        EXPECT_EQ(tcp_write(p, big.data(), 1, 0), err::conn);
    });
}

// Retransmission timeout: the oldest segment is resent, the RTO doubles (Karn: no
// sample from it), and after max_retries the connection fails with err::timeout.
TEST_P(TcpStates, RetransmissionTimeoutBacksOff) {
    in_core(s, [&] {
        tcp_config c = tcp_get_config(s);
        c.initial_rto_ms = 20;
        c.min_rto_ms = 20;
        c.max_rto_ms = 80;
        c.max_retries = 3;
        ASSERT_EQ(tcp_configure(s, c), err::ok);
    });
    tcp_pcb* p = establish_active();
    const bytes d = pattern(100);
    in_core(s, [&] {
        ASSERT_EQ(tcp_write(p, d.data(), 100, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    (void)take_one();
    ASSERT_TRUE(wait_core(s, [&] { return s.st().tcp_rto.get() >= 1; }));
    in_core(s, [&] { EXPECT_GE(p->rto_ms, 40u); });  // backed off
    ASSERT_TRUE(wait_core(s, [&] { return end.error.has_value(); }));
    EXPECT_EQ(*end.error, err::timeout);
    const auto segs = take();
    ASSERT_GE(segs.size(), 4u);  // 3 resends and the final RST
    EXPECT_EQ(segs[0].seq, k_our_isn + 1);
    EXPECT_EQ(segs[0].payload, d);
    EXPECT_TRUE(segs.back().has(flag::rst));
    EXPECT_EQ(s.st().tcp_rexmit.get(), 3u);
}

// Three duplicate ACKs resend the first unacknowledged segment at once (RFC 5681).
TEST_P(TcpStates, FastRetransmitOnThreeDupAcks) {
    tcp_pcb* p = establish_active();
    const bytes d = pattern(5000);
    in_core(s, [&] {
        tcp_nagle_disable(p);
        ASSERT_EQ(tcp_write(p, d.data(), 4000, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    ASSERT_EQ(take().size(), 3u);  // initial window: 3 segments of 1460 (IW 4380)
    const std::uint32_t una = k_our_isn + 1;
    inject(from_peer(flag::ack, peer_isn + 1, una + 1460));  // new data acked: cwnd grows
    (void)take();
    for (int i = 0; i < 3; ++i) inject(from_peer(flag::ack, peer_isn + 1, una + 1460));
    const auto segs = take();
    ASSERT_FALSE(segs.empty());
    EXPECT_EQ(segs[0].seq, una + 1460);  // the hole, resent
    EXPECT_EQ(s.st().tcp_fast_rexmit.get(), 1u);
    in_core(s, [&] { EXPECT_TRUE(p->flags & detail::pcb_flag::in_recovery); });
    inject(from_peer(flag::ack, peer_isn + 1, una + 4000));  // full ACK: recovery ends
    in_core(s, [&] {
        EXPECT_FALSE(p->flags & detail::pcb_flag::in_recovery);
        EXPECT_EQ(p->cwnd, p->ssthresh);
    });
}

// A zero window stops sending; persist probes ask for the window; an update restarts.
TEST_P(TcpStates, ZeroWindowPersist) {
    const bytes d = pattern(3000);
    tcp_pcb* p = persisting(d);
    in_core(s, [&] { p->persist_due = 1; });  // fire now
    ASSERT_TRUE(wait_core(s, [&] { return !cap.sent.empty(); }));
    const auto probe = take_one();
    EXPECT_EQ(probe.seq, k_our_isn);  // snd_una - 1: the peer must answer
    EXPECT_TRUE(probe.payload.empty());
    EXPECT_EQ(s.st().tcp_persist_probes.get(), 1u);
    inject(from_peer(flag::ack, peer_isn + 1, k_our_isn + 1));  // window 8192 again
    const auto segs = take();
    ASSERT_EQ(segs.size(), 2u);  // 1460 + 1460; Nagle holds the 80-byte tail until an ACK
    in_core(s, [&] { EXPECT_EQ(p->persist_due, 0u); });
}

/// Configures short retransmission timers (ms: initial and minimum `min_rto_ms`,
/// backed off up to twice that) and a small retry limit for the timeout and persist
/// tests. Core context.
void short_timers(stack& s, std::uint8_t max_retries, std::uint32_t min_rto_ms = 20) {
    tcp_config c = tcp_get_config(s);
    c.initial_rto_ms = min_rto_ms;
    c.min_rto_ms = min_rto_ms;
    c.max_rto_ms = 2 * min_rto_ms;
    c.max_retries = max_retries;
    ASSERT_EQ(tcp_configure(s, c), err::ok);
}

// A zero window may outlast any number of retransmission timeouts while the peer
// answers the probes (RFC 9293 3.8.6.1): the timeout that found the window closed
// hands over to persist, and each answer resets the count. When the window opens,
// the data goes out.
TEST_P(TcpStates, ZeroWindowLastsWhileThePeerAnswersProbes) {
    // The test thread answers each probe; if it stalled for max_retries unanswered probes
    // the connection would rightly time out. At 20-40 ms per probe a loaded machine
    // (sanitizer shards in parallel, load 10-12) stalled it that long now and then;
    // at 150-300 ms that takes a stall of over half a second (12 probes: ~2-4 s).
    in_core(s, [&] { short_timers(s, 3, 150); });
    tcp_pcb* p = establish_active();
    const std::uint32_t una = k_our_isn + 1;
    const bytes d = pattern(100);
    in_core(s, [&] {
        ASSERT_EQ(tcp_write(p, d.data(), 100, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    (void)take_one();
    auto zero = from_peer(flag::ack, peer_isn + 1, una);  // the data was refused: the window is closed
    zero.wnd = 0;
    inject(zero);
    // Three times the retry limit of probes, each answered with the window still closed.
    int probes = 0;
    while (probes < 12) {
        ASSERT_TRUE(wait_core(s, [&] { return !cap.sent.empty() || end.error.has_value(); },
                              std::chrono::milliseconds(5000)));
        ASSERT_FALSE(end.error.has_value()) << "gave up after " << probes << " answered probes";
        for (const auto& seg : take()) {
            ASSERT_FALSE(seg.has(flag::rst));
            if (seg.seq == una - 1 && seg.payload.empty()) {
                ++probes;
                inject(zero);
            }
        }
    }
    EXPECT_GE(s.st().tcp_persist_probes.get(), 12u);
    inject(from_peer(flag::ack, peer_isn + 1, una));  // window 8192: the data goes out again
    bool resent = false;
    for (const auto& seg : take()) resent = resent || (seg.seq == una && seg.payload == d);
    EXPECT_TRUE(resent);
    EXPECT_FALSE(end.error.has_value());
}

// Probes nobody answers count like retransmissions: after max_retries of them the
// connection times out (and the peer gets a RST).
TEST_P(TcpStates, UnansweredProbesTimeOut) {
    in_core(s, [&] { short_timers(s, 3); });
    const bytes d = pattern(100);
    (void)persisting(d);
    ASSERT_TRUE(wait_core(s, [&] { return end.error.has_value(); }));
    EXPECT_EQ(*end.error, err::timeout);
    EXPECT_EQ(s.st().tcp_persist_probes.get(), 3u);
    const auto segs = take();
    ASSERT_FALSE(segs.empty());
    EXPECT_TRUE(segs.back().has(flag::rst));
}

// The peer's window comes with its newest acknowledgement, also on a segment whose
// SEQ is older than the segment the window was last taken from (the peer's
// retransmission after its timeout). Keeping the older window while SND.UNA moves on
// would send beyond the right edge the peer announced.
TEST_P(TcpStates, NewAckUpdatesTheWindowFromAnOlderSegment) {
    tcp_pcb* p = establish_active();
    const std::uint32_t una = k_our_isn + 1;
    const std::uint32_t peer = peer_isn + 1;
    // The peer's bytes 1000..1099 arrive before 0..999 (lost): window 3000 from them.
    auto later = from_peer(flag::ack, peer + 1000, una, pattern(100));
    later.wnd = 3000;  // right edge: una + 3000
    inject(later);
    (void)take();
    const bytes d = pattern(5000);
    in_core(s, [&] {
        tcp_nagle_disable(p);
        ASSERT_EQ(tcp_write(p, d.data(), 5000, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    ASSERT_EQ(take().size(), 2u);  // 2 x 1460 fit the window, the third would not
    // The peer resends 0..999, acknowledging our first segment; the same right edge.
    auto resent = from_peer(flag::ack, peer, una + 1460, pattern(1000));
    resent.wnd = 3000 - 1460;
    inject(resent);
    for (const auto& seg : take())
        EXPECT_TRUE(seq_leq(seg.seq + static_cast<std::uint32_t>(seg.payload.size()), una + 3000))
            << "sent " << seg.seq - una << "+" << seg.payload.size() << " beyond the right edge";
    in_core(s, [&] {
        EXPECT_EQ(p->snd_wnd, 3000u - 1460u);
        EXPECT_EQ(p->snd_una, una + 1460);
    });
}

// An empty segment (here the ACK of an unacceptable one) never carries a sequence
// number beyond the peer's right edge, even after the peer shrank its window under
// data already sent: once that window closes, the peer accepts empty segments only
// at its RCV.NXT, which is the edge.
TEST_P(TcpStates, EmptySegmentsStayWithinAShrunkWindow) {
    tcp_pcb* p = establish_active();
    const std::uint32_t una = k_our_isn + 1;
    const bytes d = pattern(3000);
    in_core(s, [&] {
        tcp_nagle_disable(p);
        ASSERT_EQ(tcp_write(p, d.data(), 3000, tcp_write_flags::copy), err::ok);
        ASSERT_EQ(tcp_output(p), err::ok);
    });
    ASSERT_EQ(take().size(), 3u);  // 1460 + 1460 + 80: snd_max = una + 3000
    auto shrink = from_peer(flag::ack, peer_isn + 1, una);
    shrink.wnd = 1000;  // right edge una + 1000, left of what we sent
    inject(shrink);
    (void)take();
    inject(from_peer(flag::ack, peer_isn + 1 + 0x10000, una));  // outside our window: answered with an ACK
    const auto ack = take_one();
    EXPECT_TRUE(ack.payload.empty());
    EXPECT_EQ(ack.seq, una + 1000);
}

// Window updates: the receiver's window closes as data stays unread and reopens with
// tcp_recved. An update goes out as a segment of its own only when the window the
// sender knows has shrunk to half the buffer or less and the update at least doubles
// it; otherwise the new window rides on the next ACK.
TEST_P(TcpStates, ReceiveWindowAndUpdates) {
    tcp_pcb* p = establish_active();
    end.auto_recved = false;
    const std::uint32_t base = peer_isn + 1;
    std::uint32_t off = 0;
    const auto peer_sends = [&](int segments) {
        for (int i = 0; i < segments; ++i, off += 1000)
            inject(from_peer(flag::ack | flag::psh, base + off, k_our_isn + 1, pattern(1000)));
    };
    peer_sends(4);
    auto acks = take();
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back().wnd, 0xffff - 4000);
    const auto updates0 = s.st().tcp_window_updates.get();
    in_core(s, [&] { end.recved_all(); });  // more than half the window still open: no update of its own
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(s.st().tcp_window_updates.get(), updates0);
    peer_sends(36);  // the next ACKs carry the reopened window; 36000 bytes stay unread
    acks = take();
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back().wnd, 0xffff - 36000);
    in_core(s, [&] { tcp_recved(p, 500); });  // does not double the window: no update
    EXPECT_TRUE(take().empty());
    in_core(s, [&] { end.recved_all(); });
    EXPECT_EQ(take_one().wnd, 0xffff);
    EXPECT_EQ(s.st().tcp_window_updates.get(), updates0 + 1);
}

// The raw API checks its arguments and states.
TEST_P(TcpStates, ApiErrors) {
    in_core(s, [&] {
        EXPECT_EQ(tcp_bind(nullptr, k_us, 1), err::arg);
        EXPECT_EQ(tcp_listen(nullptr, 1), err::arg);
        EXPECT_EQ(tcp_connect(nullptr, k_peer, 1, nullptr), err::arg);
        tcp_pcb* a = tcp_new(s);
        tcp_pcb* b = tcp_new(s);
        EXPECT_EQ(tcp_listen(a, 1), err::arg);  // not bound
        EXPECT_EQ(tcp_bind(a, k_us, 80), err::ok);
        EXPECT_EQ(tcp_bind(b, ip4_addr::any(), 80), err::use);
        EXPECT_EQ(tcp_connect(b, ip4_addr::any(), 80, nullptr), err::val);
        EXPECT_EQ(tcp_connect(b, k_peer, 0, nullptr), err::val);
        EXPECT_EQ(tcp_connect(b, ip4_addr::from_octets(192, 0, 2, 1), 80, nullptr), err::rte);
        EXPECT_EQ(tcp_listen(a, 0), err::ok);
        EXPECT_EQ(a->backlog, 1u);
        EXPECT_EQ(tcp_connect(a, k_peer, 80, nullptr), err::isconn);
        EXPECT_EQ(tcp_write(a, "x", 1, tcp_write_flags::copy), err::conn);
        EXPECT_EQ(tcp_shutdown(a, false, true), err::conn);
        EXPECT_EQ(tcp_configure(s, tcp_config{}), err::use);  // pcbs exist
        EXPECT_EQ(tcp_close(a), err::ok);
        EXPECT_EQ(tcp_close(b), err::ok);
        EXPECT_STREQ(tcp_state_name(tcp_state::time_wait), "time_wait");
    });
}

}  // namespace
}  // namespace lwbench::test

namespace lwbench::test {
namespace {

// The raw API asserts core context (debug and sanitizer builds), like the UDP one.
TEST(TcpDeathTest, RawApiOutsideCoreContextAborts) {
#if !defined(LWBENCH_CHECK_CORE_CONTEXT)
    GTEST_SKIP() << "core-context assertions are compiled out in this build (release)";
#else
    GTEST_FLAG_SET(death_test_style, "threadsafe");  // the stack runs threads
    EXPECT_DEATH(
        {
            stack s;
            tcp_new(s);  // no core_guard
        },
        "tcp_new called outside core context");
    EXPECT_DEATH(
        {
            stack s;
            tcp_pcb* p = nullptr;
            {
                core_guard g(s);
                p = tcp_new(s);
            }
            (void)tcp_bind(p, ip4_addr::any(), 80);  // no core_guard
        },
        "tcp_bind called outside core context");
#endif
}

}  // namespace
}  // namespace lwbench::test
