// Records: JSON round trip, counter fallbacks ("not available", never 0).
#include <gtest/gtest.h>

#include "lwbench/harness/record.hpp"
#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/timing.hpp"

using namespace lwbench::harness;

namespace {
record full_record() {
    record r;
    r.stack = "lwip-2.1.3";
    r.scenario = "send_latency";
    r.api = "socket";
    r.threading_mode = "message_passing";
    r.input_mode = "mailbox";
    r.mailbox_kind = "mutex_cv";
    r.lock_kind = "std_mutex";
    r.payload_bytes = 1458;
    r.app_threads = 2;
    r.pinning = "separate_cores";
    r.variant = "stock_loopif";
    r.netif = "tap";
    r.lwip_options = nlohmann::json{{"LWIP_TCPIP_CORE_LOCKING", 0}};
    r.repetitions = 3;
    r.ops_per_repetition = 1000;
    r.ops_per_sample = 4;
    r.latency = {1, 2, 3, 4, 5, 6, 2.5, 99, {{0.0, 1}, {0.5, 2}, {1.0, 6}}};
    r.repetition_p50_ns = {2, 2.1, 1.9};
    r.spread = {2, 0.1, 0.05, 1.9, 2.1};
    r.ops_per_sec = 12345.5;
    r.repetition_ops_per_sec = {12000.0, 12345.5, 12500.0};
    r.core_work_iterations = 2000;
    r.bytes_per_sec = 12345.5 * 1458;
    r.counters["context_switches"] = {2.0, 6000, "ok"};
    r.counters["cycles"] = {std::nullopt, std::nullopt, "not available: no PMU"};
    stack_counts c;
    c.payload_copies_per_op = 1.0;  // heap/pool left unmeasured (null)
    c.api_messages_per_op = 4.0;    // the TCP counts
    c.window_update_calls_per_op = 2.0;
    c.write_waits_per_op = 0.0;
    c.retransmissions_per_op = 0.25;
    c.sent = 3000;
    c.received = 2990;
    c.dropped = 10;
    c.dropped_by_reason["recv_queue_full"] = 10;
    r.counts = c;
    r.errors = 1;
    return r;
}
}  // namespace

TEST(Record, JsonRoundTripIsExact) {
    const record r = full_record();
    const auto j = to_json(r);
    const record back = record_from_json(j);
    EXPECT_EQ(to_json(back), j);
    EXPECT_EQ(back.counters.at("cycles").per_op, std::nullopt);
    EXPECT_TRUE(j["counters"]["cycles"]["per_op"].is_null());
    EXPECT_TRUE(j["stack_counts"]["heap_allocs_per_op"].is_null());  // unmeasured is null, not 0
    EXPECT_EQ(j["stack_counts"]["payload_copies_per_op"], 1.0);
    EXPECT_EQ(j["stack_counts"]["api_messages_per_op"], 4.0);
    EXPECT_EQ(j["stack_counts"]["write_waits_per_op"], 0.0);  // measured 0 stays 0
    EXPECT_EQ(back.counts, r.counts);
    EXPECT_EQ(back.label(), r.label());
    EXPECT_EQ(back.netif, std::optional<std::string>("tap"));
    EXPECT_NE(r.label().find("/tap"), std::string::npos);  // a TAP point never reads as a loopback one
}

TEST(Record, CoreWorkAndRepetitionRatesRoundTripAndOlderFilesReadAsNone) {
    auto j = to_json(full_record());
    EXPECT_EQ(j["core_work_iterations"], 2000);
    EXPECT_EQ(record_from_json(j).repetition_ops_per_sec, (std::vector<double>{12000.0, 12345.5, 12500.0}));
    EXPECT_NE(full_record().label().find("/work=2000"), std::string::npos);
    j.erase("core_work_iterations");  // written before the knob existed: no added work
    j.erase("repetition_ops_per_sec");
    const record old = record_from_json(j);
    EXPECT_EQ(old.core_work_iterations, 0u);
    EXPECT_TRUE(old.repetition_ops_per_sec.empty());
    EXPECT_EQ(old.label().find("/work="), std::string::npos);
}

TEST(Record, FileWithoutNetifReadsAsNull) {
    auto j = to_json(full_record());
    j.erase("netif");  // written before the TAP netif existed
    EXPECT_EQ(record_from_json(j).netif, std::nullopt);
}

