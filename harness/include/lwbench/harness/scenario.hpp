// scenario.hpp — scenarios as data, and the runner that measures them.
//
// A scenario point is one combination of: kind (send_latency, recv_latency,
// delivery_latency, round_trip, throughput, primitive) × API × threading mode ×
// input mode × mailbox kind × lock kind × payload size × application threads × CPU
// pinning × netif (the in-process loopback, or a TAP link with the Linux kernel as
// the peer: round_trip, throughput and delivery_latency; scenarios/tap.cpp) × added
// work inside the core per packet (core_work.hpp). The runner measures a list of points *interleaved*: for each repetition
// it visits every point in a fresh random order, building the point's testbed
// (stack, loopback, sockets, threads), warming up, timing, and tearing it down — so
// machine drift spreads over all points instead of showing up as a difference
// between them (Google Benchmark's random interleaving; nanobench's advice).
// External points (the real-lwIP runners) join the same shuffled visits.
//
// Where the code lives: the catalogue and validation in scenarios/catalog.cpp, one
// file per scenario kind in scenarios/, the runner in scenarios/runner.cpp; timing
// and aggregation in the stack-free measurement core (timing.hpp, aggregate.hpp).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/kinds.hpp"
#include "lwbench/harness/pinning.hpp"
#include "lwbench/harness/record.hpp"
#include "lwbench/tcpip.hpp"

namespace lwbench::harness {

/// The kinds and their parameters, for `lwbench list`.
struct scenario_info {
    std::string name;
    std::string description;
    std::vector<std::string> parameters;
};
const std::vector<scenario_info>& scenario_catalog();
const std::vector<std::string>& primitive_names();
const std::vector<std::string>& api_names();

/// The largest TCP write a bulk_tcp point takes (--size), both stacks.
inline constexpr std::size_t k_max_tcp_write = 65536;

struct point {
    scenario_kind scenario = scenario_kind::send_latency;
    api_kind api = api_kind::socket;                     ///< ignored for primitives
    primitive_kind primitive = primitive_kind::lock_unlock;  ///< for scenario_kind::primitive
    stack_config cfg;                                    ///< mode, input, mailbox, lock (+ pool sizes)
    std::size_t payload = 1458;
    int threads = 1;  ///< throughput: sender threads; bulk_tcp: connections (a sender thread each)
    pinning pin = pinning::none;
    netif_kind netif = netif_kind::loopback;
    /// Iterations of the core-work busy loop per packet the stack outputs, run in core
    /// context inside the sending call (core_work.hpp); 0: none. Loopback points only.
    std::uint64_t core_work = 0;
    /// Timed operations and warm-up per repetition of this point; unset: the run's
    /// (run_options). A run that mixes kinds of very different cost (lwbench
    /// reproduce: 64 KiB TCP writes beside 1458-byte datagrams) sets them per point.
    std::optional<long> ops, warmup;
    [[nodiscard]] std::string label() const;
};

/// Where netif_kind::tap points find their link: the namespace that holds the kernel's
/// side of a TAP device (scripts/netns.sh up makes both; the addresses are its own:
/// the kernel at 192.0.2.1/24, our stack at 192.0.2.2).
struct tap_link {
    std::string netns = "lwbench-tap";
    std::string ifname = "lwbtap0";
};

/// Why the TAP link cannot be used here (not root, no /dev/net/tun, no namespace, no
/// device in it: "run scripts/netns.sh up first"), or nullopt. Checked before a run.
std::optional<std::string> tap_link_problem(const tap_link& link);

/// Checks a point against this machine and the stack's limits; returns a
/// human-readable problem, or nullopt if it can run.
std::optional<std::string> validate(const point& p);

struct run_options {
    int repetitions = 5;           ///< timed repetitions per point (no counters open)
    int counted_repetitions = -1;  ///< repetitions with perf counters open; < 0: default_counted_repetitions
    long ops = 20000;  ///< timed operations per repetition (per thread for throughput)
    long warmup = 2000;
    bool hardware_counters = true;              ///< in counted repetitions, try hardware events too
    unsigned seed = 1;                          ///< shuffle seed for interleaving
    bool keep_samples = false;                  ///< return the raw samples (Python)
    const std::atomic<bool>* cancel = nullptr;  ///< checked between samples, visits and inside waits
    /// On cancellation, return what was measured so far (points with at least one timed
    /// repetition) instead of throwing cancelled; the caller marks the result partial.
    bool keep_partial = false;
    std::function<void(const std::string&)> progress;  ///< one line per step (stderr in the CLI)
    tap_link tap;  ///< for netif_kind::tap points
};

/// A point measured by someone else (a real-lwIP runner) that joins the interleaved
/// visits. `measure(counted)` runs one repetition and returns the record identity
/// (its measurement fields are ignored) and the repetition; nullopt when it failed
/// (it reports why itself). It must honour run_options.cancel within a second.
struct external_point {
    std::string label;
    rate_basis basis = rate_basis::operations;
    double payload_bytes = 0;
    struct visit {
        record identity;
        repetition rep;
    };
    std::function<std::optional<visit>(bool counted)> measure;
};

/// The Linux kernel's own UDP loopback ping-pong (two threads, blocking send/recv on
/// 127.0.0.1) as a reference point of the round_trip scenario: record stack "kernel",
/// api "socket", the same pinning plan as our round trip's two application threads,
/// timed and counted by the same measuring core (scenarios/kernel_round_trip.cpp).
/// Its two threads run under `policy` as our application threads do.
external_point kernel_round_trip_point(std::size_t payload, pinning pin, sched_policy policy, const run_options& o);

struct point_result {
    record rec;
    std::vector<double> samples_ns;  ///< all samples of the timed repetitions (ns/op), if keep_samples
};

/// Measures every point (ours, then the external ones, in the result), interleaved
/// (see file comment); each record's `visits` says where each of its repetitions
/// fell. Throws cancelled (unless keep_partial), or std::invalid_argument for a point
/// that does not validate.
/// An external point that never produced a repetition has no result.
std::vector<point_result> run_points(const std::vector<point>& points, const run_options& opt,
                                     const std::vector<external_point>& external = {});

}  // namespace lwbench::harness
