// The fixed lwIP port's semaphore and mailbox (real_lwip/fixed_port/port_sync.c):
// lwIP's sys_arch semantics (binary semaphore, timeouts, FIFO, trypost on a full
// mailbox, post blocking while full, many producers), and what makes the port
// "fixed": a wake-up only for a thread that sleeps, and objects that the woken
// thread may free at once although the waker wakes after unlocking.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "port_sync.h"
#include "wait_until.hpp"

namespace lwbench::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// A message carrying its producer and sequence number (no allocation: the value is the message).
void* message(std::uintptr_t producer, std::uintptr_t seq) { return reinterpret_cast<void*>((producer << 32) | seq); }
std::uintptr_t producer_of(void* m) { return reinterpret_cast<std::uintptr_t>(m) >> 32; }
std::uintptr_t seq_of(void* m) { return reinterpret_cast<std::uintptr_t>(m) & 0xffffffffu; }

TEST(PortSem, SignalWithoutSleeperIssuesNoWakeupAndIsTakenWithoutWaiting) {
    lwbench_port_sem* sem = lwbench_port_sem_new(0);
    ASSERT_NE(sem, nullptr);
    lwbench_port_sem_signal(sem);
    EXPECT_EQ(lwbench_port_sem_wakeups(sem), 0u);
    EXPECT_EQ(lwbench_port_sem_wait(sem, 0), 0u);
    lwbench_port_sem_free(sem);
}

TEST(PortSem, IsBinaryLikeTheStockPort) {
    lwbench_port_sem* sem = lwbench_port_sem_new(5);  // counts as 1
    ASSERT_NE(sem, nullptr);
    lwbench_port_sem_signal(sem);  // still 1
    EXPECT_EQ(lwbench_port_sem_wait(sem, 0), 0u);
    EXPECT_EQ(lwbench_port_sem_wait(sem, 5), LWBENCH_PORT_TIMEOUT);
    lwbench_port_sem_free(sem);
}

TEST(PortSem, TimedWaitTimesOutNoEarlierThanAsked) {
    lwbench_port_sem* sem = lwbench_port_sem_new(0);
    ASSERT_NE(sem, nullptr);
    const auto start = clock_type::now();
    EXPECT_EQ(lwbench_port_sem_wait(sem, 20), LWBENCH_PORT_TIMEOUT);
    EXPECT_GE(clock_type::now() - start, 20ms);
    EXPECT_EQ(lwbench_port_sem_sleepers(sem), 0u);
    lwbench_port_sem_free(sem);
}

TEST(PortSem, SignalWakesTheSleeperOnce) {
    lwbench_port_sem* sem = lwbench_port_sem_new(0);
    ASSERT_NE(sem, nullptr);
    std::uint32_t result = 1;
    std::thread waiter([&] { result = lwbench_port_sem_wait(sem, 10000); });
    ASSERT_TRUE(wait_until([&] { return lwbench_port_sem_sleepers(sem) == 1; })) << "the waiter never slept";
    lwbench_port_sem_signal(sem);
    waiter.join();
    EXPECT_EQ(result, 0u);
    EXPECT_EQ(lwbench_port_sem_wakeups(sem), 1u);
    lwbench_port_sem_free(sem);
}

// lwIP's pattern (tcpip_callback + wait, a per-call semaphore): the woken thread frees
// the semaphore as soon as its wait returns, while the signaller may still be inside
// pthread_cond_signal. ASan/TSan report any touch of the freed object.
TEST(PortSem, WokenThreadMayFreeTheSemaphoreAtOnce) {
    for (int i = 0; i < 200; ++i) {
        lwbench_port_sem* sem = lwbench_port_sem_new(0);
        ASSERT_NE(sem, nullptr);
        std::thread waiter([sem] {
            lwbench_port_sem_wait(sem, 0);
            lwbench_port_sem_free(sem);
        });
        // Half the rounds signal a sleeper (wake after unlock), half may find none.
        const bool wants_sleeper = i % 2 == 0;
        ASSERT_TRUE(!wants_sleeper || wait_until([&] { return lwbench_port_sem_sleepers(sem) == 1; }));
        lwbench_port_sem_signal(sem);
        waiter.join();
    }
}

