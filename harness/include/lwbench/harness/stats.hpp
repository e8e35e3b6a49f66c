// stats.hpp — exact percentiles over latency samples and spread across repetitions.
//
// Percentiles are computed from the real samples (sorted, then linear interpolation
// between the two neighbouring order statistics: Hyndman & Fan type 7, numpy's
// default), never from a histogram, so p99.9 of 20 000 samples is a value that was
// actually observed or lies between two that were. What a sample is (one operation,
// or the mean of a batch) is the caller's: see timing.hpp and record::ops_per_sample.
#pragma once

#include <span>
#include <utility>
#include <vector>

namespace lwbench::harness {

/// Latency summary over a set of per-operation samples (ns per operation).
struct latency_summary {
    double min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
    std::size_t count = 0;
    /// (quantile, value) pairs at fixed quantiles from 0 to 1, for CDF plots.
    std::vector<std::pair<double, double>> ladder;
};

/// Spread of the per-repetition medians (MAD is robust against one noisy repetition).
struct spread_summary {
    double median_ns = 0, mad_ns = 0, rel_mad = 0, min_ns = 0, max_ns = 0;
};

/// Quantile q in [0,1] of an ascending-sorted sample set; linear interpolation
/// between order statistics (type 7 in Hyndman & Fan). Empty input returns 0.
double quantile_sorted(std::span<const double> sorted, double q);

/// Sorts `samples` in place and summarises them. Empty input gives count == 0.
latency_summary summarize(std::vector<double>& samples);

/// Median, median absolute deviation, min and max of the given values.
spread_summary spread_of(std::span<const double> values);

/// The fixed quantile set used for ladders (0, 0.01 … 0.99, 0.995, 0.999, 0.9999, 1).
std::span<const double> ladder_quantiles();

}  // namespace lwbench::harness
