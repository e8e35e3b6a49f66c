// The tcpip thread's other messages: cyclic timers, fire-and-forget callbacks,
// wait-for-completion callbacks — in every mailbox kind and both threading modes.
#include <gtest/gtest.h>

#include <thread>

#include "unit_support.hpp"

namespace lwbench::test {
namespace {

struct timer_probe {
    stack* s = nullptr;
    std::atomic<int> fired{0};
    std::atomic<bool> in_core{true};
    std::atomic<bool> on_tcpip{true};
};

void on_timer(void* arg) {
    auto* t = static_cast<timer_probe*>(arg);
    if (!t->s->in_core_context()) t->in_core = false;
    if (std::this_thread::get_id() != t->s->tcpip_thread_id()) t->on_tcpip = false;
    t->fired.fetch_add(1);
}

class Tcpip : public testing::TestWithParam<stack_config> {};

TEST_P(Tcpip, CyclicTimerRunsRepeatedlyOnTheTcpipThreadInCoreContext) {
    stack s(GetParam());
    timer_probe t;
    t.s = &s;
    int id = 0;
    {
        core_guard g(s);
        id = s.add_cyclic_timer(std::chrono::milliseconds(2), on_timer, &t);
    }
    ASSERT_TRUE(wait_until([&] { return t.fired.load() >= 5; })) << "the timer fired " << t.fired.load() << " times";
    EXPECT_TRUE(t.in_core.load());
    EXPECT_TRUE(t.on_tcpip.load());
    EXPECT_GE(s.st().tcpip_msgs_timer.get(), 1u);
    {
        core_guard g(s);
        s.remove_timer(id);
    }
    // After removal and one more round trip through the mailbox, nothing fires any more:
    // every timer message still queued has run by the time callback_wait returns.
    s.callback_wait([](void*) { return err::ok; }, nullptr);
    const int after = t.fired.load();
    for (int i = 0; i < 3; ++i) s.callback_wait([](void*) { return err::ok; }, nullptr);
    EXPECT_EQ(t.fired.load(), after);
}

TEST_P(Tcpip, CallbacksRunOnTheTcpipThreadInBothForms) {
    stack s(GetParam());
    struct ctx {
        stack* s;
        std::atomic<int> n{0};
        std::atomic<bool> ok{true};
    } c{&s};
    const auto fn = [](void* p) {
        auto* x = static_cast<ctx*>(p);
        if (std::this_thread::get_id() != x->s->tcpip_thread_id() || !x->s->in_core_context()) x->ok = false;
        x->n.fetch_add(1);
        return err::val;  // callback_wait hands the result back
    };
    for (int i = 0; i < 50; ++i) ASSERT_EQ(s.callback(fn, &c), err::ok);
    EXPECT_EQ(s.callback_wait(fn, &c), err::val);
    // FIFO: the 50 fire-and-forget callbacks ran before the waited one.
    EXPECT_EQ(c.n.load(), 51);
    EXPECT_TRUE(c.ok.load());
    EXPECT_EQ(s.st().tcpip_msgs_callback.get(), 51u);
}

TEST_P(Tcpip, CallRunsTheOperationExactlyOnceAndReturnsItsResult) {
    stack s(GetParam());
    int runs = 0;
    EXPECT_EQ(s.call([&] {
        ++runs;
        EXPECT_TRUE(s.in_core_context());
        return err::use;
    }),
              err::use);
    EXPECT_EQ(runs, 1);
    EXPECT_FALSE(s.in_core_context());
}

INSTANTIATE_TEST_SUITE_P(AllConfigs, Tcpip, testing::ValuesIn(all_configs()), config_name);

TEST(TcpipPool, FireAndForgetFailsCleanlyWhenTheMessagePoolIsExhausted) {
    // A tiny mailbox: block the tcpip thread inside a callback, fill the pool, and
    // check callback() reports err::mem instead of blocking or losing anything.
    stack_config cfg;
    cfg.mailbox_capacity = 4;
    stack s(cfg);
    std::atomic<bool> release{false};
    std::atomic<int> ran{0};
    struct ctx {
        std::atomic<bool>* release;
        std::atomic<int>* ran;
    } c{&release, &ran};
    const auto blocker = [](void* p) {
        auto* x = static_cast<ctx*>(p);
        while (!x->release->load()) std::this_thread::yield();
        x->ran->fetch_add(1);
        return err::ok;
    };
    const auto count = [](void* p) {
        static_cast<ctx*>(p)->ran->fetch_add(1);
        return err::ok;
    };
    ASSERT_EQ(s.callback(blocker, &c), err::ok);
    int accepted = 1, refused = 0;
    for (int i = 0; i < 10; ++i) (s.callback(count, &c) == err::ok ? accepted : refused)++;
    EXPECT_GT(refused, 0);
    release = true;
    s.callback_wait([](void*) { return err::ok; }, nullptr);
    EXPECT_EQ(ran.load(), accepted);
}

}  // namespace
}  // namespace lwbench::test
