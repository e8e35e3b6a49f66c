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
    // TCP kinds only (null elsewhere): API messages run in any mode (posted, under the
    // lock, combined), window-update calls of netconn/sockets (stats::tcp_recvd_calls;
    // the raw API's tcp_recved in its receive callback is not an API call), writes that
    // waited for send space with the core released (stats::tcp_write_waits), and
    // segments retransmitted (stats::tcp_rexmit).
    std::optional<double> api_messages_per_op;
    std::optional<double> window_update_calls_per_op;
    std::optional<double> write_waits_per_op;
    std::optional<double> retransmissions_per_op;
    std::uint64_t sent = 0, received = 0, dropped = 0;
    std::map<std::string, std::uint64_t> dropped_by_reason;
    friend bool operator==(const stack_counts&, const stack_counts&) = default;
};

/// One cluster of a bimodal cell: the median of the repetition medians in the
/// cluster and the share of repetitions that fell into it.
struct latency_mode {
    double median_ns = 0;
    double share = 0;
    friend bool operator==(const latency_mode&, const latency_mode&) = default;
};

/// Where one repetition of a point fell in an interleaved run: round `round`, the
/// `slot`-th visit of that round (every point of both stacks shares one order).
struct visit_position {
    int round = 0;
    int slot = 0;
    bool counted = false;  ///< a counted repetition (perf counters open)
    friend bool operator==(const visit_position&, const visit_position&) = default;
};

struct record {
    // identity
    std::string stack = "lwbench";
    std::string scenario;
    std::optional<std::string> api, primitive, threading_mode, input_mode, mailbox_kind, lock_kind;
    int payload_bytes = 0;
    int app_threads = 1;
    std::string pinning = "none";
    /// Scheduling policy of the point's threads ("other", "fifo"; sched.hpp); null in
    /// files written before it existed (they ran under "other").
    std::optional<std::string> sched_policy;
    std::optional<std::string> variant;
    /// The link the datagrams crossed: "loopback" or "tap" (null: none, e.g. primitives).
    std::optional<std::string> netif;
    std::optional<nlohmann::json> lwip_options;
    /// Added work inside the core: iterations of the core-work busy loop per packet the
    /// stack output (core_work.hpp); 0: none (also for files from before it, and for
    /// points it does not apply to: real lwIP, the kernel, primitives).
    std::uint64_t core_work_iterations = 0;
    // measurement
    int repetitions = 0;
    long ops_per_repetition = 0;
    int ops_per_sample = 1;          ///< 1: percentiles of single operations; N: of batch means
    latency_summary latency;         ///< pooled samples of the timed repetitions
    std::vector<double> repetition_p50_ns;
    spread_summary spread;
    std::vector<latency_mode> modes;  ///< two entries when the repetitions split into clusters
    std::vector<latency_mode> sample_modes;  ///< two entries when the pooled samples split (find_sample_modes)
    double ops_per_sec = 0;           ///< see rate_basis (aggregate.hpp); throughput: delivered
    /// ops_per_sec of each timed repetition on its own, in run order: the spread of the
    /// rate (empty in files from before it).
    std::vector<double> repetition_ops_per_sec;
    double bytes_per_sec = 0;
    std::optional<double> offered_per_sec;    ///< datagrams sent per second (null: no datagrams)
    std::optional<double> delivered_per_sec;  ///< datagrams received per second
    int counted_repetitions = 0;              ///< repetitions with perf counters open (not in latency)
    std::optional<double> counter_overhead;   ///< counted p50 / timed p50 - 1 (null: not measured)
    std::map<std::string, counter_entry> counters;
    std::vector<visit_position> visits;  ///< every repetition's place in the run's visit order
    std::optional<stack_counts> counts;
    long errors = 0;

    /// A short human label: "socket/message_passing/1458B/same_core".
    [[nodiscard]] std::string label() const;
    /// What the percentiles are of: "single operations" or "batch means (N ops)".
    [[nodiscard]] std::string sample_basis() const;
    /// The share of one sample's time that its two clock reads cost:
    /// clock_pair_ns / (ops_per_sample × p50), a fraction; nullopt without a p50.
    /// The measuring core sizes batches so this stays under k_overhead_target (5%).
    [[nodiscard]] std::optional<double> clock_share(double clock_pair_ns) const;
    /// "bimodal: 5.40 µs (60%) / 8.50 µs (40%)"-style text of the repetition modes,
    /// empty when unimodal (modes_text(modes)).
    [[nodiscard]] std::string modes_text() const;
};

/// "bimodal: 5.40 µs (60%) / 8.50 µs (40%)": two modes with their medians and shares;
/// empty for fewer than two. The one text of repetition modes and sample modes.
std::string modes_text(const std::vector<latency_mode>& modes);

/// "send_latency/…: 902 of 8000 datagrams not delivered (recv_queue_full 902)" when the
/// record lost datagrams; nullopt when everything sent was received.
std::optional<std::string> loss_warning(const record& r);

nlohmann::json to_json(const record& r);
record record_from_json(const nlohmann::json& j);

/// Every per-op field of stack_counts, in schema order with its JSON key: the one list
/// the JSON codec, the table columns and the runner's averaging walk.
struct stack_count_field {
    const char* key;
    std::optional<double> stack_counts::*member;
};
inline constexpr stack_count_field k_stack_count_fields[] = {
    {"payload_copies_per_op", &stack_counts::payload_copies_per_op},
    {"heap_allocs_per_op", &stack_counts::heap_allocs_per_op},
    {"pool_allocs_per_op", &stack_counts::pool_allocs_per_op},
    {"api_messages_per_op", &stack_counts::api_messages_per_op},
    {"window_update_calls_per_op", &stack_counts::window_update_calls_per_op},
    {"write_waits_per_op", &stack_counts::write_waits_per_op},
    {"retransmissions_per_op", &stack_counts::retransmissions_per_op},
};

/// Turns raw counter totals over `ops` operations into per-op entries.
std::map<std::string, counter_entry> per_op_counters(const std::vector<counter_value>& values, double ops);

}  // namespace lwbench::harness
