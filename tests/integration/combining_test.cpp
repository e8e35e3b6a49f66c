// combining_test.cpp — the combining threading mode (detail/publication_slots.hpp):
//  - a call published while another thread holds the core is run by that holder
//    before it releases the core, and its caller returns without taking the lock;
//  - many threads calling at once: every call runs exactly once, mutually exclusive
//    with every other (TSan checks the plain counter), and is counted exactly once,
//    as run by its caller or by another thread;
//  - a caller that finds nothing published and the core free runs its call without
//    publishing it (counted as run by its caller);
//  - a waiter that outlasts its spin and its yields sleeps, and the holder's release
//    runs its call and wakes it;
//  - (input published by driver threads: tests/unit/api/test_combining_input.cpp);
//  - publication slots are registered per thread and per stack and given back when
//    the thread exits; a thread's registrations do not grow with the stacks it used.
// Every wait is bounded; nothing sleeps to synchronise.
#include "integration_support.hpp"
#include "lwbench/detail/publication_slots.hpp"
#include "lwbench/detail/stack_access.hpp"

namespace lwbench::test::it {
namespace {

stack_config combining_config(lock_kind lock) {
    stack_config c;
    c.mode = threading_mode::combining;
    c.input = input_mode::combining;
    c.lock = lock;
    c.spin_iterations = 2000;
    return c;
}

/// Waits (bounded, yielding) until pred() holds; false on time-out.
template <class Pred>
bool eventually(Pred pred) {
    const auto limit = std::chrono::steady_clock::now() + watchdog_limit(false) / 2;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > limit) return false;
        std::this_thread::yield();
    }
    return true;
}

class Combining : public ::testing::TestWithParam<lock_kind> {
protected:
    watchdog wd{watchdog_limit(false)};
    stack s{combining_config(GetParam())};
};

TEST_P(Combining, CallPublishedWhileTheCoreIsHeldIsRunByTheHolder) {
    const auto& st = s.st();
    const std::uint64_t self0 = st.api_calls_combined_self.get(), other0 = st.api_calls_combined_other.get();
    std::thread::id ran_on;
    std::atomic<err> result{err::val};
    std::optional<std::thread> caller;
    {
        core_guard g(s);  // this thread holds the core
        caller.emplace([&] {
            result = s.call([&] {
                ran_on = std::this_thread::get_id();
                return err::inprogress;  // a result that proves it came back from the slot
            });
        });
        ASSERT_TRUE(eventually([&] { return s.published_calls() == 1; })) << "the call was never published";
    }  // releasing the core runs the published call here, then wakes its caller
    caller->join();
    EXPECT_EQ(ran_on, std::this_thread::get_id()) << "the holder runs the published call";
    EXPECT_EQ(result.load(), err::inprogress);
    EXPECT_EQ(st.api_calls_combined_other.get() - other0, 1u) << "counted as run by another thread";
    EXPECT_EQ(st.api_calls_combined_self.get() - self0, 0u);
    EXPECT_EQ(s.published_calls(), 0u);
}

/// True if some publication slot of `s` is in `state` (slot states: publication_slots.hpp).
bool any_slot_in(stack& s, std::uint32_t state) {
    auto& slots = detail::stack_access::slots(s);
    for (std::size_t i = 0; i < slots.scan_end(); ++i)
        if (slots[i].state.load(std::memory_order_acquire) == state) return true;
    return false;
}

TEST_P(Combining, ALoneCallerRunsItsCallWithoutPublishingIt) {
    const auto& st = s.st();
    const std::uint64_t self0 = st.api_calls_combined_self.get(), other0 = st.api_calls_combined_other.get();
    constexpr int calls = 100;
    int published_while_running = 0;
    std::thread caller([&] {
        for (int i = 0; i < calls; ++i)
            ASSERT_EQ(s.call([&] {
                // A published call is claimed (running) while it runs; an unpublished one
                // leaves every slot idle.
                if (any_slot_in(s, detail::publication_slot::running) || s.published_calls() != 0)
                    ++published_while_running;
                return err::ok;
            }),
                      err::ok);
    });
    caller.join();
    EXPECT_EQ(published_while_running, 0) << "a lone caller found the core free: nothing to publish";
    EXPECT_EQ(st.api_calls_combined_self.get() - self0, static_cast<std::uint64_t>(calls));
    EXPECT_EQ(st.api_calls_combined_other.get() - other0, 0u);
}

