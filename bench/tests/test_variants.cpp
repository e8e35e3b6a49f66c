// test_variants.cpp — proves the compile-time-fixed stack builds that bench_dispatch
// compares against really are different builds: compiled once against
// lwbench_stack_fixed_cl and once against lwbench_stack_fixed_mp (bench/CMakeLists.txt).
//  - statically: `lwbench::stack` is `lwbench::fixed_cl::stack` (resp. fixed_mp), a type
//    distinct from the runtime-dispatch `lwbench::dyn::stack`;
//  - behaviourally: configured for the *other* mode at run time, stack::call() still
//    dispatches the fixed way (the runtime mode is ignored by the dispatcher).
#include <gtest/gtest.h>

#include <thread>
#include <type_traits>

#include "lwbench/tcpip.hpp"

#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING) && !defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_cl::stack>);
constexpr bool k_fixed_locking = true;
#elif defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING) && !defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_mp::stack>);
constexpr bool k_fixed_locking = false;
#else
#error "test_variants.cpp is built against a fixed-mode stack variant only"
#endif

namespace {

using namespace lwbench;

TEST(FixedModeVariant, DispatcherIgnoresTheRuntimeMode) {
    stack_config cfg;
    cfg.mode = k_fixed_locking ? threading_mode::message_passing : threading_mode::core_locking;  // the other one
    stack s(cfg);
    EXPECT_EQ(s.get_threading_mode(), cfg.mode);  // the runtime field says one thing ...
    const auto locked0 = s.st().api_calls_locked.get();
    const auto msgs0 = s.st().tcpip_msgs_api.get();
    std::thread::id ran_on;
    ASSERT_EQ(s.call([&] {
        ran_on = std::this_thread::get_id();
        return err::ok;
    }),
              err::ok);
    // ... the compiled-in dispatch does the other.
    if (k_fixed_locking) {
        EXPECT_EQ(ran_on, std::this_thread::get_id()) << "fixed_cl must run the call on the caller, under the lock";
        EXPECT_EQ(s.st().api_calls_locked.get(), locked0 + 1);
        EXPECT_EQ(s.st().tcpip_msgs_api.get(), msgs0);
    } else {
        EXPECT_EQ(ran_on, s.tcpip_thread_id()) << "fixed_mp must run the call on the tcpip thread";
        EXPECT_EQ(s.st().tcpip_msgs_api.get(), msgs0 + 1);
        EXPECT_EQ(s.st().api_calls_locked.get(), locked0);
    }
}

}  // namespace
