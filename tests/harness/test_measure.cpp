// The measurement core on synthetic operations: probe, batch sizing, the sample loop
// and its cancellation, the bounded wait, timed vs counted repetitions, pooling,
// rates, loss, bimodality, and the runner's repetition format. No timing claims:
// only bounds that noise cannot break, and exact counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <chrono>
#include <thread>

#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/pinning.hpp"
#include "lwbench/harness/stream_check.hpp"
#include "lwbench/harness/timing.hpp"

using namespace lwbench::harness;

namespace {

/// A synthetic operation that busy-waits at least `ns`.
bool spin_for(std::int64_t ns) {
    const auto end = now_ns() + ns;
    while (now_ns() < end) {
    }
    return true;
}

repetition synthetic(std::vector<double> samples, bool counted = false, double wall_ns = 1000) {
    repetition r;
    r.samples_ns = std::move(samples);
    r.ops = static_cast<long>(r.samples_ns.size());
    r.wall_ns = wall_ns;
    r.counted = counted;
    return r;
}

}  // namespace

TEST(Probe, NeverReportsLessThanTheOperationTakes) {
    EXPECT_GE(probe_op_ns([] { return spin_for(2000); }, 20), 2000.0);
}

TEST(Batching, SingleOperationsWhereTheClockAllowsBatchesElsewhere) {
    EXPECT_EQ(choose_ops_per_sample(1000.0, 20.0), 1);             // 20 / 1000 = 2% <= 2.5%
    EXPECT_EQ(choose_ops_per_sample(100.0, 20.0), 8);              // 20 / (8 * 100) = 2.5%
    EXPECT_EQ(choose_ops_per_sample(0.0, 20.0), k_max_ops_per_sample);  // too fast to see
    EXPECT_EQ(choose_ops_per_sample(1e-9, 20.0), k_max_ops_per_sample);  // capped
    for (double op : {1.0, 5.0, 20.0, 100.0, 1000.0})
        EXPECT_LE(20.0 / (choose_ops_per_sample(op, 20.0) * op), k_overhead_target / 2 + 1e-12) << op;
}

TEST(SampleLoop, CountsSamplesOpsAndErrors) {
    std::vector<double> samples;
    long errors = 0, calls = 0;
    const long done = sample_loop(10, 4, [&] { return ++calls % 5 != 0; }, samples, errors);
    EXPECT_EQ(done, 10);
    EXPECT_EQ(calls, 10);
    EXPECT_EQ(samples.size(), 3u);  // 4 + 4 + 2
    EXPECT_EQ(errors, 2);           // calls 5 and 10
}

TEST(SampleLoop, StopsAtTheNextSampleOnceCancelled) {
    std::atomic<bool> cancel{false};
    std::vector<double> samples;
    long errors = 0, calls = 0;
    const long done = sample_loop(
        1000, 10,
        [&] {
            if (++calls == 25) cancel.store(true);
            return true;
        },
        samples, errors, &cancel);
    EXPECT_EQ(done, 30);  // the sample in flight completes; no new one starts
    EXPECT_EQ(samples.size(), 3u);
}

TEST(SampleLoop, TimeRepetitionThrowsCancelled) {
    std::atomic<bool> cancel{true};
    EXPECT_THROW((void)time_repetition(100, 1, false, false, &cancel, [] { return true; }), cancelled);
}

TEST(TimedRepetition, OpensNoCountersCountedOneDoes) {
    const auto timed = time_repetition(10, 1, false, false, nullptr, [] { return true; });
    EXPECT_FALSE(timed.counted);
    EXPECT_TRUE(timed.counters.empty());
    const auto counted = time_repetition(10, 1, true, false, nullptr, [] { return true; });
    EXPECT_TRUE(counted.counted);
    EXPECT_FALSE(counted.counters.empty());  // every event, available or with its reason
    EXPECT_EQ(timed.samples_ns.size(), 10u);
}

TEST(StreamRepetition, TheClockRunsUntilTheStreamDrained) {
    // The "receiver" has the bytes only some time after the last op: wall covers it.
    const std::int64_t ready_at_ns = now_ns() + 3'000'000;
    const auto rep = time_stream_repetition(5, 1, false, false, nullptr, [] { return true; },
                                            [&] { return now_ns() >= ready_at_ns; });
    EXPECT_EQ(rep.ops, 5);
    EXPECT_EQ(rep.errors, 0);
    EXPECT_GE(rep.wall_ns, 2'000'000.0);
    // A stream that never drains is one error, after the bounded wait.
    const auto stuck = time_stream_repetition(5, 1, false, false, nullptr, [] { return true; }, [] { return false; },
                                              std::chrono::milliseconds(1));
    EXPECT_EQ(stuck.errors, 1);
}

