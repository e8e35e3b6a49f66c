// stats.cpp — percentile and spread arithmetic (see stats.hpp for the contract).
#include "lwbench/harness/stats.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace lwbench::harness {
namespace {

constexpr auto make_ladder() {
    std::array<double, 106> q{};
    std::size_t n = 0;
    for (int i = 0; i < 100; ++i) q[n++] = i / 100.0;
    for (double v : {0.995, 0.998, 0.999, 0.9995, 0.9999, 1.0}) q[n++] = v;
    return q;
}
constexpr auto k_ladder = make_ladder();

}  // namespace

std::span<const double> ladder_quantiles() { return k_ladder; }

double quantile_sorted(std::span<const double> sorted, double q) {
    if (sorted.empty()) return 0;
    q = std::clamp(q, 0.0, 1.0);
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

latency_summary summarize(std::vector<double>& samples) {
    latency_summary s;
    s.count = samples.size();
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    s.min = samples.front();
    s.max = samples.back();
    s.p50 = quantile_sorted(samples, 0.50);
    s.p90 = quantile_sorted(samples, 0.90);
    s.p99 = quantile_sorted(samples, 0.99);
    s.p999 = quantile_sorted(samples, 0.999);
    s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
    s.ladder.reserve(k_ladder.size());
    for (double q : k_ladder) s.ladder.emplace_back(q, quantile_sorted(samples, q));
    return s;
}

spread_summary spread_of(std::span<const double> values) {
    spread_summary s;
    if (values.empty()) return s;
    std::vector<double> v(values.begin(), values.end());
    std::sort(v.begin(), v.end());
    s.median_ns = quantile_sorted(v, 0.5);
    s.min_ns = v.front();
    s.max_ns = v.back();
    std::vector<double> dev;
    dev.reserve(v.size());
    for (double x : v) dev.push_back(std::fabs(x - s.median_ns));
    std::sort(dev.begin(), dev.end());
    s.mad_ns = quantile_sorted(dev, 0.5);
    s.rel_mad = s.median_ns > 0 ? s.mad_ns / s.median_ns : 0;
    return s;
}

}  // namespace lwbench::harness