TEST(Record, FileWithoutTcpCountsReadsThemAsNull) {
    auto j = to_json(full_record());
    j["stack_counts"].erase("api_messages_per_op");  // written before the TCP counts existed
    const record back = record_from_json(j);
    ASSERT_TRUE(back.counts);
    EXPECT_EQ(back.counts->api_messages_per_op, std::nullopt);
    EXPECT_EQ(back.counts->window_update_calls_per_op, 2.0);
}

TEST(Record, MissingRequiredKeyThrows) {
    auto j = to_json(full_record());
    j.erase("latency_ns");
    EXPECT_THROW(record_from_json(j), nlohmann::json::exception);
}

TEST(Counters, UnavailableStaysUnavailablePerOp) {
    const std::vector<counter_value> v = {{"context_switches", 40.0, "ok"},
                                          {"cycles", std::nullopt, "not available: test"}};
    const auto m = per_op_counters(v, 20);
    EXPECT_DOUBLE_EQ(*m.at("context_switches").per_op, 2.0);
    EXPECT_FALSE(m.at("cycles").per_op.has_value());
    EXPECT_EQ(m.at("cycles").status, "not available: test");
}

TEST(Counters, EveryEventIsEitherAValueOrAReason) {
    // On this VM the hardware events are missing; wherever we run, each event must
    // be a real value with status ok, or no value with a "not available" reason.
    perf_counters pc(true);
    pc.start();
    volatile double x = 0;
    for (int i = 0; i < 100000; ++i) x = x + i;
    pc.stop();
    for (const auto& c : pc.read()) {
        if (c.total) {
            EXPECT_EQ(c.status, "ok") << c.name;
        } else {
            EXPECT_EQ(c.status.rfind("not available", 0), 0u) << c.name << ": " << c.status;
        }
    }
    EXPECT_EQ(pc.hardware_available(), perf_counters::probe_hardware());
}

TEST(Counters, HardwareNotRequestedIsSaidSo) {
    perf_counters pc(false);
    for (const auto& c : pc.read())
        if (c.name == "cycles") {
            EXPECT_FALSE(c.total.has_value());
            EXPECT_EQ(c.status, "not available: hardware counters not requested");
        }
}

TEST(Accumulator, OneUnavailableRepetitionMakesTheCounterUnavailable) {
    accumulator acc;
    repetition timed, a, b;
    timed.samples_ns = {1, 2, 3};
    timed.ops = 3;
    timed.wall_ns = 6;
    a = timed;
    a.counted = true;
    a.counters = {{"cycles", 30.0, "ok"}};
    b = a;
    b.counters = {{"cycles", std::nullopt, "not available: PMU busy"}};
    acc.add(timed);
    acc.add(timed);
    acc.add(std::move(a));
    acc.add(std::move(b));
    record r;
    acc.finish(r, 100, rate_basis::operations);
    EXPECT_FALSE(r.counters.at("cycles").per_op.has_value());
    EXPECT_EQ(r.counters.at("cycles").status, "not available: PMU busy");
    EXPECT_EQ(r.repetitions, 2);
    EXPECT_EQ(r.counted_repetitions, 2);
    EXPECT_DOUBLE_EQ(r.latency.p50, 2);
    EXPECT_DOUBLE_EQ(r.ops_per_sec, 6 * 1e9 / 12);
    EXPECT_DOUBLE_EQ(r.bytes_per_sec, r.ops_per_sec * 100);
}

TEST(Timing, BatchingKeepsClockOverheadUnderFivePercent) {
    const double overhead = calibrate_clock().overhead_ns;
    ASSERT_GT(overhead, 0);
    for (double op : {1.0, 5.0, 20.0, 100.0, 1000.0, 100000.0}) {
        const int n = choose_ops_per_sample(op);
        EXPECT_LE(overhead / (n * op), 0.05 + 1e-9) << "op " << op << " ns, batch " << n;
    }
    EXPECT_EQ(choose_ops_per_sample(1e6), 1);
}

TEST(Record, ClockShareIsThePairCostOverOneSample) {
    record r;
    r.latency.p50 = 200;
    r.ops_per_sample = 10;
    ASSERT_TRUE(r.clock_share(40).has_value());
    EXPECT_DOUBLE_EQ(*r.clock_share(40), 40.0 / 2000.0);
    r.ops_per_sample = 1;
    EXPECT_DOUBLE_EQ(*r.clock_share(40), 0.2);
    r.latency.p50 = 0;  // nothing measured: no share
    EXPECT_FALSE(r.clock_share(40).has_value());
}
