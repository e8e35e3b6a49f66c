// where_work_runs_test.cpp — proves on which thread the core work runs, under every
// configuration:
//  - message_passing: a socket sendto is exactly one API message executed by the
//    tcpip thread (udp_sendto → ip4_output → the netif's output run there);
//  - core_locking: the caller runs it itself under the core lock, and (inline input)
//    the tcpip thread is not woken at all: no tcpip message of any kind and no
//    voluntary context switch of the tcpip thread over 1000 send+recv round trips.
//  - received packets are processed on the tcpip thread with mailbox input, and by
//    the delivering thread with inline input (in core_locking: the sender itself).
//  - combining: a lone caller finds the core free and runs its call itself, as the
//    combiner (counted api_calls_combined_self); nothing goes to the tcpip thread.
#include "integration_support.hpp"

namespace lwbench::test::it {
namespace {

class WhereWorkRuns : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(false)};
    stack s{GetParam()};
    loopback_netif lo{s};

    void SetUp() override { ASSERT_EQ(lo.status(), err::ok); }
    void TearDown() override {
        drain(s);
        EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
        expect_no_leaks(s);
    }
    [[nodiscard]] bool mp() const { return GetParam().mode == threading_mode::message_passing; }
    [[nodiscard]] bool combining() const { return GetParam().mode == threading_mode::combining; }
    /// The delivering thread processes the packet: inline input, or combining input
    /// (a lone publisher finds the core free and runs its own input).
    [[nodiscard]] bool inline_input() const { return GetParam().input != input_mode::mailbox; }

    struct msg_counts {
        std::uint64_t api, input, callback, timer, locked, combined_self, combined_other;
    };
    [[nodiscard]] msg_counts counts() const {
        const auto& st = s.st();
        return {st.tcpip_msgs_api.get(),          st.tcpip_msgs_input.get(),
                st.tcpip_msgs_callback.get(),     st.tcpip_msgs_timer.get(),
                st.api_calls_locked.get(),        st.api_calls_combined_self.get(),
                st.api_calls_combined_other.get()};
    }
};

TEST_P(WhereWorkRuns, SocketSendtoRunsUdpSendtoOnTheRightThread) {
    // A netif that records the thread its output runs on: that is where udp_sendto ran.
    recording_netif rec(ip4_addr::from_octets(10, 99, 0, 1), ip4_addr::from_octets(255, 255, 255, 0));
    ASSERT_EQ(netifapi_add(s, &rec.n), err::ok);
    ASSERT_EQ(netifapi_set_up(s, &rec.n), err::ok);
    const int tx = bound_socket(s);
    ASSERT_GT(tx, 0);
    rec.expected_thread.store(mp() ? s.tcpip_thread_id() : std::this_thread::get_id());
    ASSERT_NE(s.tcpip_thread_id(), std::this_thread::get_id());

    constexpr int n = 200;
    const auto dst = sin_of(ip4_addr::from_octets(10, 99, 0, 2), 9);
    const msg_counts before = counts();
    for (int i = 0; i < n; ++i) ASSERT_EQ(lwip_sendto(s, tx, "payload", 7, 0, sa(dst), sizeof dst), 7);
    const msg_counts after = counts();

    EXPECT_EQ(rec.outputs.load(), static_cast<std::uint64_t>(n));
    EXPECT_EQ(rec.on_expected_thread.load(), static_cast<std::uint64_t>(n))
        << (mp() ? "message_passing: udp_sendto must run on the tcpip thread"
                 : "core_locking and combining: udp_sendto must run on the calling thread");
    const std::uint64_t none = 0, each = n;
    EXPECT_EQ(after.api - before.api, mp() ? each : none) << "one API message per sendto in message passing";
    EXPECT_EQ(after.locked - before.locked, !mp() && !combining() ? each : none)
        << "one locked call per sendto in core locking";
    EXPECT_EQ(after.combined_self - before.combined_self, combining() ? each : none)
        << "combining: a lone caller runs each of its calls itself";
    EXPECT_EQ(after.combined_other - before.combined_other, 0u);
    EXPECT_EQ(after.input - before.input, 0u) << "nothing came back in";
    EXPECT_EQ(after.callback - before.callback, 0u);
    EXPECT_EQ(lwip_close(s, tx), 0);
    ASSERT_EQ(netifapi_remove(s, &rec.n), err::ok);
}

