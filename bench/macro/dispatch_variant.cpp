// dispatch_variant.cpp — the send-latency benchmark of one stack variant, for the
// runtime-dispatch overhead check (bench_dispatch).
//
// This one file is compiled three times (bench/CMakeLists.txt), each time as its own
// OBJECT library linked to one stack variant, whose PUBLIC compile definitions select
// the inline namespace and the dispatch:
//   dyn       lwbench::dyn       threading mode read at run time (the normal build)
//   fixed_cl  lwbench::fixed_cl  LWBENCH_FIXED_MODE_CORE_LOCKING: call() always locks
//   fixed_mp  lwbench::fixed_mp  LWBENCH_FIXED_MODE_MESSAGE_PASSING: call() always posts
// All three end up in one binary and are interleaved in one run. The fixture is the
// very one bench_macro's Send/* uses (fixtures.hpp); only the registered name differs:
// Dispatch_<variant>/<api>/mode:<m>/payload:<n>/real_time.
#include <type_traits>

#include "fixtures.hpp"

// Each object library also gets LWBENCH_BENCH_EXPECT_<variant> from CMake; check that
// the stack headers were really compiled for that variant here (compile definitions of
// linked libraries propagate: a wrong link would silently measure the wrong build).
#if defined(LWBENCH_BENCH_EXPECT_FIXED_CL)
#if !defined(LWBENCH_FIXED_MODE_CORE_LOCKING) || defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
#error "bench_dispatch_fixed_cl must see LWBENCH_FIXED_MODE_CORE_LOCKING only"
#endif
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_cl::stack>, "fixed_cl TU must use lwbench::fixed_cl");
#elif defined(LWBENCH_BENCH_EXPECT_FIXED_MP)
#if !defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING) || defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
#error "bench_dispatch_fixed_mp must see LWBENCH_FIXED_MODE_MESSAGE_PASSING only"
#endif
static_assert(std::is_same_v<lwbench::stack, lwbench::fixed_mp::stack>, "fixed_mp TU must use lwbench::fixed_mp");
#elif defined(LWBENCH_BENCH_EXPECT_DYN)
#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING) || defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
#error "bench_dispatch_dyn must not see a fixed threading mode"
#endif
static_assert(std::is_same_v<lwbench::stack, lwbench::dyn::stack>, "dyn TU must use lwbench::dyn");
#else
#error "compile dispatch_variant.cpp with LWBENCH_BENCH_EXPECT_DYN, _FIXED_CL or _FIXED_MP"
#endif

#define LWB_CAT2(a, b) a##b
#define LWB_CAT(a, b) LWB_CAT2(a, b)
// Dispatch_dyn, Dispatch_fixed_cl, Dispatch_fixed_mp: the fixture (and benchmark) name.
#define LWB_DISPATCH LWB_CAT(Dispatch_, LWBENCH_VARIANT_NS)

/// The send fixture with a batch of at least 32 sends per timing sample: the clock ticks
/// in ~10 ns steps, so the p50 of single ~250 ns sends would move in 4% steps — too coarse
/// for a 2% target. Median of 32-send means: 0.3 ns resolution, still robust to preemption.
class LWB_DISPATCH : public lwbench::bench::send_fixture {
public:
    LWB_DISPATCH() { min_ops_per_sample = 32; }
};

namespace {
using lwbench::bench::api_kind;
constexpr std::int64_t k_mp = lwbench::gbench::k_mode_mp, k_cl = lwbench::gbench::k_mode_cl;

void variant_args(benchmark::internal::Benchmark* b) {
#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
    lwbench::bench::send_args(b, {k_cl}, {64, 1458});  // the only mode this build has
#elif defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
    lwbench::bench::send_args(b, {k_mp}, {1458});
#else
    b->ArgNames({lwbench::gbench::k_arg_mode, lwbench::gbench::k_arg_payload});
    b->Args({k_cl, 64})->Args({k_cl, 1458})->Args({k_mp, 1458});
    b->UseRealTime();
#endif
}
}  // namespace

BENCHMARK_DEFINE_F(LWB_DISPATCH, raw)(benchmark::State& st) { run_send(st, api_kind::raw); }
BENCHMARK_DEFINE_F(LWB_DISPATCH, netconn)(benchmark::State& st) { run_send(st, api_kind::netconn); }
BENCHMARK_DEFINE_F(LWB_DISPATCH, socket)(benchmark::State& st) { run_send(st, api_kind::socket); }
BENCHMARK_REGISTER_F(LWB_DISPATCH, raw)->Apply(variant_args);
BENCHMARK_REGISTER_F(LWB_DISPATCH, netconn)->Apply(variant_args);
BENCHMARK_REGISTER_F(LWB_DISPATCH, socket)->Apply(variant_args);
