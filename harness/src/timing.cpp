// timing.cpp — clock calibration and batch sizing (see timing.hpp).
#include "lwbench/harness/timing.hpp"

#include <cmath>

namespace lwbench::harness {

const clock_info& calibrate_clock() {
    static const clock_info info = [] {
        constexpr int n = 20000;
        std::vector<double> pair_cost;
        pair_cost.reserve(n);
        double resolution = 1e9;
        for (int i = 0; i < n; ++i) {
            const auto a = now_ns();
            const auto b = now_ns();
            pair_cost.push_back(static_cast<double>(b - a));
            if (b > a) resolution = std::min(resolution, static_cast<double>(b - a));
        }
        std::sort(pair_cost.begin(), pair_cost.end());
        return clock_info{pair_cost[pair_cost.size() / 2], resolution};
    }();
    return info;
}

int choose_ops_per_sample(double probe_ns, double sample_cost_ns, double max_overhead) {
    if (!(probe_ns > 0)) return k_max_ops_per_sample;  // too fast to see: the largest batch
    const double need = sample_cost_ns / (max_overhead * probe_ns);
    if (!(need < k_max_ops_per_sample)) return k_max_ops_per_sample;
    return std::max(1, static_cast<int>(std::ceil(need)));
}

int choose_ops_per_sample(double probe_ns) { return choose_ops_per_sample(probe_ns, calibrate_clock().overhead_ns); }

}  // namespace lwbench::harness
