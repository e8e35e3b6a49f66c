// Percentiles and spread against hand-computed values.
#include <gtest/gtest.h>

#include <numeric>

#include "lwbench/harness/stats.hpp"

using namespace lwbench::harness;

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
    const std::vector<double> v{1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.0), 1.0);
    EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 2.5);   // pos 1.5
    EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.9), 3.7);   // pos 2.7
    EXPECT_DOUBLE_EQ(quantile_sorted(v, 1.0), 4.0);
    EXPECT_DOUBLE_EQ(quantile_sorted(v, 1.5), 4.0);   // clamped
    EXPECT_DOUBLE_EQ(quantile_sorted(std::vector<double>{7}, 0.99), 7.0);
    EXPECT_DOUBLE_EQ(quantile_sorted(std::vector<double>{}, 0.5), 0.0);
}

TEST(Summarize, OneToThousand) {
    std::vector<double> v(1000);
    std::iota(v.begin(), v.end(), 1.0);
    std::reverse(v.begin(), v.end());  // summarize sorts
    const auto s = summarize(v);
    EXPECT_EQ(s.count, 1000u);
    EXPECT_DOUBLE_EQ(s.min, 1);
    EXPECT_DOUBLE_EQ(s.max, 1000);
    EXPECT_DOUBLE_EQ(s.p50, 500.5);    // pos 499.5
    EXPECT_DOUBLE_EQ(s.p90, 900.1);    // pos 899.1
    EXPECT_NEAR(s.p99, 990.01, 1e-9);  // pos 989.01
    EXPECT_NEAR(s.p999, 999.001, 1e-9);
    EXPECT_DOUBLE_EQ(s.mean, 500.5);
    ASSERT_FALSE(s.ladder.empty());
    EXPECT_DOUBLE_EQ(s.ladder.front().first, 0.0);
    EXPECT_DOUBLE_EQ(s.ladder.front().second, 1.0);
    EXPECT_DOUBLE_EQ(s.ladder.back().first, 1.0);
    EXPECT_DOUBLE_EQ(s.ladder.back().second, 1000.0);
    for (std::size_t i = 1; i < s.ladder.size(); ++i) {
        EXPECT_LT(s.ladder[i - 1].first, s.ladder[i].first);
        EXPECT_LE(s.ladder[i - 1].second, s.ladder[i].second);
    }
}

TEST(Summarize, EmptyHasNoCount) {
    std::vector<double> v;
    EXPECT_EQ(summarize(v).count, 0u);
}

TEST(Spread, MedianAbsoluteDeviationIgnoresOneOutlier) {
    const std::vector<double> v{10, 12, 11, 50, 11};
    const auto s = spread_of(v);
    EXPECT_DOUBLE_EQ(s.median_ns, 11);
    EXPECT_DOUBLE_EQ(s.mad_ns, 1);  // deviations 1,1,0,39,0 -> median 1
    EXPECT_DOUBLE_EQ(s.rel_mad, 1.0 / 11.0);
    EXPECT_DOUBLE_EQ(s.min_ns, 10);
    EXPECT_DOUBLE_EQ(s.max_ns, 50);
}
