// The embedded target's records: a raw firmware document becomes lwbench records
// (identity, ns from timer ticks, per-op counters, "not available" never 0), and
// the seed table and report find them.
#include <gtest/gtest.h>

#include "lwbench/harness/reproduce.hpp"
#include "lwbench/harness/target_runner.hpp"

using namespace lwbench::harness;
using nlohmann::json;

namespace {

json point(const char* api, const char* mode, const char* variant = nullptr) {
    return {{"scenario", "send_latency"}, {"api", api}, {"primitive", nullptr},
            {"variant", variant ? json(variant) : json(nullptr)}, {"payload_bytes", 1458},
            {"threading_mode", mode}, {"input_mode", std::string(mode) == "core_locking" ? "inline" : "mailbox"}};
}

/// Two repetitions of three ops; ticks of 40 ns (a 25 MHz timer).
json rep_lines(const json& p, unsigned ticks, unsigned switches_per_op) {
    json reps = json::array();
    for (int rep = 0; rep < 2; ++rep)
        reps.push_back({{"kind", "rep"}, {"point", p}, {"rep", rep}, {"ops", 3}, {"errors", 0},
                        {"wall_ticks", 3 * ticks + 10}, {"context_switches", 3 * switches_per_op},
                        {"received", 3}, {"ticks", {ticks, ticks, ticks + 2}}});
    return reps;
}

json raw_document() {
    json run_cl = {{"threading_mode", "core_locking"},
                   {"header", {{"board", "mps2-an385"}, {"cpu", "Cortex-M3"}, {"timer_hz", 25000000},
                               {"lwip_version", "2.1.3"}, {"lwip_options", {{"LWIP_TCPIP_CORE_LOCKING", 1}}}}},
                   {"reps", json::array()}};
    json run_mp = run_cl;
    run_mp["threading_mode"] = "message_passing";
    run_mp["header"]["lwip_options"]["LWIP_TCPIP_CORE_LOCKING"] = 0;
    for (const auto& r : rep_lines(point("socket", "core_locking"), 6000, 0)) run_cl["reps"].push_back(r);
    for (const auto& r : rep_lines(point("raw", "core_locking"), 5900, 0)) run_cl["reps"].push_back(r);
    for (const auto& r : rep_lines(point("socket", "message_passing"), 6300, 2)) run_mp["reps"].push_back(r);
    return {{"schema", "lwbench.target_raw"}, {"schema_version", 1}, {"target", "cortex-m3-qemu"},
            {"emulator", {{"version", "QEMU 7.2"}, {"machine", "mps2-an385"}, {"icount_shift", 5},
                          {"ns_per_instruction", 32}}},
            {"toolchain", "arm-none-eabi-gcc 12.2"},
            {"runs", {run_cl, run_mp}}};
}

}  // namespace

TEST(TargetRunner, ParsesTargetNames) {
    EXPECT_EQ(parse_target("cortex-m3-qemu"), target_kind::cortex_m3_qemu);
    EXPECT_FALSE(parse_target("cortex-m4"));
    EXPECT_EQ(target_name(target_kind::cortex_m3_qemu), "cortex-m3-qemu");
}

TEST(TargetRunner, TurnsFirmwareSamplesIntoRecords) {
    const target_run run = target_records(raw_document());
    ASSERT_EQ(run.records.size(), 3u);
    const record& cl = run.records[0];
    EXPECT_EQ(cl.stack, "lwip-2.1.3");
    EXPECT_EQ(cl.api, "socket");
    EXPECT_EQ(cl.threading_mode, "core_locking");
    EXPECT_EQ(cl.pinning, "none");
    EXPECT_EQ(cl.variant, "cortex-m3-qemu");
    EXPECT_EQ(cl.repetitions, 2);
    EXPECT_EQ(cl.ops_per_repetition, 3);
    EXPECT_DOUBLE_EQ(cl.latency.p50, 6000 * 40.0);  // ticks of a 25 MHz timer
    EXPECT_DOUBLE_EQ(cl.latency.max, 6002 * 40.0);
    EXPECT_EQ((*cl.lwip_options)["ns_per_instruction"], 32);
    EXPECT_EQ((*cl.lwip_options)["board"], "mps2-an385");
    ASSERT_TRUE(cl.counts);
    EXPECT_EQ(cl.counts->sent, 6u);
    EXPECT_EQ(cl.counts->received, 6u);
    const record& mp = run.records[2];
    EXPECT_DOUBLE_EQ(*mp.counters.at("context_switches").per_op, 2.0);
    // instructions = ticks x 40 ns / 32 ns, averaged over all ops
    EXPECT_NEAR(*mp.counters.at("instructions").per_op, (6300 * 2 + 6302) / 3.0 * 40 / 32, 1e-9);
    const auto& cycles = mp.counters.at("cycles");
    EXPECT_FALSE(cycles.per_op);
    EXPECT_NE(cycles.status.find("not available"), std::string::npos);
    ASSERT_FALSE(run.notes.empty());
    EXPECT_NE(run.notes.front().find("instruction-count model"), std::string::npos);
}

TEST(TargetRunner, SeedRowsAndReportFindTheTargetRecords) {
    const target_run run = target_records(raw_document());
    const auto rows = target_seed_rows(run.records);
    ASSERT_EQ(rows.size(), 1u);  // socket only: no netconn records in this document
    EXPECT_EQ(rows[0].message_passing, &run.records[2]);
    EXPECT_EQ(rows[0].core_locking, &run.records[0]);
    EXPECT_EQ(rows[0].raw, &run.records[1]);
    EXPECT_NE(rows[0].label.find("emulated Cortex-M3"), std::string::npos);
    const std::string report = target_report(run.records);
    EXPECT_NE(report.find("| message passing / core locking (`lwip_sendto`) | 3.04x | 1.05x |"), std::string::npos)
        << report;
    EXPECT_EQ(target_report({}), "");
}

TEST(TargetRunner, RejectsMalformedDocuments) {
    EXPECT_THROW(target_records(json{{"schema", "lwbench.results"}}), std::runtime_error);
    json short_rep = raw_document();
    short_rep["runs"][0]["reps"][0]["ticks"] = {1, 2};  // 2 samples for 3 ops
    EXPECT_THROW(target_records(short_rep), std::runtime_error);
}

TEST(TargetRunner, AFailedTargetKeepsTheHostRowsAndSaysWhy) {
    reproduce_result result;
    result.records.push_back(record{});
    target_options options;
    options.driver = "/nonexistent/run_target.py";
    add_target_run(result, options);
    EXPECT_EQ(result.records.size(), 1u);
    ASSERT_FALSE(result.notes.empty());
    EXPECT_NE(result.notes.back().find("emulated target rows skipped"), std::string::npos);
    EXPECT_NE(result.report.find("seed comparison"), std::string::npos);
}
