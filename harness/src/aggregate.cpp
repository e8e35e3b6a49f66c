// aggregate.cpp — repetitions to records (see aggregate.hpp for the contract).
#include "lwbench/harness/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lwbench::harness {

using nlohmann::json;

json to_json(const repetition& r) {
    json counters = json::array();
    for (const auto& c : r.counters)
        counters.push_back({{"name", c.name}, {"total", c.total ? json(*c.total) : json(nullptr)}, {"status", c.status}});
    return {{"samples_ns", r.samples_ns},
            {"ops_per_sample", r.ops_per_sample},
            {"wall_ns", r.wall_ns},
            {"ops", r.ops},
            {"errors", r.errors},
            {"counted", r.counted},
            {"counters", counters},
            {"sent", r.sent ? json(*r.sent) : json(nullptr)},
            {"received", r.received ? json(*r.received) : json(nullptr)},
            {"dropped_by_reason", r.dropped_by_reason}};
}

repetition repetition_from_json(const json& j) {
    repetition r;
    r.samples_ns = j.at("samples_ns").get<std::vector<double>>();
    r.ops_per_sample = j.at("ops_per_sample").get<int>();
    r.wall_ns = j.at("wall_ns").get<double>();
    r.ops = j.at("ops").get<long>();
    r.errors = j.at("errors").get<long>();
    r.counted = j.at("counted").get<bool>();
    for (const auto& c : j.at("counters")) {
        counter_value v;
        v.name = c.at("name").get<std::string>();
        if (!c.at("total").is_null()) v.total = c.at("total").get<double>();
        v.status = c.at("status").get<std::string>();
        r.counters.push_back(std::move(v));
    }
    if (!j.at("sent").is_null()) r.sent = j.at("sent").get<std::uint64_t>();
    if (!j.at("received").is_null()) r.received = j.at("received").get<std::uint64_t>();
    r.dropped_by_reason = j.at("dropped_by_reason").get<std::map<std::string, std::uint64_t>>();
    return r;
}

int default_counted_repetitions(int timed_repetitions) { return std::max(1, (timed_repetitions + 4) / 5); }

bool counted_in_round(int round, int rounds, int counted) {
    if (rounds <= 0 || counted <= 0) return false;
    if (counted >= rounds) return true;
    // Bresenham: round r holds a counted visit when floor((r+1)c/R) steps past floor(rc/R).
    return ((round + 1) * counted) / rounds > (round * counted) / rounds;
}

long merge_senders(repetition& rep, const std::vector<std::vector<double>>& samples, const std::vector<long>& errors,
                   const std::vector<long>& calls) {
    long total = 0;
    for (std::size_t t = 0; t < samples.size(); ++t) {
        rep.samples_ns.insert(rep.samples_ns.end(), samples[t].begin(), samples[t].end());
        rep.errors += errors[t];
        total += calls[t];
    }
    return total;
}

std::vector<bool> repetition_plan(int timed, int counted) {
    std::vector<bool> plan;
    const int rounds = std::max(timed, counted);
    for (int r = 0; r < rounds; ++r) {
        if (r < timed) plan.push_back(false);
        if (counted_in_round(r, rounds, counted)) plan.push_back(true);
    }
    return plan;
}

std::vector<latency_mode> find_modes(std::span<const double> repetition_medians) {
    std::vector<double> v(repetition_medians.begin(), repetition_medians.end());
    if (v.size() < 4) return {};
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    std::size_t best = 0;
    double best_ratio = 0;
    for (std::size_t k = 2; k + 2 <= n; ++k) {  // lower group v[0..k), upper v[k..n), both >= 2
        if (!(v[k - 1] > 0)) continue;
        const double ratio = v[k] / v[k - 1];
        if (ratio > best_ratio) {
            best_ratio = ratio;
            best = k;
        }
    }
    if (best == 0 || best_ratio < 1.15) return {};
    const double gap = v[best] - v[best - 1];
    const double range_lo = v[best - 1] - v[0];
    const double range_hi = v[n - 1] - v[best];
    if (gap < 2 * std::max(range_lo, range_hi)) return {};
    const auto median_of = [&](std::size_t from, std::size_t to) {
        return quantile_sorted(std::span<const double>(v.data() + from, to - from), 0.5);
    };
    const double dn = static_cast<double>(n);
    return {{median_of(0, best), static_cast<double>(best) / dn},
            {median_of(best, n), static_cast<double>(n - best) / dn}};
}

