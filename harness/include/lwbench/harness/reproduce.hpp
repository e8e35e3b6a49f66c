// reproduce.hpp — `lwbench reproduce`: the 2007 seed experiment on this machine.
//
// 1458-byte UDP send latency through the socket and sequential APIs in both
// threading modes, and raw udp_sendto from core context, for "same core" and
// "separate cores" pinning, next to the primitives that explain them — and, where
// the real-lwIP runners were built (real_lwip/), the same cells measured on lwIP
// 2.1.3: each runner visit is one repetition, shuffled into the same per-round
// order as our points and aggregated by the same code (run_points, aggregate.hpp).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "lwbench/harness/record.hpp"
#include "lwbench/sched.hpp"

namespace lwbench::harness {

/// The seed's figures, as reported in 2007 (the only hard-coded numbers in lwbench).
struct seed_figures {
    static constexpr double message_passing_us = 204;
    static constexpr double core_locking_us = 67;
    static constexpr double raw_us = 74;
};

struct reproduce_options {
    int repetitions = 5;           ///< timed rounds (no counters open)
    int counted_repetitions = -1;  ///< rounds with counters open; < 0: default_counted_repetitions
    long ops = 20000;
    long warmup = 2000;
    bool hardware_counters = true;
    bool with_lwip = true;  ///< run the real-lwIP runners if they were built (not under sched fifo)
    /// Scheduling policy of our points' threads and the kernel reference (sched.hpp).
    sched_policy sched = sched_policy::other;
    std::filesystem::path lwip_runner_dir;  ///< empty: the build's real_lwip/ (or $LWBENCH_LWIP_RUNNERS)
    unsigned seed = 1;
    const std::atomic<bool>* cancel = nullptr;
    bool keep_partial = false;  ///< on cancellation, report what was measured (see run_options)
    std::function<void(const std::string&)> progress;
};

struct reproduce_result {
    std::vector<record> records;
    std::vector<std::string> notes;  ///< targets met/missed, what was skipped and why
    std::string report;              ///< the markdown table and explanation
};

reproduce_result reproduce(const reproduce_options& opt);

/// The seed table and ratios in markdown, from records (ours and lwIP's), e.g. of a
/// loaded result file.
std::string seed_report(const std::vector<record>& records, const std::vector<std::string>& notes);

/// How much of real lwIP's message-passing cost belongs to its port: one note per
/// pinning that has the socket send of real lwIP on the stock port (message passing
/// and core locking) and on the fixed port (message passing); none otherwise.
std::vector<std::string> lwip_port_notes(const std::vector<record>& records);

/// Where the real-lwIP runners are expected (for messages).
std::filesystem::path default_lwip_runner_dir();

}  // namespace lwbench::harness