TEST(StreamCheck, CountsBytesAcrossPeriodsAndFlagsEveryWrongChunk) {
    const std::uint8_t pattern[5] = {1, 2, 3, 4, 5};
    stream_check check(pattern, sizeof pattern);
    const std::uint8_t a[] = {1, 2, 3}, b[] = {4, 5, 1, 2, 3, 4, 5, 1}, c[] = {2};
    EXPECT_TRUE(check.feed(a, sizeof a));
    EXPECT_TRUE(check.feed(b, sizeof b));  // across two period boundaries
    EXPECT_TRUE(check.feed(c, sizeof c));
    EXPECT_EQ(check.bytes(), 12u);
    EXPECT_EQ(check.mismatches(), 0u);
    const std::uint8_t skipped[] = {4, 5};  // byte 3 of the pattern was lost
    EXPECT_FALSE(check.feed(skipped, sizeof skipped));
    const std::uint8_t dup[] = {4};
    EXPECT_FALSE(check.feed(dup, sizeof dup));
    EXPECT_EQ(check.mismatches(), 2u);
    EXPECT_EQ(check.bytes(), 15u);
}

TEST(BoundedWait, ReturnsOnReadyTimeoutAndCancel) {
    EXPECT_TRUE(wait_until([] { return true; }));
    EXPECT_FALSE(wait_until([] { return false; }, std::chrono::milliseconds(1)));
    std::atomic<bool> cancel{true};
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(wait_until([] { return false; }, std::chrono::seconds(30), &cancel));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(Plan, CountedRepetitionsAreSpreadAndCounted) {
    EXPECT_EQ(default_counted_repetitions(1), 1);
    EXPECT_EQ(default_counted_repetitions(5), 1);
    EXPECT_EQ(default_counted_repetitions(10), 2);
    for (int timed : {0, 1, 3, 5, 10})
        for (int counted : {0, 1, 2, 5}) {
            if (timed == 0 && counted == 0) continue;
            const auto plan = repetition_plan(timed, counted);
            EXPECT_EQ(std::count(plan.begin(), plan.end(), false), timed);
            EXPECT_EQ(std::count(plan.begin(), plan.end(), true), std::max(counted, 0));
        }
    // 2 counted of 10 rounds: not both at the start
    EXPECT_FALSE(counted_in_round(0, 10, 2) && counted_in_round(1, 10, 2));
}

TEST(Modes, OneClusterIsNotBimodal) {
    EXPECT_TRUE(find_modes(std::vector<double>{5.4, 5.5, 5.3, 5.6, 5.45}).empty());
    EXPECT_TRUE(find_modes(std::vector<double>{5.4, 5.5, 9.0}).empty());            // too few repetitions
    EXPECT_TRUE(find_modes(std::vector<double>{5.4, 5.5, 5.3, 5.6, 9.0}).empty());  // one outlier is no mode
}

TEST(Modes, TwoClustersAreReportedWithTheirShares) {
    const auto modes = find_modes(std::vector<double>{5400, 8600, 5500, 8500, 5300, 8700});
    ASSERT_EQ(modes.size(), 2u);
    EXPECT_DOUBLE_EQ(modes[0].median_ns, 5400);
    EXPECT_DOUBLE_EQ(modes[1].median_ns, 8600);
    EXPECT_DOUBLE_EQ(modes[0].share, 0.5);
    EXPECT_DOUBLE_EQ(modes[1].share, 0.5);
    record r;
    r.modes = modes;
    EXPECT_EQ(r.modes_text(), "bimodal: 5.40 µs (50%) / 8.60 µs (50%)");
}

namespace {

/// Deterministic synthetic samples: `count` normal variates around `mean` (Box–Muller
/// from a fixed-seed generator, so every run tests the same numbers).
std::vector<double> normal_samples(std::size_t count, double mean, double sd, std::uint32_t seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<double> normal(mean, sd);
    std::vector<double> out(count);
    for (auto& x : out) x = normal(generator);
    return out;
}

}  // namespace

TEST(SampleModes, TwoModesInThePooledSamplesAreFoundWithTheirShares) {
    // The cell: 60% of calls near 5.4 µs, 40% near 8.5 µs, interleaved in every repetition.
    auto samples = normal_samples(6000, 5400, 120, 1);
    const auto upper = normal_samples(4000, 8500, 200, 2);
    samples.insert(samples.end(), upper.begin(), upper.end());
    std::shuffle(samples.begin(), samples.end(), std::mt19937(3));
    const auto modes = find_sample_modes(samples);
    ASSERT_EQ(modes.size(), 2u);
    EXPECT_NEAR(modes[0].median_ns, 5400, 30);
    EXPECT_NEAR(modes[1].median_ns, 8500, 50);
    EXPECT_NEAR(modes[0].share, 0.6, 0.005);
    EXPECT_NEAR(modes[1].share, 0.4, 0.005);
    EXPECT_EQ(modes_text(modes), "bimodal: 5.40 µs (60%) / 8.50 µs (40%)");

    // Two exact values far apart (an instruction-counted target taking one of two paths).
    std::vector<double> two_paths(100, 1000.0);
    std::fill(two_paths.begin() + 70, two_paths.end(), 2000.0);
    ASSERT_EQ(find_sample_modes(two_paths).size(), 2u);
    EXPECT_DOUBLE_EQ(find_sample_modes(two_paths)[1].share, 0.3);
}

TEST(SampleModes, UnimodalShapesAreNotBimodal) {
    EXPECT_TRUE(find_sample_modes(normal_samples(10000, 5400, 300, 4)).empty());
    // A latency shape: a tight body and a long right tail (1% preempted 30x slower).
    auto tailed = normal_samples(10000, 320, 8, 5);
    for (std::size_t i = 0; i < tailed.size(); i += 100) tailed[i] *= 30;
    EXPECT_TRUE(find_sample_modes(tailed).empty()) << "a 1% tail is a tail, not a mode";
    // Log-normal (skewed, one peak) and uniform (flat, no valley).
    std::mt19937 generator(6);
    std::lognormal_distribution<double> lognormal(std::log(2000.0), 0.4);
    std::uniform_real_distribution<double> uniform(1000, 3000);
    std::vector<double> skewed(10000), flat(10000);
    for (auto& x : skewed) x = lognormal(generator);
    for (auto& x : flat) x = uniform(generator);
    EXPECT_TRUE(find_sample_modes(skewed).empty());
    EXPECT_TRUE(find_sample_modes(flat).empty());
    // Two values 5% apart: separated, but not modes worth a reader's attention (< 15%).
    std::vector<double> close(100, 1000.0);
    std::fill(close.begin() + 50, close.end(), 1050.0);
    EXPECT_TRUE(find_sample_modes(close).empty());
    // Too few samples to say.
    EXPECT_TRUE(find_sample_modes(std::vector<double>{1, 1, 1, 9, 9, 9}).empty());
}

TEST(SampleModes, TheAccumulatorReportsThemInTheRecord) {
    accumulator acc;
    std::vector<double> mixed(200, 1000.0);
    std::fill(mixed.begin() + 100, mixed.end(), 3000.0);
    acc.add(synthetic(mixed));
    acc.add(synthetic(mixed));
    record r;
    acc.finish(r, 0, rate_basis::operations);
    ASSERT_EQ(r.sample_modes.size(), 2u);
    EXPECT_TRUE(r.modes.empty());  // every repetition looks alike: only the samples show it
    EXPECT_EQ(record_from_json(to_json(r)).sample_modes, r.sample_modes);
}

TEST(Accumulate, PoolsTimedSamplesAndKeepsCountedOnesOut) {
    accumulator acc;
    acc.add(synthetic({1, 2, 3}));
    acc.add(synthetic({4, 5, 6}));
    auto counted = synthetic({100, 100, 100}, true);
    counted.counters = {{"context_switches", 6.0, "ok"}};
    acc.add(counted);
    record r;
    acc.finish(r, 10, rate_basis::operations);
    std::vector<double> pooled{1, 2, 3, 4, 5, 6};
    const auto expect = summarize(pooled);
    EXPECT_DOUBLE_EQ(r.latency.p50, expect.p50);  // pooled, not the median of per-round p50s (2 and 5)
    EXPECT_DOUBLE_EQ(r.latency.p90, expect.p90);
    EXPECT_EQ(r.latency.count, 6u);
    EXPECT_EQ(r.repetitions, 2);
    EXPECT_EQ(r.counted_repetitions, 1);
    EXPECT_DOUBLE_EQ(*r.counters.at("context_switches").per_op, 2.0);  // 6 over the counted rep's 3 ops
    ASSERT_TRUE(r.counter_overhead.has_value());
    EXPECT_DOUBLE_EQ(*r.counter_overhead, 100.0 / 3.5 - 1);
    EXPECT_EQ(r.repetition_p50_ns, (std::vector<double>{2, 5}));
    EXPECT_EQ(r.ops_per_sample, 1);
    EXPECT_EQ(r.sample_basis(), "single operations");
}

TEST(Accumulate, ThroughputIsWhatWasDeliveredWithTheOfferedRateBeside) {
    accumulator acc;
    for (int i = 0; i < 2; ++i) {
        auto rep = synthetic({10, 10}, false, 1e9);  // 1 s each
        rep.ops_per_sample = 16;
        rep.sent = 1000;
        rep.received = 900;
        rep.dropped_by_reason = {{"recv_queue_full", 100}};
        acc.add(rep);
    }
    record r;
    acc.finish(r, 100, rate_basis::delivered);
    EXPECT_DOUBLE_EQ(r.ops_per_sec, 900);
    EXPECT_DOUBLE_EQ(*r.delivered_per_sec, 900);
    EXPECT_DOUBLE_EQ(*r.offered_per_sec, 1000);
    EXPECT_DOUBLE_EQ(r.bytes_per_sec, 90000);
    ASSERT_TRUE(r.counts.has_value());
    EXPECT_EQ(r.counts->sent, 2000u);
    EXPECT_EQ(r.counts->received, 1800u);
    EXPECT_EQ(r.counts->dropped, 200u);
    EXPECT_EQ(r.counts->dropped_by_reason.at("recv_queue_full"), 200u);
    EXPECT_EQ(r.sample_basis(), "batch means (16 ops)");
    r.scenario = "throughput";
    const auto warning = loss_warning(r);
    ASSERT_TRUE(warning.has_value());
    EXPECT_NE(warning->find("200 of 2000 datagrams not delivered (recv_queue_full 200)"), std::string::npos);
}

TEST(Accumulate, NoDatagramsNoLossFields) {
    accumulator acc;
    acc.add(synthetic({1, 2}));
    record r;
    acc.finish(r, 0, rate_basis::operations);
    EXPECT_FALSE(r.counts.has_value());
    EXPECT_FALSE(r.offered_per_sec.has_value());
    EXPECT_FALSE(loss_warning(r).has_value());
}

// The real-lwIP runners hand their repetitions over as JSON (--emit-repetitions); the
// harness aggregates them with the same accumulator. Going through that format must
// not change a single field of the resulting record.
TEST(Accumulate, RunnerRepetitionFormatGivesTheSameRecord) {
    std::vector<repetition> reps;
    for (int i = 0; i < 5; ++i) {
        auto rep = synthetic({100.0 + i, 200.0 + i, 300.0 + 2 * i, 150.0}, i == 2, 1e6 + i);
        rep.ops_per_sample = 3;
        rep.ops = 12;
        rep.errors = i == 4 ? 1 : 0;
        rep.sent = 12;
        rep.received = 12 - static_cast<std::uint64_t>(rep.errors);
        if (rep.errors) rep.dropped_by_reason["not_received_by_sink"] = 1;
        if (rep.counted) rep.counters = {{"context_switches", 24.0, "ok"}, {"cycles", std::nullopt, "not available: x"}};
        reps.push_back(rep);
    }
    accumulator direct, via_json;
    for (const auto& rep : reps) {
        direct.add(rep);
        via_json.add(repetition_from_json(nlohmann::json::parse(to_json(rep).dump())));
    }
    record a, b;
    direct.finish(a, 1458, rate_basis::operations);
    via_json.finish(b, 1458, rate_basis::operations);
    EXPECT_EQ(to_json(a), to_json(b));
    EXPECT_EQ(a.repetitions, 4);
    EXPECT_EQ(a.counted_repetitions, 1);
}

TEST(Pinning, OnePlanForEveryStack) {
    const auto same = cpu_plan{pinning::same_core, 2};
    EXPECT_EQ(same.tcpip(), 0);
    EXPECT_EQ(same.app(0), 0);
    EXPECT_EQ(same.app(3), 0);
    const auto separate = cpu_plan{pinning::separate_cores, 4};
    EXPECT_EQ(separate.tcpip(), 0);
    EXPECT_EQ(separate.app(0), 1);
    EXPECT_EQ(separate.app(2), 3);
    EXPECT_EQ(separate.app(3), 1);
    const auto none = cpu_plan{pinning::none, 4};
    EXPECT_EQ(none.tcpip(), -1);
    EXPECT_EQ(none.app(0), -1);
    EXPECT_EQ(parse_pinning("separate_cores"), pinning::separate_cores);
    EXPECT_FALSE(parse_pinning("both").has_value());
}
