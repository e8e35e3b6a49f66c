// scenario.hpp — scenarios as data, and the runner that measures them.
//
// A scenario point is one combination of: kind (send_latency, recv_latency,
// delivery_latency, round_trip, throughput, primitive) × API × threading mode ×
// input mode × mailbox kind × lock kind × payload size × application threads × CPU
// pinning. The runner measures a list of points *interleaved*: for each repetition
// it visits every point in a fresh random order, building the point's testbed
// (stack, loopback, sockets, threads), warming up, timing, and tearing it down — so
// machine drift spreads over all points instead of showing up as a difference
// between them (Google Benchmark's random interleaving; nanobench's advice).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lwbench/harness/record.hpp"
#include "lwbench/tcpip.hpp"

namespace lwbench::harness {

enum class pinning { none, same_core, separate_cores };
const char* to_string(pinning p) noexcept;
std::optional<pinning> parse_pinning(std::string_view s) noexcept;

/// The kinds and their parameters, for `lwbench list`.
struct scenario_info {
    std::string name;
    std::string description;
    std::vector<std::string> parameters;
};
const std::vector<scenario_info>& scenario_catalog();
const std::vector<std::string>& primitive_names();
const std::vector<std::string>& api_names();

struct point {
    std::string scenario = "send_latency";
    std::string api = "socket";   ///< raw, netconn, socket (ignored for primitives)
    std::string primitive;        ///< for scenario == "primitive"
    stack_config cfg;             ///< mode, input, mailbox, lock (+ pool sizes)
    std::size_t payload = 1458;
    int threads = 1;
    pinning pin = pinning::none;
    [[nodiscard]] std::string label() const;
};

/// Checks a point against this machine and the stack's limits; returns a
/// human-readable problem, or nullopt if it can run.
std::optional<std::string> validate(const point& p);

struct run_options {
    int repetitions = 5;
    long ops = 20000;  ///< timed operations per repetition (per thread for throughput)
    long warmup = 2000;
    bool hardware_counters = true;
    unsigned seed = 1;                          ///< shuffle seed for interleaving
    bool keep_samples = false;                  ///< return the raw samples (Python)
    const std::atomic<bool>* cancel = nullptr;  ///< checked between repetitions and inside long loops
    std::function<void(const std::string&)> progress;  ///< one line per step (stderr in the CLI)
    /// Called after each round (every point measured once); lets other measurements
    /// (the real-lwIP runners) interleave with ours round by round.
    std::function<void(int round)> after_round;
};

struct point_result {
    record rec;
    std::vector<double> samples_ns;  ///< all samples (ns/op), if keep_samples
};

/// Thrown (only at the harness edge) when run_options.cancel was set.
struct cancelled : std::exception {
    const char* what() const noexcept override { return "cancelled"; }
};

/// Measures every point, interleaved (see file comment). Throws cancelled, or
/// std::invalid_argument for a point that does not validate.
std::vector<point_result> run_points(const std::vector<point>& points, const run_options& opt);

}  // namespace lwbench::harness
