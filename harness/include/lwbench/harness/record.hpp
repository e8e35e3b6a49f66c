// record.hpp — one scenario point of a result file, and its JSON form.
//
// The schema is documented in docs/results-schema.md; `to_json`/`record_from_json`
// are the only place that knows the key names, so a round trip is exact.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/stats.hpp"

namespace lwbench::harness {

inline constexpr int k_schema_version = 1;

struct counter_entry {
    std::optional<double> per_op;
    std::optional<double> total;
    std::string status = "ok";
    friend bool operator==(const counter_entry&, const counter_entry&) = default;
};

/// The stack's own counts. The per-op fields are nullopt (JSON null) where they were
/// not measured (real lwIP runs without LWIP_STATS) — never a 0 that looks real.
struct stack_counts {
    std::optional<double> payload_copies_per_op;
    std::optional<double> heap_allocs_per_op;
    std::optional<double> pool_allocs_per_op;
    std::uint64_t sent = 0, received = 0, dropped = 0;
    std::map<std::string, std::uint64_t> dropped_by_reason;
    friend bool operator==(const stack_counts&, const stack_counts&) = default;
};

struct record {
    // identity
    std::string stack = "lwbench";
    std::string scenario;
    std::optional<std::string> api, primitive, threading_mode, input_mode, mailbox_kind, lock_kind;
    int payload_bytes = 0;
    int app_threads = 1;
    std::string pinning = "none";
    std::optional<std::string> variant;
    std::optional<nlohmann::json> lwip_options;
    // measurement
    int repetitions = 0;
    long ops_per_repetition = 0;
    int ops_per_sample = 1;
    latency_summary latency;
    std::vector<double> repetition_p50_ns;
    spread_summary spread;
    double ops_per_sec = 0;
    double bytes_per_sec = 0;
    std::map<std::string, counter_entry> counters;
    std::optional<stack_counts> counts;
    long errors = 0;

    /// A short human label: "socket/message_passing/1458B/same_core".
    [[nodiscard]] std::string label() const;
};

nlohmann::json to_json(const record& r);
record record_from_json(const nlohmann::json& j);

/// Turns raw counter totals over `ops` operations into per-op entries.
std::map<std::string, counter_entry> per_op_counters(const std::vector<counter_value>& values, double ops);

}  // namespace lwbench::harness
