// timing.hpp — the measurement core's timing half: the clock, the cost probe, batch
// sizing, the sample loop, the cancellation check and the bounded wait. Stack-free:
// our scenarios, the real-lwIP runners and the Google Benchmark fixtures all time
// with these functions, so their samples mean the same thing (aggregate.hpp turns
// the samples into a record, with the same code for every stack).
//
// A repetition runs `ops` operations, taking one timestamp pair per sample of
// `ops_per_sample` operations; each sample is stored as ns *per operation*. A sample
// of one operation is that operation's latency; a sample of N > 1 is the mean of a
// batch of N (and its percentiles are percentiles of batch means: the record's
// `ops_per_sample` says which). Warm-up is the caller's.
//
// Timed repetitions run with no perf counters open: counting costs every context
// switch something, and message passing switches far more often than core locking,
// so counters would inflate the very ratio being measured. Counters are read in
// separate *counted* repetitions (counter_window below; see run_plan in
// aggregate.hpp for how they are interleaved with the timed ones).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "lwbench/harness/perf_counters.hpp"

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

// ---- cancellation ---------------------------------------------------------------------

/// Thrown by the measuring thread (never across a thread boundary) when the run's
/// cancel flag was set; the CLI and the Python module catch it at their edge.
struct cancelled : std::exception {
    const char* what() const noexcept override { return "cancelled"; }
};

/// The cancellation check: true once `flag` (may be null: never) was set.
inline bool cancel_requested(const std::atomic<bool>* flag) noexcept {
    return flag != nullptr && flag->load(std::memory_order_relaxed);
}
inline void throw_if_cancelled(const std::atomic<bool>* flag) {
    if (cancel_requested(flag)) throw cancelled();
}

/// The bounded wait (never a sleep as synchronisation): spins with yields until
/// `ready()`, the deadline, or cancellation. True only when ready() became true.
template <class F>
bool wait_until(F&& ready, std::chrono::milliseconds limit = std::chrono::seconds(10),
                const std::atomic<bool>* cancel = nullptr) {
    const auto deadline = clock::now() + limit;
    while (!ready()) {
        if (clock::now() > deadline || cancel_requested(cancel)) return false;
        std::this_thread::yield();
    }
    return true;
}

// ---- probe and batch sizing -------------------------------------------------------------

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
        for (long i = 0; i < per_chunk; ++i) (void)op();
        const double t = static_cast<double>(now_ns() - t0) / static_cast<double>(per_chunk);
        if (c == 0 || t < best) best = t;
    }
    return best;
}

/// The largest batch a sample may hold.
inline constexpr int k_max_ops_per_sample = 100000;
/// The clock-overhead target: a sample's timestamps cost at most 5% of what it measures.
inline constexpr double k_overhead_target = 0.05;

/// Operations per sample so that `sample_cost_ns` (what one sample's clock reads cost)
/// stays below `max_overhead` of the measured time; 1 wherever the op is long enough.
/// The default aims at half the 5% target, so a probe that overestimates the
/// operation (cold caches) by up to 2x still keeps the real overhead under 5%.
int choose_ops_per_sample(double probe_ns, double sample_cost_ns, double max_overhead = k_overhead_target / 2);
/// The same with the cost of one timestamp pair (calibrate_clock()).
int choose_ops_per_sample(double probe_ns);

// ---- the sample loop ------------------------------------------------------------------------

/// Runs up to `ops` operations (op() -> bool, false counts as an error), one sample
/// per `ops_per_sample` of them, appending ns-per-op samples. Checks `cancel` between
/// samples (outside the timed interval); returns the operations done, < ops only when
/// cancelled. Never throws: threads of a scenario call it too.
template <class Op>
long sample_loop(long ops, int ops_per_sample, Op&& op, std::vector<double>& samples, long& errors,
                 const std::atomic<bool>* cancel = nullptr) {
    samples.reserve(samples.size() + static_cast<std::size_t>(ops / ops_per_sample + 1));
    long done = 0;
    while (done < ops) {
        if (cancel_requested(cancel)) break;
        const long batch = std::min<long>(ops_per_sample, ops - done);
        const std::int64_t t0 = now_ns();
        for (long i = 0; i < batch; ++i) errors += op() ? 0 : 1;
        const std::int64_t t1 = now_ns();
        samples.push_back(static_cast<double>(t1 - t0) / static_cast<double>(batch));
        done += batch;
    }
    return done;
}

// ---- counters: only in counted repetitions ------------------------------------------------

/// Perf counters over every thread of the process for a *counted* repetition; for a
/// timed one (enabled == false) nothing is opened and every call is a no-op.
/// Construct it after the scenario's threads exist (perf_counters.hpp).
class counter_window {
public:
    counter_window(bool enabled, bool hardware)
        : _pc(enabled ? std::make_unique<perf_counters>(hardware) : nullptr) {}
    void start() {
        if (_pc) _pc->start();
    }
    void stop() {
        if (_pc) _pc->stop();
    }
    void pause() {
        if (_pc) _pc->pause();
    }
    void resume() {
        if (_pc) _pc->resume();
    }
    [[nodiscard]] bool enabled() const noexcept { return _pc != nullptr; }
    /// Totals (empty for a timed repetition).
    [[nodiscard]] std::vector<counter_value> read() const { return _pc ? _pc->read() : std::vector<counter_value>{}; }

private:
    std::unique_ptr<perf_counters> _pc;
};

}  // namespace lwbench::harness
