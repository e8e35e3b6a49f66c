// mailbox_test.cpp — the tcpip mailbox kinds on their own (detail::make_mailbox), every
// kind: FIFO order, the bound (trypost fails when full, post waits for room), and no
// lost wake-up when several callers hand messages to one consumer and wait for their
// completions (the API call's pattern: post, wait_reply; fetch, reply), bounded by the
// watchdog. The adaptive kind also on one CPU with an unbounded spin budget: it must
// block at once there (a spinner would keep its partner off the CPU); and the spinning
// kinds across CPUs: a stack's API call whose partner runs costs no sleep on either side.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "integration_support.hpp"
#include "lwbench/detail/mailbox.hpp"
#include "lwbench/detail/tcpip_msg.hpp"

namespace lwbench::test::it {
namespace {

using detail::mailbox;
using detail::tcpip_msg;

class Mailbox : public testing::TestWithParam<mailbox_kind> {
protected:
    watchdog _dog{watchdog_limit(true)};
};

std::string kind_name(const testing::TestParamInfo<mailbox_kind>& info) { return to_string(info.param); }

/// Pins the calling thread (and the threads it starts) to `cpu` while it lives, then
/// restores the affinity it had.
class pinned_to_cpu {
public:
    explicit pinned_to_cpu(int cpu) {
        _saved_ok = pthread_getaffinity_np(pthread_self(), sizeof(_saved), &_saved) == 0;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        _ok = _saved_ok && pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
    }
    ~pinned_to_cpu() {
        if (_saved_ok) pthread_setaffinity_np(pthread_self(), sizeof(_saved), &_saved);
    }
    pinned_to_cpu(const pinned_to_cpu&) = delete;
    pinned_to_cpu& operator=(const pinned_to_cpu&) = delete;
    [[nodiscard]] bool ok() const { return _ok; }

private:
    cpu_set_t _saved{};
    bool _saved_ok = false, _ok = false;
};

TEST_P(Mailbox, FetchesInPostOrder) {
    auto mb = detail::make_mailbox(GetParam(), 8, 1000);
    std::vector<tcpip_msg> msgs(8);
    for (auto& m : msgs) mb->post(&m);
    EXPECT_EQ(mb->size(), 8u);
    for (auto& m : msgs) EXPECT_EQ(mb->fetch(), &m);
    EXPECT_EQ(mb->size(), 0u);
}

TEST_P(Mailbox, TrypostFailsWhenFullAndPostWaitsForRoom) {
    auto mb = detail::make_mailbox(GetParam(), 4, 1000);
    std::vector<tcpip_msg> msgs(6);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(mb->trypost(&msgs[i])) << i;
    EXPECT_FALSE(mb->trypost(&msgs[4])) << "a full mailbox accepted a fifth message";
    std::atomic<bool> posted{false};
    std::thread poster([&] {
        mb->post(&msgs[5]);  // blocks until the fetch below makes room
        posted = true;
    });
    EXPECT_EQ(mb->fetch(), &msgs[0]);
    poster.join();
    EXPECT_TRUE(posted.load());
    for (int i : {1, 2, 3, 5}) EXPECT_EQ(mb->fetch(), &msgs[i]) << i;
}

/// `callers` threads each make `calls` calls (post, then wait_reply on their own
/// semaphore) against one consumer that fetches and replies: every call completes, in
/// order per caller, and the consumer sees every message once.
void call_storm(mailbox& mb, int callers, int calls) {
    std::atomic<long> fetched{0};
    tcpip_msg quit;
    std::thread consumer([&] {
        for (;;) {
            tcpip_msg* m = mb.fetch();
            if (m == &quit) return;
            m->result = err::ok;
            fetched.fetch_add(1, std::memory_order_relaxed);
            mb.reply(*m->done);
        }
    });
    std::vector<std::thread> threads;
    std::atomic<int> completed{0};
    for (int c = 0; c < callers; ++c)
        threads.emplace_back([&] {
            detail::futex_sem done;
            for (int i = 0; i < calls; ++i) {
                tcpip_msg m;
                m.result = err::arg;
                m.done = &done;
                mb.post(&m);
                mb.wait_reply(done);
                if (m.result == err::ok) completed.fetch_add(1, std::memory_order_relaxed);
            }
        });
    for (auto& t : threads) t.join();
    mb.post(&quit);
    consumer.join();
    EXPECT_EQ(completed.load(), callers * calls);
    EXPECT_EQ(fetched.load(), static_cast<long>(callers) * calls);
}

TEST_P(Mailbox, NoLostWakeUpUnderManyCallers) {
    auto mb = detail::make_mailbox(GetParam(), 2, 200);  // tiny: posters also wait for room
    call_storm(*mb, 4, scaled(20000));
}

TEST_P(Mailbox, NoLostWakeUpOnOneCpu) {
    const pinned_to_cpu pin(0);  // the threads call_storm starts inherit it
    if (!pin.ok()) GTEST_SKIP() << "cannot pin to CPU 0 here";
    auto mb = detail::make_mailbox(GetParam(), 2, 200);
    call_storm(*mb, 2, scaled(5000));
}

INSTANTIATE_TEST_SUITE_P(Kinds, Mailbox, testing::ValuesIn(k_mailbox_kinds), kind_name);

// The adaptive kind's promise on one CPU: a waiter whose partner runs on the same CPU
// sleeps at once. With a spin budget of 2^31 a spinning waiter would hold the CPU until
// the scheduler preempts it, every hand-off: 20000 hand-offs would then take minutes,
// and the watchdog (60 s; 240 s under sanitizers) ends the test as failed.
TEST(AdaptiveMailbox, NeverSpinsForAPartnerOnTheSameCpu) {
    watchdog dog(watchdog_limit(true));
    const pinned_to_cpu pin(0);
    if (!pin.ok()) GTEST_SKIP() << "cannot pin to CPU 0 here";
    auto mb = detail::make_mailbox(mailbox_kind::adaptive, 16, 1u << 31);
    call_storm(*mb, 1, scaled(20000));
}

/// How often the calling thread has gone to sleep so far (voluntary context switches:
/// it blocked, e.g. on a futex), from getrusage(RUSAGE_THREAD).
long voluntary_switches() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw;
}

// Across CPUs, with both sides running, no side of an API call's hand-off sleeps: the
// caller (on CPU 1) spins for its completion while the tcpip thread (CPU 0) runs, and
// the tcpip thread spins for the next message while the caller runs. A blocking
// hand-off (mutex_cv: 39915 and 39942 sleeps in 40000 calls when tried) costs each
// side one sleep per call; the bound (1 per 100 calls)
// leaves room for the partner being preempted by other processes now and then (the
// spinner's budget runs out and it sleeps once). The tcpip thread counts its own
// sleeps in core context, by a call it runs.
class SpinningMailbox : public testing::TestWithParam<mailbox_kind> {
protected:
    watchdog _dog{watchdog_limit(true)};
};

TEST_P(SpinningMailbox, AcrossCpusARunningPartnerCostsNoSleep) {
    if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs two CPUs";
    const pinned_to_cpu caller_cpu(1);
    if (!caller_cpu.ok()) GTEST_SKIP() << "cannot pin to CPU 1 here";
    stack_config cfg;
    cfg.mode = threading_mode::message_passing;
    cfg.input = input_mode::mailbox;
    cfg.mailbox = GetParam();
    cfg.tcpip_cpu = 0;
    stack s(cfg);
    // Both sides shielded from other processes on their CPUs (set_thread_nice): a
    // preempted partner makes the spinner sleep once, which is the machine's, not the kind's.
    const int nice_before = set_thread_nice(0, -20);
    set_thread_nice(tcpip_tid(s), -20);
    const auto noop = [](void*) { return err::ok; };
    const auto tcpip_sleeps = [&] {
        long n = -1;
        EXPECT_EQ(s.call([](void* out) { *static_cast<long*>(out) = voluntary_switches(); return err::ok; }, &n),
                  err::ok);
        return n;
    };
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(s.call(noop, nullptr), err::ok);  // both sides spinning by now
    const int calls = scaled(40000);
    const long tcpip_before = tcpip_sleeps();
    const long caller_before = voluntary_switches();
    for (int i = 0; i < calls; ++i) ASSERT_EQ(s.call(noop, nullptr), err::ok);
    const long caller = voluntary_switches() - caller_before;
    const long tcpip = tcpip_sleeps() - tcpip_before;
    set_thread_nice(0, nice_before);
    EXPECT_LE(caller, calls / 100) << "the caller slept " << caller << " times in " << calls << " calls";
    EXPECT_LE(tcpip, calls / 100) << "the tcpip thread slept " << tcpip << " times in " << calls << " calls";
}

INSTANTIATE_TEST_SUITE_P(Kinds, SpinningMailbox, testing::Values(mailbox_kind::spin_then_block, mailbox_kind::adaptive),
                         kind_name);

// The same promise as NeverSpinsForAPartnerOnTheSameCpu, through a stack: the caller
// and the tcpip thread on CPU 0 with an unbounded spin budget. Every API call's waits
// (the tcpip thread for the message, the caller for its completion) must block at
// once; a spinning wait would hold CPU 0 until preempted and the watchdog would fail
// the test long before the calls finish.
TEST(AdaptiveMailbox, StackCallsOnOneCpuNeverSpin) {
    watchdog dog(watchdog_limit(true));
    const pinned_to_cpu pin(0);
    if (!pin.ok()) GTEST_SKIP() << "cannot pin to CPU 0 here";
    stack_config cfg;
    cfg.mode = threading_mode::message_passing;
    cfg.input = input_mode::mailbox;
    cfg.mailbox = mailbox_kind::adaptive;
    cfg.spin_iterations = std::numeric_limits<std::uint32_t>::max();
    cfg.tcpip_cpu = 0;
    stack s(cfg);
    const int calls = scaled(20000);
    int completed = 0;
    for (int i = 0; i < calls; ++i) completed += s.call([](void*) { return err::ok; }, nullptr) == err::ok;
    EXPECT_EQ(completed, calls);
}

}  // namespace
}  // namespace lwbench::test::it
