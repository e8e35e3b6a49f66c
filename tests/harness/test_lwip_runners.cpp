// The real-lwIP runner builds (lwip_runners.hpp, generated from cmake/lwip_runners.cmake),
// what the seed report makes of the fixed port (its own row, and the port's share of
// message passing's cost), and the TCP table's real-lwIP rows: every API, ours / real
// lwIP per API, and the parallel-connections table.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "lwbench/harness/lwip_runners.hpp"
#include "lwbench/harness/reproduce.hpp"

using namespace lwbench::harness;

namespace {

TEST(LwipRunners, OneRunnerPerModeAndPort) {
    std::set<std::pair<bool, lwip_port>> seen;
    std::set<std::string_view> executables;
    for (const auto& build : lwip_runner_builds()) {
        EXPECT_TRUE(build.executable.starts_with("lwip_runner_")) << build.executable;
        EXPECT_TRUE(executables.insert(build.executable).second) << "twice: " << build.executable;
        EXPECT_TRUE(seen.insert({build.core_locking, build.port}).second) << build.executable;
    }
    EXPECT_EQ(seen.size(), 4u) << "both modes on both ports";
}

TEST(LwipRunners, StackNameCarriesThePort) {
    EXPECT_EQ(lwip_stack_name("2.1.3", lwip_port::stock), "lwip-2.1.3");
    EXPECT_EQ(lwip_stack_name("2.1.3", lwip_port::fixed), "lwip-2.1.3+fixed_port");
    for (auto port : {lwip_port::stock, lwip_port::fixed})
        EXPECT_EQ(lwip_port_of_stack(lwip_stack_name("2.2.0", port)), port);
    EXPECT_FALSE(lwip_port_of_stack("lwbench"));
    EXPECT_FALSE(lwip_port_of_stack("kernel"));
}

/// A same-core record's identity.
record same_core_cell(const std::string& stack, const char* scenario, const char* api, const char* mode, int payload) {
    record r;
    r.stack = stack;
    r.scenario = scenario;
    r.api = api;
    r.threading_mode = mode;
    r.payload_bytes = payload;
    r.pinning = "same_core";
    return r;
}

record seed_cell(const std::string& stack, const char* api, const char* mode, double p50_ns, double switches) {
    record r = same_core_cell(stack, "send_latency", api, mode, 1458);
    r.latency.p50 = p50_ns;
    r.counters["context_switches"].per_op = switches;
    return r;
}

TEST(LwipRunners, SeedReportHasAFixedPortRowAndThePortsShare) {
    const std::string stock = lwip_stack_name("2.1.3", lwip_port::stock);
    const std::string fixed = lwip_stack_name("2.1.3", lwip_port::fixed);
    const std::vector<record> recs = {
        seed_cell(stock, "socket", "message_passing", 4000, 4.2), seed_cell(stock, "socket", "core_locking", 600, 0),
        seed_cell(stock, "raw", "core_locking", 580, 0),          seed_cell(fixed, "socket", "message_passing", 2600, 2.0),
        seed_cell(fixed, "socket", "core_locking", 610, 0),       seed_cell(fixed, "raw", "core_locking", 590, 0)};
    const auto notes = lwip_port_notes(recs);
    ASSERT_EQ(notes.size(), 1u) << "one note: same core only";
    // 1.4 µs saved of the 3.4 µs message passing costs over core locking.
    EXPECT_NE(notes[0].find("same_core"), std::string::npos) << notes[0];
    EXPECT_NE(notes[0].find("1.40 µs of the 3.40 µs"), std::string::npos) << notes[0];
    EXPECT_NE(notes[0].find("(41%)"), std::string::npos) << notes[0];
    const std::string report = seed_report(recs, notes);
    EXPECT_NE(report.find("this machine, lwip-2.1.3+fixed_port, socket API, same_core"), std::string::npos) << report;
    EXPECT_NE(report.find("this machine, lwip-2.1.3, socket API, same_core"), std::string::npos) << report;
}

TEST(LwipRunners, NoPortNoteWithoutBothPorts) {
    const std::string stock = lwip_stack_name("2.1.3", lwip_port::stock);
    EXPECT_TRUE(lwip_port_notes({seed_cell(stock, "socket", "message_passing", 4000, 4.2),
                                 seed_cell(stock, "socket", "core_locking", 600, 0)})
                    .empty());
}

/// A bulk_tcp cell (64 KiB writes, same core) of `stack` delivering `mb_per_s` MB/s.
record bulk_cell(const std::string& stack, const char* api, const char* mode, int connections, double mb_per_s) {
    record r = same_core_cell(stack, "bulk_tcp", api, mode, 65536);
    r.app_threads = connections;
    r.bytes_per_sec = mb_per_s * 1e6;
    r.ops_per_sec = r.bytes_per_sec / 65536;
    return r;
}

TEST(LwipRunners, TcpReportComparesEveryApiAndTheParallelConnections) {
    const std::string stock = lwip_stack_name("2.1.3", lwip_port::stock);
    std::vector<record> recs;
    // ours twice real lwIP's figure with one connection, three times with four.
    for (const char* api : {"raw", "netconn", "socket"})
        for (const char* mode : {"message_passing", "core_locking"}) {
            recs.push_back(bulk_cell("lwbench", api, mode, 1, 2000));
            recs.push_back(bulk_cell(stock, api, mode, 1, 1000));
            recs.push_back(bulk_cell("lwbench", api, mode, 4, 3000));
            recs.push_back(bulk_cell(stock, api, mode, 4, 1000));
        }
    const std::string report = seed_report(recs, {});
    for (const char* api : {"raw", "netconn", "socket"}) {
        const std::string a = api;
        // the TCP table: a row per stack and API, and ours / real lwIP per API
        EXPECT_NE(report.find("| lwip-2.1.3, " + a + ", same_core | 1000 MB/s"), std::string::npos) << a << report;
        EXPECT_NE(report.find("| lwbench / real lwIP, " + a + ", same_core (> 1: ours better) | 2.00× | 2.00× |"),
                  std::string::npos)
            << a << report;
        // the parallel table: 1 and 4 connections per mode, then the ratios per API
        EXPECT_NE(report.find("| lwbench, " + a + " | 2000 MB/s (±0%) | 3000 MB/s (±0%) | 2000 MB/s (±0%) | 3000 MB/s"),
                  std::string::npos)
            << a << report;
        EXPECT_NE(report.find("| lwbench / real lwIP, " + a + " (> 1: ours better) | 2.00× | 3.00× | 2.00× | 3.00× |"),
                  std::string::npos)
            << a << report;
    }
    EXPECT_NE(report.find("### TCP bulk, 1 and 4 connections in parallel"), std::string::npos) << report;
}

TEST(LwipRunners, NoParallelTableWithoutParallelCells) {
    const std::string report = seed_report({bulk_cell("lwbench", "raw", "core_locking", 1, 2000)}, {});
    EXPECT_NE(report.find("## TCP: our stack and real lwIP"), std::string::npos) << report;
    EXPECT_EQ(report.find("connections in parallel"), std::string::npos) << report;
}

}  // namespace
