// bench_common.hpp — what every lwbench Google Benchmark binary shares, without any
// stack type (so it is compiled once and linked to every stack variant).
//
//  - arg names and the value mappings of the integer args (ArgNames);
//  - the custom context (git revision, build, threading modes, counter availability);
//  - `sampler`: our per-operation timing samples inside the benchmark loop (Google
//    Benchmark only gives the mean over the iterations of a run; percentiles need the
//    samples), batched by the measurement core's rule (harness/timing.hpp: probe_op_ns,
//    choose_ops_per_sample) with this sampler's own per-sample cost;
//  - `counter_window`: our perf_event_open counters (harness/perf_counters.hpp) around
//    the timed loop, published per operation — or not at all, with the reason in the
//    label, when the event is not available (never as 0);
//  - `new_calls()`: global operator new calls of the process (counting_new.cpp).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/pinning.hpp"
#include "lwbench/harness/timing.hpp"

namespace lwbench::gbench {

// ---- arg names (ArgNames) --------------------------------------------------------------
inline constexpr const char* k_arg_mode = "mode";        ///< 0 = message_passing, 1 = core_locking (named in output)
inline constexpr const char* k_arg_payload = "payload";  ///< UDP payload bytes
inline constexpr const char* k_arg_bytes = "bytes";      ///< buffer bytes (micro)
inline constexpr const char* k_arg_lock = "lock";        ///< 0 std_mutex, 1 tbb_spin_mutex, 2 tbb_queuing_mutex (named)
inline constexpr std::int64_t k_mode_mp = 0;             ///< threading_mode::message_passing
inline constexpr std::int64_t k_mode_cl = 1;             ///< threading_mode::core_locking
inline const char* mode_name(std::int64_t m) { return m == k_mode_mp ? "message_passing" : "core_locking"; }

// ---- readable names ----------------------------------------------------------------------
// Google Benchmark puts integer args in benchmark names ("Send/socket/mode:1/payload:1458").
// run_main's reporters (console, JSON, CSV) write them with these value names instead
// ("Send/socket/mode:core_locking/payload:1458"), and --benchmark_filter accepts either
// spelling. The value names are the stack's to_string() of the enum with that value
// (checked by each binary at start-up: check_arg_value_names).

/// Names of the values 0, 1, … of an integer arg ("mode", "lock"); empty: the arg stays a number.
const std::vector<std::string>& arg_value_names(std::string_view arg);
/// "mode:1/payload:64" -> "mode:core_locking/payload:64" (other args unchanged).
std::string readable_args(std::string_view args);
/// The inverse, for a --benchmark_filter written with value names (a regular expression).
std::string internal_args(std::string_view text);
/// Fails (message on stderr, exit 1) when a value name differs from `to_string` of the
/// enum value (the stack's names are the source; this table follows them).
template <class Enum, class ToString>
void check_arg_value_names(std::string_view arg, int count, ToString to_string) {
    const auto& names = arg_value_names(arg);
    for (int i = 0; i < count; ++i) {
        const std::string expected = to_string(static_cast<Enum>(i));
        if (static_cast<std::size_t>(i) >= names.size() || names[static_cast<std::size_t>(i)] != expected) {
            std::fprintf(stderr, "bench: arg %.*s value %d is named '%s' by the stack but not in bench_common\n",
                         static_cast<int>(arg.size()), arg.data(), i, expected.c_str());
            std::exit(1);
        }
    }
}

/// Registers the custom context of every result (call once, before running).
void add_context(const std::string& binary, const std::vector<std::pair<std::string, std::string>>& extra = {});
/// The usual main: Initialize, context, RunSpecifiedBenchmarks, Shutdown.
int run_main(int argc, char** argv, const std::string& binary,
             const std::vector<std::pair<std::string, std::string>>& extra_context = {});

/// RunSpecifiedBenchmarks with reporters that write readable names (display: --benchmark_format,
/// file: --benchmark_out / --benchmark_out_format, read from the argv before Initialize).
std::size_t run_with_readable_names(int argc_before, char** argv_before);

/// The source tree's git revision (`git -C <source dir> rev-parse HEAD`), "unknown" if none.
const std::string& git_revision();

// ---- timing samples ---------------------------------------------------------------------

using lwbench::harness::now_ns;

/// Cost of one timing sample as `sampler` takes it (one steady_clock::now() and one store
/// into preallocated memory), measured once per process, in ns.
double sample_cost_ns();
/// Operations per sample for an op of `op_ns` (measure it with harness::probe_op_ns):
/// the measurement core's choose_ops_per_sample with sample_cost_ns() as the cost.
int choose_batch(double op_ns);
using lwbench::harness::probe_op_ns;

/// Per-operation timing samples taken inside `for (auto _ : state)`: tick() once per
/// iteration. Timestamps are chained (one clock read per sample, each sample is the time
/// between two consecutive reads, divided by the batch). The first tick only primes the
/// clock (the gap from Google Benchmark's own timer start is not a sample). Storage is
/// preallocated (and pre-faulted) by reset(): tick() never allocates.
class sampler {
public:
    /// Room for `max_ticks` ticks at `batch` operations per sample.
    void reset(std::int64_t max_ticks, int batch);
    BENCHMARK_ALWAYS_INLINE void tick() noexcept {
        if (++_n < _batch) return;
        const std::int64_t t = now_ns();
        if (_last != 0 && _size < _samples.size()) [[likely]]
            _samples[_size++] = static_cast<double>(t - _last) * _inv_batch;
        _last = t;
        _n = 0;
    }
    /// Discards the partial batch; the next tick primes again (untimed work in between).
    void pause() noexcept {
        _last = 0;
        _n = _batch - 1;
    }
    [[nodiscard]] int batch() const noexcept { return _batch; }
    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    /// The samples taken so far (ns per operation).
    [[nodiscard]] const double* data() const noexcept { return _samples.data(); }

private:
    std::vector<double> _samples;
    std::size_t _size = 0;
    std::int64_t _last = 0;
    int _batch = 1, _n = 0;
    double _inv_batch = 1.0;
};

/// Publishes p50/p90/p99/p999/max of the samples (ns per op) as user counters, plus
/// how many samples and operations per sample they rest on.
void publish_percentiles(benchmark::State& st, const std::vector<const sampler*>& samplers);

// ---- perf counters ------------------------------------------------------------------------

/// Our perf_event_open counters over every thread that exists when it is constructed
/// (construct after the scenario's threads: tcpip thread, echo thread, benchmark threads).
class counter_window {
public:
    counter_window();
    ~counter_window();
    counter_window(const counter_window&) = delete;
    counter_window& operator=(const counter_window&) = delete;
    void start() { _pc->start(); }
    void stop() { _pc->stop(); }
    void pause() { _pc->pause(); }
    void resume() { _pc->resume(); }
    /// Publishes `<event>_per_op` for every available event; for an unavailable one no
    /// counter is published and its reason is returned (for the label).
    std::string publish(benchmark::State& st, double ops) const;

private:
    std::unique_ptr<lwbench::harness::perf_counters> _pc;
};

/// Whether hardware counters exist here, and why not (cached).
const std::string& hardware_counter_status();

// ---- CPU pinning (environment LWBENCH_PIN) ------------------------------------------------------
/// LWBENCH_PIN=none (default) | same_core | separate_cores, as the harness's --pinning,
/// with the measurement core's plan (harness/pinning.hpp). Message passing is bimodal
/// without pinning on a 2-core VM (same-core hand-off ~8 us, cross-core wake-up much
/// slower): pin for stable numbers.
const std::string& pinning();
int tcpip_cpu();      ///< -1: not pinned
int app_cpu(int i);   ///< CPU for application thread i; -1: not pinned
using lwbench::harness::scoped_pin;

// ---- allocation counting (counting_new.cpp) ---------------------------------------------
/// Calls of the replaced global operator new (every form), all threads, since start.
std::uint64_t new_calls() noexcept;

}  // namespace lwbench::gbench