std::vector<latency_mode> find_sample_modes(std::span<const double> samples) {
    constexpr std::size_t k_min_samples = 20;
    std::vector<double> sorted;
    sorted.reserve(samples.size());
    for (double s : samples)
        if (s > 0) sorted.push_back(s);  // a log needs a positive time; a 0 ns sample says nothing of modes
    const std::size_t n = sorted.size();
    if (n < k_min_samples) return {};
    std::sort(sorted.begin(), sorted.end());
    // Centred logs keep the prefix sums' squares small (precision over a million samples).
    std::vector<double> logs(n);
    double centre = 0;
    for (std::size_t i = 0; i < n; ++i) centre += (logs[i] = std::log(sorted[i]));
    centre /= static_cast<double>(n);
    std::vector<double> sum(n + 1, 0.0), sum_sq(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double x = logs[i] - centre;
        sum[i + 1] = sum[i] + x;
        sum_sq[i + 1] = sum_sq[i] + x * x;
    }
    // Sum of squared deviations of group [from, to).
    const auto scatter = [&](std::size_t from, std::size_t to) {
        const double count = static_cast<double>(to - from);
        const double s = sum[to] - sum[from];
        return std::max(0.0, (sum_sq[to] - sum_sq[from]) - s * s / count);
    };
    const auto min_group = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::ceil(k_sample_mode_min_share * static_cast<double>(n))));
    if (2 * min_group > n) return {};
    std::size_t best = 0;
    double best_scatter = 0;
    for (std::size_t k = min_group; k + min_group <= n; ++k) {
        if (sorted[k] == sorted[k - 1]) continue;  // a split between equal values is no split
        const double within = scatter(0, k) + scatter(k, n);
        if (best == 0 || within < best_scatter) {
            best = k;
            best_scatter = within;
        }
    }
    if (best == 0) return {};
    const auto mean_and_var = [&](std::size_t from, std::size_t to) {
        const double count = static_cast<double>(to - from);
        return std::pair{(sum[to] - sum[from]) / count, scatter(from, to) / count};
    };
    const auto [mean_lo, var_lo] = mean_and_var(0, best);
    const auto [mean_hi, var_hi] = mean_and_var(best, n);
    const double spread = std::sqrt(var_lo + var_hi);
    const double d = spread > 0 ? std::sqrt(2.0) * (mean_hi - mean_lo) / spread
                                : std::numeric_limits<double>::infinity();
    const auto median_of = [&](std::size_t from, std::size_t to) {
        return quantile_sorted(std::span<const double>(sorted.data() + from, to - from), 0.5);
    };
    const double median_lo = median_of(0, best), median_hi = median_of(best, n);
    if (d < k_sample_mode_min_d || median_hi < 1.15 * median_lo) return {};
    const double dn = static_cast<double>(n);
    return {{median_lo, static_cast<double>(best) / dn}, {median_hi, static_cast<double>(n - best) / dn}};
}

void accumulator::add(repetition rep) { _reps.push_back(std::move(rep)); }

void accumulator::finish(record& r, double payload_bytes, rate_basis basis) const {
    std::vector<double> pooled, timed_medians, counted_medians;
    double wall = 0;
    long ops = 0, errors = 0, counted_ops = 0;
    int timed = 0, counted = 0, ops_per_sample = 1;
    bool have_datagrams = false;
    std::uint64_t sent = 0, received = 0;
    std::map<std::string, std::uint64_t> drops;
    std::map<std::string, counter_value> sums;
    std::vector<std::string> order;
    for (const auto& rep : _reps) {
        std::vector<double> copy = rep.samples_ns;
        const double median = summarize(copy).p50;
        errors += rep.errors;
        if (rep.sent || rep.received) have_datagrams = true;
        sent += rep.sent.value_or(0);
        received += rep.received.value_or(0);
        for (const auto& [reason, n] : rep.dropped_by_reason) drops[reason] += n;
        if (rep.counted) {
            ++counted;
            counted_ops += rep.ops;
            if (!rep.samples_ns.empty()) counted_medians.push_back(median);  // counters without timing: no overhead figure
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
            continue;
        }
        ++timed;
        ops_per_sample = std::max(ops_per_sample, rep.ops_per_sample);
        timed_medians.push_back(median);
        pooled.insert(pooled.end(), rep.samples_ns.begin(), rep.samples_ns.end());
        wall += rep.wall_ns;
        ops += rep.ops;
    }
    r.repetitions = timed;
    r.counted_repetitions = counted;
    r.ops_per_repetition = timed > 0 ? ops / timed : 0;
    r.ops_per_sample = ops_per_sample;
    r.latency = summarize(pooled);
    r.repetition_p50_ns = timed_medians;
    r.spread = spread_of(timed_medians);
    r.modes = find_modes(timed_medians);
    r.sample_modes = find_sample_modes(pooled);
    r.errors = errors;

    // Rates over the timed repetitions only (counted ones ran with the observer).
    double timed_sent = 0, timed_received = 0;
    for (const auto& rep : _reps)
        if (!rep.counted) {
            timed_sent += static_cast<double>(rep.sent.value_or(0));
            timed_received += static_cast<double>(rep.received.value_or(0));
        }
    const double per_sec = wall > 0 ? 1e9 / wall : 0;
    r.offered_per_sec.reset();
    r.delivered_per_sec.reset();
    if (have_datagrams) {
        r.offered_per_sec = timed_sent * per_sec;
        r.delivered_per_sec = timed_received * per_sec;
    }
    if (basis == rate_basis::delivered) {
        r.ops_per_sec = r.delivered_per_sec.value_or(0);
    } else {
        r.ops_per_sec = static_cast<double>(ops) * per_sec;
    }
    // The same rate per timed repetition: its spread (crossover ties, compare).
    r.repetition_ops_per_sec.clear();
    for (const auto& rep : _reps)
        if (!rep.counted && rep.wall_ns > 0)
            r.repetition_ops_per_sec.push_back(
                (basis == rate_basis::delivered ? static_cast<double>(rep.received.value_or(0))
                                                : static_cast<double>(rep.ops)) * 1e9 / rep.wall_ns);
    r.bytes_per_sec = r.ops_per_sec * payload_bytes;

    std::vector<counter_value> ordered;
    for (const auto& name : order) ordered.push_back(sums.at(name));
    r.counters = per_op_counters(ordered, static_cast<double>(counted_ops));
    r.counter_overhead.reset();
    if (!counted_medians.empty() && !timed_medians.empty()) {
        const double t = spread_of(timed_medians).median_ns;
        if (t > 0) r.counter_overhead = spread_of(counted_medians).median_ns / t - 1;
    }

    if (have_datagrams) {
        if (!r.counts) r.counts = stack_counts{};
        r.counts->sent = sent;
        r.counts->received = received;
        r.counts->dropped_by_reason = drops;
        std::uint64_t dropped = 0;
        for (const auto& [reason, n] : drops) dropped += n;
        r.counts->dropped = dropped;
    }
}

}  // namespace lwbench::harness
