// timing.cpp — clock calibration, batching choice, accumulation, pinning.
#include "lwbench/harness/timing.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

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

int choose_ops_per_sample(double probe_ns, double max_overhead) {
    const double overhead = calibrate_clock().overhead_ns;
    if (probe_ns <= 0) return 1000;
    const double need = overhead / (max_overhead * probe_ns);
    return std::clamp(static_cast<int>(std::ceil(need)), 1, 100000);
}

void accumulator::add(repetition&& rep) { _reps.push_back(std::move(rep)); }

void accumulator::finish(record& r, double bytes_per_op) const {
    std::vector<double> all;
    std::vector<double> medians;
    double wall = 0;
    long ops = 0, errors = 0;
    std::map<std::string, counter_value> sums;
    std::vector<std::string> order;
    for (const auto& rep : _reps) {
        std::vector<double> s = rep.samples_ns;
        medians.push_back(summarize(s).p50);
        all.insert(all.end(), rep.samples_ns.begin(), rep.samples_ns.end());
        wall += rep.wall_ns;
        ops += rep.ops;
        errors += rep.errors;
        for (const auto& c : rep.counters) {
            auto [it, fresh] = sums.try_emplace(c.name, c);
            if (fresh) {
                order.push_back(c.name);
                continue;
            }
            // Unavailable in any repetition -> unavailable overall (never a partial sum).
            if (!c.total || !it->second.total) {
                it->second.total.reset();
                if (it->second.status == "ok") it->second.status = c.status;
            } else {
                *it->second.total += *c.total;
            }
        }
    }
    r.repetitions = static_cast<int>(_reps.size());
    r.ops_per_repetition = _reps.empty() ? 0 : _reps.front().ops;
    r.latency = summarize(all);
    r.repetition_p50_ns = medians;
    r.spread = spread_of(medians);
    r.ops_per_sec = wall > 0 ? static_cast<double>(ops) * 1e9 / wall : 0;
    r.bytes_per_sec = r.ops_per_sec * bytes_per_op;
    std::vector<counter_value> ordered;
    for (const auto& n : order) ordered.push_back(sums.at(n));
    r.counters = per_op_counters(ordered, static_cast<double>(ops));
    r.errors = errors;
}

bool pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        for (int i = 0; i < online_cpus(); ++i) CPU_SET(i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

int online_cpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

}  // namespace lwbench::harness
