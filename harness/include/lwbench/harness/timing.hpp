// timing.hpp — the timed loop: clock calibration, sample batching, per-repetition
// measurement with perf counters, CPU pinning.
//
// A repetition runs `ops` operations, taking one timestamp pair per sample of
// `ops_per_sample` operations; each sample is stored as ns *per operation*. Warm-up
// is the caller's (run a repetition and discard it). Counters cover every thread of
// the process for the whole repetition, and are divided by the ops to give per-op.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/record.hpp"

namespace lwbench::harness {

using clock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
}

struct clock_info {
    double overhead_ns = 0;    ///< median cost of one timestamp pair (what each sample adds)
    double resolution_ns = 0;  ///< smallest non-zero difference seen
};
/// Measured once per process (cached).
const clock_info& calibrate_clock();

/// Samples of one repetition.
struct repetition {
    std::vector<double> samples_ns;  ///< ns per operation, one per sample
    double wall_ns = 0;              ///< whole repetition, wall clock
    long ops = 0;
    long errors = 0;
    std::vector<counter_value> counters;
};

/// Picks how many operations go into one timestamp pair so that the clock's own
/// overhead stays below `max_overhead` of the measured time. `probe_ns` is the time of
/// one operation measured over a short batch. The default aims at 2.5%, half the 5%
/// target, so a probe that overestimates the operation (cold caches) by up to 2x
/// still keeps the real overhead under 5%.
int choose_ops_per_sample(double probe_ns, double max_overhead = 0.025);

/// Runs `ops` operations (op() -> bool, false counts as an error) and times them.
template <class Op>
repetition time_repetition(long ops, int ops_per_sample, bool hw_counters, Op&& op) {
    repetition rep;
    rep.ops = ops;
    const long samples = (ops + ops_per_sample - 1) / ops_per_sample;
    rep.samples_ns.reserve(static_cast<std::size_t>(samples));
    perf_counters counters(hw_counters);
    counters.start();
    const std::int64_t begin = now_ns();
    long done = 0;
    while (done < ops) {
        const long batch = std::min<long>(ops_per_sample, ops - done);
        const std::int64_t t0 = now_ns();
        for (long i = 0; i < batch; ++i) rep.errors += op() ? 0 : 1;
        const std::int64_t t1 = now_ns();
        rep.samples_ns.push_back(static_cast<double>(t1 - t0) / static_cast<double>(batch));
        done += batch;
    }
    rep.wall_ns = static_cast<double>(now_ns() - begin);
    counters.stop();
    rep.counters = counters.read();
    return rep;
}

/// Probes the cost of one op: runs it `n` times in 5 chunks and returns the fastest
/// chunk's time per op, so a preemption or a cold start during the probe (a busy
/// machine) cannot make the op look slower than it is — which would under-batch it.
template <class Op>
double probe_op_ns(Op&& op, long n = 200) {
    constexpr long chunks = 5;
    const long per_chunk = std::max(1L, n / chunks);
    double best = 0;
    for (long c = 0; c < chunks; ++c) {
        const std::int64_t t0 = now_ns();
        for (long i = 0; i < per_chunk; ++i) op();
        const double t = static_cast<double>(now_ns() - t0) / static_cast<double>(per_chunk);
        if (c == 0 || t < best) best = t;
    }
    return best;
}

/// Collects repetitions of one scenario point and fills a record's measurement fields.
class accumulator {
public:
    void add(repetition&& rep);
    /// Fills latency, spread, rates and per-op counters; `bytes_per_op` is payload per op.
    void finish(record& r, double bytes_per_op) const;
    [[nodiscard]] std::size_t size() const { return _reps.size(); }

private:
    std::vector<repetition> _reps;
};

/// Pins the calling thread to `cpu` (-1: all CPUs). Returns false on failure.
bool pin_current_thread(int cpu);
int online_cpus();

}  // namespace lwbench::harness
