// aggregate.hpp — the measurement core's aggregation half: one repetition's data,
// its JSON form (how a real-lwIP runner hands repetitions to the harness), the plan
// of timed and counted repetitions, and the accumulator that turns repetitions into
// a record's measurement fields. Every stack's records come out of accumulator::finish,
// so an lwbench record and a real-lwIP record of the same scenario mean the same:
//   - latency percentiles pool every sample of every *timed* repetition;
//   - counters come only from *counted* repetitions, and counter_overhead says how
//     much slower the counted repetitions were (the observer's cost, measured);
//   - throughput is what was delivered; the offered (sent) rate stands beside it;
//   - repetition medians that split into clusters are reported as modes, never as
//     one median with a small spread; so are pooled samples that split into two modes
//     (sample_modes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/record.hpp"
#include "lwbench/harness/timing.hpp"

namespace lwbench::harness {

/// The data of one repetition of one scenario point.
struct repetition {
    std::vector<double> samples_ns;  ///< ns per operation, one per sample
    int ops_per_sample = 1;          ///< operations behind each sample (1: single-op samples)
    double wall_ns = 0;              ///< the timed work, wall clock
    long ops = 0;                    ///< operations timed
    long errors = 0;                 ///< operations that failed
    bool counted = false;            ///< perf counters were open (a counted repetition)
    std::vector<counter_value> counters;  ///< totals; empty for a timed repetition
    /// Datagrams the repetition sent and the receiving end got (nullopt: the point sends
    /// no datagrams, e.g. a primitive), and the stack's drops by reason.
    std::optional<std::uint64_t> sent, received;
    std::map<std::string, std::uint64_t> dropped_by_reason;
};

nlohmann::json to_json(const repetition& r);
repetition repetition_from_json(const nlohmann::json& j);

/// Runs `ops` operations through sample_loop in a timed (counted == false) or
/// counted repetition, then waits (bounded: `drain_limit`) until `drained()` holds
/// before the clock stops — a stream (TCP) is delivered only when the receiver has
/// every byte, so wall_ns covers delivery. Returns with rep.errors + 1 when the
/// stream did not drain. Throws cancelled when `cancel` was set.
template <class Op, class Drained>
repetition time_stream_repetition(long ops, int ops_per_sample, bool counted, bool hw_counters,
                                  const std::atomic<bool>* cancel, Op&& op, Drained&& drained,
                                  std::chrono::milliseconds drain_limit = std::chrono::seconds(10)) {
    repetition rep;
    rep.ops_per_sample = ops_per_sample;
    rep.counted = counted;
    counter_window counters(counted, hw_counters);
    counters.start();
    const std::int64_t begin = now_ns();
    rep.ops = sample_loop(ops, ops_per_sample, op, rep.samples_ns, rep.errors, cancel);
    if (!wait_until(drained, drain_limit, cancel)) rep.errors += cancel_requested(cancel) ? 0 : 1;
    rep.wall_ns = static_cast<double>(now_ns() - begin);
    counters.stop();
    throw_if_cancelled(cancel);
    rep.counters = counters.read();
    return rep;
}

/// Runs `ops` operations through sample_loop in a timed (counted == false) or
/// counted repetition (nothing to drain). Throws cancelled when `cancel` was set.
template <class Op>
repetition time_repetition(long ops, int ops_per_sample, bool counted, bool hw_counters,
                           const std::atomic<bool>* cancel, Op&& op) {
    return time_stream_repetition(ops, ops_per_sample, counted, hw_counters, cancel, std::forward<Op>(op),
                                  [] { return true; });
}

/// Appends every application thread's samples to `rep` and adds their errors; returns
/// the calls made in all (one vector entry per thread: throughput's senders, bulk_tcp's
/// connections). Both stacks' parallel scenarios merge with this.
long merge_senders(repetition& rep, const std::vector<std::vector<double>>& samples, const std::vector<long>& errors,
                   const std::vector<long>& calls);

/// Which visits of a point open counters: `counted` of `total` repetitions, spread
/// evenly over the run (never bunched at its start). counted_repetitions < 0 means
/// the default: one counted repetition per five timed ones, at least one.
int default_counted_repetitions(int timed_repetitions);
/// For round r of `rounds`: does it include a counted visit of every point?
bool counted_in_round(int round, int rounds, int counted);

/// The repetitions of one point measured on its own, in run order (false = timed,
/// true = counted), with counted ones spread as counted_in_round spreads them.
std::vector<bool> repetition_plan(int timed, int counted);

/// Clusters in a set of repetition medians: empty when the values form one group;
/// otherwise the two modes (ascending), each with its median and share of the values.
/// Two groups are modes when each holds at least two repetitions and the gap between
/// them is at least 15% of the lower one and twice the wider group's own range.
std::vector<latency_mode> find_modes(std::span<const double> repetition_medians);

/// Two modes *within* a cell's pooled samples (a cell can be bimodal inside every
/// repetition, where the repetition medians show nothing). The test, on the logarithm
/// of the samples (latency ratios matter, not nanoseconds):
///   1. split the sorted values where the within-group variance is smallest (1-D
///      two-means, Otsu's threshold; exact, with prefix sums);
///   2. the split is bimodal when each group holds at least k_sample_mode_min_share of
///      the samples (a 1% tail is a tail, not a mode), the groups' medians differ by at
///      least 15% (the repetition test's gap), and Ashman's D =
///      sqrt(2)·|mean1 − mean2| / sqrt(var1 + var2) is at least k_sample_mode_min_d.
/// A single normal split this way gives D ≈ 2.7 and a uniform one D ≈ 3.5; two modes
/// 4 standard deviations apart give D ≈ 4. Needs at least 20 samples.
/// Returns empty, or the two modes (ascending), each with its median and share of samples.
std::vector<latency_mode> find_sample_modes(std::span<const double> samples);
inline constexpr double k_sample_mode_min_share = 0.10;
inline constexpr double k_sample_mode_min_d = 4.0;

/// What a point's operation count means for the rates (see record.hpp).
enum class rate_basis : std::uint8_t {
    operations,  ///< ops_per_sec counts timed operations (calls, round trips, receives)
    delivered,   ///< ops_per_sec counts datagrams delivered (throughput)
};

/// Collects repetitions of one scenario point and fills a record's measurement fields.
class accumulator {
public:
    void add(repetition rep);
    /// Fills latency, spread, modes, rates, per-op counters, counter overhead, and
    /// sent/received/dropped (into r.counts, keeping any per-op stack counts there).
    /// `payload_bytes` is payload per datagram.
    void finish(record& r, double payload_bytes, rate_basis basis) const;
    [[nodiscard]] std::size_t size() const { return _reps.size(); }

private:
    std::vector<repetition> _reps;
};

}  // namespace lwbench::harness