TEST_P(WhereWorkRuns, ReceivedPacketIsProcessedOnTheRightThread) {
    raw_sink sink;
    ASSERT_EQ(sink.open(s, 7100), err::ok);
    // mailbox input: always the tcpip thread. inline input: whoever delivers — the
    // tcpip thread when it ran the send (message_passing), the sender otherwise.
    const bool on_tcpip = !inline_input() || mp();
    sink.expected_thread.store(on_tcpip ? s.tcpip_thread_id() : std::this_thread::get_id());
    const int tx = bound_socket(s);
    ASSERT_GT(tx, 0);
    constexpr int n = 200;
    const auto dst = lo_sin(7100);
    const msg_counts before = counts();
    for (int i = 0; i < n; ++i) ASSERT_EQ(lwip_sendto(s, tx, "abc", 3, 0, sa(dst), sizeof dst), 3);
    drain(s);  // mailbox input: the input messages run asynchronously; wait for them
    const msg_counts after = counts();  // drain() itself is one callback message, not counted below
    EXPECT_EQ(sink.count.load(), static_cast<std::uint64_t>(n));
    EXPECT_EQ(sink.on_expected_thread.load(), static_cast<std::uint64_t>(n))
        << "recv callback ran on the wrong thread (expected " << (on_tcpip ? "the tcpip thread" : "the sender")
        << ")";
    EXPECT_EQ(after.input - before.input, inline_input() ? 0u : static_cast<std::uint64_t>(n))
        << "one input message per packet with mailbox input, none inline";
    EXPECT_EQ(after.api - before.api, mp() ? static_cast<std::uint64_t>(n) : 0u);
    // Combining with mailbox input: the tcpip thread, holding the core for an input
    // message, may run a sendto published meanwhile. Each is counted exactly once.
    EXPECT_EQ((after.combined_self - before.combined_self) + (after.combined_other - before.combined_other),
              combining() ? static_cast<std::uint64_t>(n) : 0u);
    EXPECT_EQ(lwip_close(s, tx), 0);
    sink.close(s);
}

/// Only core_locking with inline input leaves the tcpip thread asleep: these are the 9
/// configurations of that pair (every mailbox kind × every lock kind).
std::vector<stack_config> core_locking_inline_configs() {
    std::vector<stack_config> out;
    for (const auto& c : all_configs())
        if (c.mode == threading_mode::core_locking && c.input == input_mode::inline_) out.push_back(c);
    return out;
}

class TcpipThreadAsleep : public WhereWorkRuns {};

TEST_P(TcpipThreadAsleep, CoreLockingInlineNeverWakesTheTcpipThread) {
    ASSERT_FALSE(mp());
    ASSERT_TRUE(inline_input());
    const int rx = bound_socket(s, 7101);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const pid_t tid = tcpip_tid(s);  // a tcpip message, before the measured window
    ASSERT_GT(tid, 0);
    // Wait (bounded, without sleeping) until the tcpip thread is asleep in its mailbox.
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (task_state(tid) != 'S') {
        ASSERT_LT(std::chrono::steady_clock::now(), limit) << "tcpip thread never went to sleep";
        std::this_thread::yield();
    }
    const long long vcs0 = task_status_field(tid, "voluntary_ctxt_switches");
    const long long ncs0 = task_status_field(tid, "nonvoluntary_ctxt_switches");
    ASSERT_GE(vcs0, 0);
    const msg_counts before = counts();
    const auto dst = lo_sin(7101);
    constexpr int n = 1000;
    char buf[64];
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(lwip_sendto(s, tx, "ping", 4, 0, sa(dst), sizeof dst), 4);
        ASSERT_EQ(lwip_recv(s, rx, buf, sizeof buf, MSG_DONTWAIT), 4) << "delivered before sendto returned";
    }
    const msg_counts after = counts();
    const long long vcs1 = task_status_field(tid, "voluntary_ctxt_switches");
    const long long ncs1 = task_status_field(tid, "nonvoluntary_ctxt_switches");
    EXPECT_EQ(after.api, before.api);
    EXPECT_EQ(after.input, before.input);
    EXPECT_EQ(after.callback, before.callback);
    EXPECT_EQ(after.timer, before.timer);
    EXPECT_EQ(after.locked - before.locked, static_cast<std::uint64_t>(n)) << "one locked call per sendto; recv takes none";
    EXPECT_EQ(vcs1, vcs0) << "the tcpip thread woke up during core-locking traffic";
    EXPECT_EQ(ncs1, ncs0);
    EXPECT_EQ(task_state(tid), 'S');
    EXPECT_EQ(lwip_close(s, tx), 0);
    EXPECT_EQ(lwip_close(s, rx), 0);
}

INSTANTIATE_TEST_SUITE_P(AllConfigs, WhereWorkRuns, ::testing::ValuesIn(all_configs()), config_name);
INSTANTIATE_TEST_SUITE_P(CoreLockingInline, TcpipThreadAsleep, ::testing::ValuesIn(core_locking_inline_configs()),
                         config_name);

}  // namespace
}  // namespace lwbench::test::it