TEST(PortMbox, FetchesInPostingOrder) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(16);
    ASSERT_NE(mbox, nullptr);
    for (std::uintptr_t i = 1; i <= 10; ++i) lwbench_port_mbox_post(mbox, message(0, i));
    for (std::uintptr_t i = 1; i <= 10; ++i) {
        void* m = nullptr;
        ASSERT_EQ(lwbench_port_mbox_fetch(mbox, &m, 0), 0u);
        EXPECT_EQ(seq_of(m), i);
    }
    EXPECT_EQ(lwbench_port_mbox_wakeups(mbox), 0u) << "nobody slept, so nobody was woken";
    lwbench_port_mbox_free(mbox);
}

TEST(PortMbox, TrypostFailsWhenFullAndTryfetchWhenEmpty) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(4);
    ASSERT_NE(mbox, nullptr);
    void* m = nullptr;
    EXPECT_EQ(lwbench_port_mbox_tryfetch(mbox, &m), -1);
    for (std::uintptr_t i = 1; i <= 4; ++i) EXPECT_EQ(lwbench_port_mbox_trypost(mbox, message(0, i)), 0);
    EXPECT_EQ(lwbench_port_mbox_trypost(mbox, message(0, 5)), -1) << "a full mailbox accepted a fifth message";
    for (std::uintptr_t i = 1; i <= 4; ++i) {
        ASSERT_EQ(lwbench_port_mbox_tryfetch(mbox, &m), 0);
        EXPECT_EQ(seq_of(m), i);  // the rejected message left no trace
    }
    EXPECT_EQ(lwbench_port_mbox_tryfetch(mbox, &m), -1);
    EXPECT_EQ(lwbench_port_mbox_tryfetch(mbox, nullptr), -1);
    lwbench_port_mbox_free(mbox);
}

TEST(PortMbox, DefaultCapacityIsTheStockPorts128) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(0);
    ASSERT_NE(mbox, nullptr);
    for (std::uintptr_t i = 0; i < 128; ++i) ASSERT_EQ(lwbench_port_mbox_trypost(mbox, message(0, i)), 0);
    EXPECT_EQ(lwbench_port_mbox_trypost(mbox, message(0, 128)), -1);
    lwbench_port_mbox_free(mbox);  // frees with messages queued (lwIP's contract allows it)
}

TEST(PortMbox, TimedFetchOnAnEmptyMailboxTimesOut) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(4);
    ASSERT_NE(mbox, nullptr);
    void* m = message(0, 7);
    const auto start = clock_type::now();
    EXPECT_EQ(lwbench_port_mbox_fetch(mbox, &m, 20), LWBENCH_PORT_TIMEOUT);
    EXPECT_GE(clock_type::now() - start, 20ms);
    EXPECT_EQ(seq_of(m), 7u) << "a timed-out fetch wrote the message slot";
    EXPECT_EQ(lwbench_port_mbox_fetchers_asleep(mbox), 0u);
    lwbench_port_mbox_free(mbox);
}

TEST(PortMbox, PostWakesTheSleepingFetcherOnce) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(4);
    ASSERT_NE(mbox, nullptr);
    void* got = nullptr;
    std::uint32_t result = 1;
    std::thread fetcher([&] { result = lwbench_port_mbox_fetch(mbox, &got, 10000); });
    ASSERT_TRUE(wait_until([&] { return lwbench_port_mbox_fetchers_asleep(mbox) == 1; }));
    lwbench_port_mbox_post(mbox, message(0, 42));
    fetcher.join();
    EXPECT_EQ(result, 0u);
    EXPECT_EQ(seq_of(got), 42u);
    EXPECT_EQ(lwbench_port_mbox_wakeups(mbox), 1u);
    lwbench_port_mbox_free(mbox);
}

