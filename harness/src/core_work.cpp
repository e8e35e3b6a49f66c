// core_work.cpp — calibration of the core-work busy loop (see core_work.hpp).
#include "lwbench/harness/core_work.hpp"

#include <algorithm>
#include <limits>

#include "lwbench/harness/timing.hpp"

namespace lwbench::harness {

double core_work_ns_per_iteration() {
    static const double ns = [] {
        constexpr std::uint64_t k_iterations = 1u << 18;
        double best = std::numeric_limits<double>::infinity();
        std::uint64_t keep = 0;
        for (int round = 0; round < 5; ++round) {
            const auto begin = now_ns();
            keep ^= core_work_spin(k_iterations, keep + 1);
            best = std::min(best, static_cast<double>(now_ns() - begin));
        }
        asm volatile("" : : "r"(keep));
        return best / static_cast<double>(k_iterations);
    }();
    return ns;
}

}  // namespace lwbench::harness
