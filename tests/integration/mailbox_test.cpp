// mailbox_test.cpp — the tcpip mailbox kinds on their own (detail::make_mailbox), every
// kind: FIFO order, the bound (trypost fails when full, post waits for room), and no
// lost wake-up when several callers hand messages to one consumer and wait for their
// completions (the API call's pattern: post, wait_reply; fetch, reply), bounded by the
// watchdog. The adaptive kind also on one CPU with an unbounded spin budget: it must
// block at once there (a spinner would keep its partner off the CPU).
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
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

/// Pins the calling thread (and the threads it starts) to CPU 0 while it lives, then
/// restores the affinity it had.
class pinned_to_cpu0 {
public:
    pinned_to_cpu0() {
        _saved_ok = pthread_getaffinity_np(pthread_self(), sizeof(_saved), &_saved) == 0;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        _ok = _saved_ok && pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
    }
    ~pinned_to_cpu0() {
        if (_saved_ok) pthread_setaffinity_np(pthread_self(), sizeof(_saved), &_saved);
    }
    pinned_to_cpu0(const pinned_to_cpu0&) = delete;
    pinned_to_cpu0& operator=(const pinned_to_cpu0&) = delete;
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
    const pinned_to_cpu0 pin;  // the threads call_storm starts inherit it
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
    const pinned_to_cpu0 pin;
    if (!pin.ok()) GTEST_SKIP() << "cannot pin to CPU 0 here";
    auto mb = detail::make_mailbox(mailbox_kind::adaptive, 16, 1u << 31);
    call_storm(*mb, 1, scaled(20000));
}

}  // namespace
}  // namespace lwbench::test::it
