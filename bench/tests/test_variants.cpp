// test_variants.cpp — proves the compile-time-fixed stack builds that bench_dispatch
// compares against really are different builds: compiled once against
// lwbench_stack_fixed_cl and once against lwbench_stack_fixed_mp (bench/CMakeLists.txt).
//  - statically: `lwbench::stack` is `lwbench::fixed_cl::stack` (resp. fixed_mp), a type
//    distinct from the runtime-dispatch `lwbench::dyn::stack`;
//  - behaviourally: configured for the *other* mode, the build still reports and uses
//    its fixed mode — call() and input() both dispatch the fixed way, and a switch to
//    the other mode is refused with err::arg (nothing changes).
#include <gtest/gtest.h>

#include <thread>
#include <type_traits>

#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"

#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING) && !defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_cl::stack>);
constexpr lwbench::threading_mode k_fixed = lwbench::threading_mode::core_locking;
#elif defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING) && !defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_mp::stack>);
constexpr lwbench::threading_mode k_fixed = lwbench::threading_mode::message_passing;
#else
#error "test_variants.cpp is built against a fixed-mode stack variant only"
#endif

namespace {

using namespace lwbench;

constexpr bool k_fixed_locking = k_fixed == threading_mode::core_locking;
constexpr threading_mode k_other = k_fixed_locking ? threading_mode::message_passing : threading_mode::core_locking;

/// A stack configured for the mode this build does not have.
stack_config other_mode_config() {
    stack_config cfg;
    cfg.mode = k_other;
    cfg.input = paired_input_mode(k_other);
    return cfg;
}

TEST(FixedModeVariant, ReportsItsFixedModeWhateverTheConfigurationSays) {
    stack s(other_mode_config());
    EXPECT_EQ(s.get_threading_mode(), k_fixed);
    EXPECT_EQ(s.get_input_mode(), paired_input_mode(k_fixed));
}

TEST(FixedModeVariant, RefusesASwitchToTheOtherMode) {
    stack s(other_mode_config());
    EXPECT_EQ(s.set_threading_mode(k_other), err::arg);
    EXPECT_EQ(s.set_input_mode(paired_input_mode(k_other)), err::arg);
    EXPECT_EQ(s.get_threading_mode(), k_fixed) << "a refused switch changes nothing";
    EXPECT_EQ(s.get_input_mode(), paired_input_mode(k_fixed));
    EXPECT_EQ(s.set_threading_mode(k_fixed), err::ok) << "its own mode is accepted";
    EXPECT_EQ(s.set_input_mode(paired_input_mode(k_fixed)), err::ok);
}

TEST(FixedModeVariant, CallDispatchesTheFixedWay) {
    stack s(other_mode_config());
    const auto locked0 = s.st().api_calls_locked.get();
    const auto msgs0 = s.st().tcpip_msgs_api.get();
    std::thread::id ran_on;
    ASSERT_EQ(s.call([&] {
        ran_on = std::this_thread::get_id();
        return err::ok;
    }),
              err::ok);
    const bool ran_here = ran_on == std::this_thread::get_id();
    EXPECT_EQ(ran_here, k_fixed_locking) << "fixed_cl runs the call on the caller; fixed_mp on the tcpip thread";
    EXPECT_EQ(s.st().api_calls_locked.get() - locked0, k_fixed_locking ? 1u : 0u);
    EXPECT_EQ(s.st().tcpip_msgs_api.get() - msgs0, k_fixed_locking ? 0u : 1u);
}

err accept_all(netif*, pbuf*, ip4_addr) { return err::ok; }

TEST(FixedModeVariant, InputDispatchesTheFixedWay) {
    stack s(other_mode_config());
    netif n;
    n.output = &accept_all;
    ASSERT_EQ(netifapi_add(s, &n), err::ok);
    ASSERT_EQ(netifapi_set_up(s, &n), err::ok);
    const auto inputs0 = s.st().tcpip_msgs_input.get();
    pbuf* p = pbuf_alloc(s, pbuf_layer::raw, 1, pbuf_type::pool);  // too short for IPv4: dropped
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(s.input(p, &n), err::ok);
    ASSERT_EQ(s.callback_wait([](void*) { return err::ok; }, nullptr), err::ok);  // mailbox input has run
    EXPECT_EQ(s.st().dropped(drop_reason::ip_too_short), 1u);
    EXPECT_EQ(s.st().tcpip_msgs_input.get() - inputs0, k_fixed_locking ? 0u : 1u)
        << "fixed_cl processes input inline; fixed_mp posts it to the mailbox";
    ASSERT_EQ(netifapi_remove(s, &n), err::ok);
}

}  // namespace