TEST(PortMbox, PostSleepsWhileFullAndFetchWakesIt) {
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(2);
    ASSERT_NE(mbox, nullptr);
    lwbench_port_mbox_post(mbox, message(0, 1));
    lwbench_port_mbox_post(mbox, message(0, 2));
    std::thread poster([&] { lwbench_port_mbox_post(mbox, message(0, 3)); });
    ASSERT_TRUE(wait_until([&] { return lwbench_port_mbox_posters_asleep(mbox) == 1; }))
        << "the poster did not sleep on a full mailbox";
    void* m = nullptr;
    ASSERT_EQ(lwbench_port_mbox_fetch(mbox, &m, 0), 0u);
    EXPECT_EQ(seq_of(m), 1u);
    poster.join();
    EXPECT_EQ(lwbench_port_mbox_wakeups(mbox), 1u);
    for (std::uintptr_t want : {2u, 3u}) {
        ASSERT_EQ(lwbench_port_mbox_fetch(mbox, &m, 1000), 0u);
        EXPECT_EQ(seq_of(m), want);
    }
    lwbench_port_mbox_free(mbox);
}

// Four producers into a small mailbox (posters sleep while it is full) and one
// consumer (which sleeps while it is empty): every message arrives once, and each
// producer's messages arrive in the order it posted them.
TEST(PortMbox, ManyProducersOneConsumerLoseNothingAndKeepEachProducersOrder) {
    constexpr std::uintptr_t producers = 4, per_producer = 2000;
    lwbench_port_mbox* mbox = lwbench_port_mbox_new(8);
    ASSERT_NE(mbox, nullptr);
    std::vector<std::thread> threads;
    std::atomic<std::uintptr_t> producers_done{0};
    for (std::uintptr_t p = 0; p < producers; ++p)
        threads.emplace_back([mbox, p, &producers_done] {
            for (std::uintptr_t i = 1; i <= per_producer; ++i) {
                // Alternate the two ways lwIP posts: blocking, and trypost until accepted.
                if (i % 2 == 0) {
                    lwbench_port_mbox_post(mbox, message(p, i));
                } else {
                    while (lwbench_port_mbox_trypost(mbox, message(p, i)) != 0) std::this_thread::yield();
                }
            }
            producers_done.fetch_add(1);
        });
    std::vector<std::uintptr_t> last(producers, 0);
    std::uintptr_t received = 0, out_of_order = 0, foreign = 0, timeouts = 0;
    while (received < producers * per_producer) {
        void* m = nullptr;
        if (lwbench_port_mbox_fetch(mbox, &m, 10000) == LWBENCH_PORT_TIMEOUT) {
            ++timeouts;  // a lost message or wake-up: fail instead of hanging
            break;
        }
        const auto p = producer_of(m);
        if (p >= producers) {
            ++foreign;
            continue;
        }
        if (seq_of(m) != last[p] + 1) ++out_of_order;
        last[p] = seq_of(m);
        ++received;
    }
    if (timeouts != 0) {
        // Free the producers still asleep on the full mailbox, so the test fails instead of hanging.
        EXPECT_TRUE(wait_until([&] {
            lwbench_port_mbox_tryfetch(mbox, nullptr);
            return producers_done.load() == producers;
        }));
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(timeouts, 0u);
    EXPECT_EQ(foreign, 0u);
    EXPECT_EQ(received, producers * per_producer);
    EXPECT_EQ(out_of_order, 0u);
    void* extra = nullptr;
    EXPECT_EQ(lwbench_port_mbox_tryfetch(mbox, &extra), -1) << "a message arrived twice";
    lwbench_port_mbox_free(mbox);
}

}  // namespace
}  // namespace lwbench::test
