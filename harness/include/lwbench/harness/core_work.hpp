// core_work.hpp — the added work inside the core per operation: a busy loop of a
// given number of iterations, the one knob by which a scenario makes the core's part
// of an operation costlier (`lwbench run --core-work N`, `lwbench crossover`).
//
// Where it runs: the testbed (testbed.hpp) asks its loopback to call it for every
// packet the stack outputs, in core context, inside the dispatched call that sends
// the packet (core locking: on the caller under the core lock; message passing: on
// the tcpip thread; combining: on whichever thread runs the published call). So a
// UDP send of any API costs N iterations more in core context, and the thread-safety
// design decides who waits while they run.
//
// A count, not a time: records carry `core_work_iterations`; the environment block
// carries `core_work_ns_per_iteration`, this machine's calibrated cost of one
// iteration (a figure, for labels; the count is what defines the point).
#pragma once

#include <cstdint>

namespace lwbench::harness {

/// Runs `iterations` steps of a dependent multiply-add chain that the compiler cannot
/// fold or vectorise (each step waits for the previous one; the value passes through an
/// empty asm). Returns the chain's last value so that callers may keep it. Any thread.
inline std::uint64_t core_work_spin(std::uint64_t iterations, std::uint64_t seed = 1) noexcept {
    std::uint64_t x = seed;
    for (std::uint64_t i = 0; i < iterations; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        asm volatile("" : "+r"(x));
    }
    return x;
}

/// The cost of one core_work_spin iteration on this machine, in ns: the fastest of a
/// few timed runs of 2^18 iterations, measured once per process (about 2 ms).
double core_work_ns_per_iteration();

/// The largest --core-work the command line accepts (about 10 ms per packet here).
inline constexpr long k_max_core_work_iterations = 10'000'000;

}  // namespace lwbench::harness