TEST_P(Combining, AWaiterPastItsSpinAndYieldsSleepsAndTheReleaseRunsItsCallAndWakesIt) {
    const auto& st = s.st();
    const std::uint64_t other0 = st.api_calls_combined_other.get();
    std::atomic<err> result{err::val};
    std::optional<std::thread> caller;
    bool ran_in_core = false;
    {
        core_guard g(s);
        caller.emplace([&] {
            result = s.call([&] {
                ran_in_core = s.in_core_context();
                return err::inprogress;
            });
        });
        // The caller finds the core held: it publishes, spins, yields, then sleeps on its
        // slot (the flag is set just before FUTEX_WAIT, and only after the yields).
        auto& slots = detail::stack_access::slots(s);
        ASSERT_TRUE(eventually([&] {
            for (std::size_t i = 0; i < slots.scan_end(); ++i)
                if (slots[i].sleeping.load(std::memory_order_acquire) != 0) return true;
            return false;
        })) << "the waiter never went to sleep";
        EXPECT_EQ(s.published_calls(), 1u);
    }  // the release runs the call, then wakes its caller
    caller->join();
    EXPECT_EQ(result.load(), err::inprogress);
    EXPECT_TRUE(ran_in_core);
    EXPECT_EQ(st.api_calls_combined_other.get() - other0, 1u);
    EXPECT_FALSE(any_slot_in(s, detail::publication_slot::published)) << "nothing left published";
}

TEST_P(Combining, ManyThreadsEveryCallRunsOnceAndIsCountedOnce) {
    constexpr int threads = 4, calls = 3000;
    const auto& st = s.st();
    const std::uint64_t self0 = st.api_calls_combined_self.get(), other0 = st.api_calls_combined_other.get();
    std::uint64_t in_core = 0;  // core state: a plain counter, TSan flags any overlap
    std::atomic<int> wrong{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < calls; ++i) {
                const err expect = (i + t) % 2 == 0 ? err::ok : err::wouldblock;
                if (s.call([&] {
                        ++in_core;
                        return expect;
                    }) != expect)
                    wrong.fetch_add(1);
            }
        });
    for (auto& th : pool) th.join();
    constexpr auto total = static_cast<std::uint64_t>(threads) * calls;
    EXPECT_EQ(wrong.load(), 0) << "a caller got another call's result";
    EXPECT_EQ(s.call([&] { return in_core == total ? err::ok : err::val; }), err::ok) << "every call ran exactly once";
    EXPECT_EQ((st.api_calls_combined_self.get() - self0) + (st.api_calls_combined_other.get() - other0), total + 1)
        << "each call counted once, as self or other";
    EXPECT_EQ(st.api_calls_locked.get(), 0u);
    EXPECT_EQ(st.tcpip_msgs_api.get(), 0u);
    ::testing::Test::RecordProperty("combined_by_other", static_cast<int>(st.api_calls_combined_other.get() - other0));
    EXPECT_EQ(s.published_calls(), 0u);
}

TEST_P(Combining, SlotsAreGivenBackWhenThreadsExitAndRegistrationsDoNotGrow) {
    auto& slots = detail::stack_access::slots(s);
    const std::size_t before = slots.in_use();
    for (int round = 0; round < 3 * static_cast<int>(detail::k_publication_slots); ++round) {
        std::thread th([&] { EXPECT_EQ(s.call([] { return err::ok; }), err::ok); });
        th.join();
    }
    EXPECT_EQ(slots.in_use(), before) << "every exited thread gave its slot back";
    // One thread using many stacks one after the other keeps one registration at most.
    std::thread user([] {
        for (int i = 0; i < 20; ++i) {
            stack other{combining_config(lock_kind::std_mutex)};
            EXPECT_EQ(other.call([] { return err::ok; }), err::ok);
            EXPECT_EQ(detail::stack_access::slots(other).in_use(), 1u);
            EXPECT_LE(detail::thread_registrations(), 1u) << "registrations of dead stacks are pruned";
        }
    });
    user.join();
}

INSTANTIATE_TEST_SUITE_P(Locks, Combining,
                         ::testing::Values(lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex),
                         [](const ::testing::TestParamInfo<lock_kind>& i) { return std::string(to_string(i.param)); });

TEST(PublicationSlots, AFullTableRefusesAndAReleasedSlotIsReused) {
    auto table = std::make_shared<detail::publication_slots>(2);
    detail::publication_slot* a = table->acquire();
    detail::publication_slot* b = table->acquire();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_EQ(table->acquire(), nullptr) << "bounded: no third slot";
    EXPECT_EQ(table->scan_end(), 2u);
    table->release(a);
    EXPECT_EQ(table->acquire(), a) << "a given-back slot is reused, the scan range does not grow";
    EXPECT_EQ(table->scan_end(), 2u);
    EXPECT_EQ(table->in_use(), 2u);
}

}  // namespace
}  // namespace lwbench::test::it
