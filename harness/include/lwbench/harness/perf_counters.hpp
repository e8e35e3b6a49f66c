// perf_counters.hpp — our own perf_event_open(2) reader.
//
// Why our own: Debian's Google Benchmark is built without libpfm, so its
// --benchmark_perf_counters cannot be used, and we need counts that cover
// *every thread of the process* (the tcpip thread's context switches are half of
// the message-passing story), not just the calling thread.
//
// Contract:
//  - Construct it after the scenario's threads exist: it opens one counter per
//    event per thread listed in /proc/self/task at that moment.
//  - Software events are opened with kernel counting enabled (exclude_kernel=0):
//    context switches happen in the kernel, an exclude_kernel counter reads 0.
//  - An event that cannot be opened (no PMU in this VM, perf_event_paranoid, a
//    seccomp filter) is reported with value std::nullopt and a status string
//    "not available: <reason>" — never as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lwbench::harness {

struct counter_value {
    std::string name;             ///< e.g. "context_switches"
    std::optional<double> total;  ///< summed over threads, scaled for multiplexing; nullopt if unavailable
    std::string status;           ///< "ok" or "not available: <reason>"
};

class perf_counters {
public:
    /// Opens every known event for every thread of the process (see contract).
    /// `hardware=false` skips the hardware events entirely (reported as not requested).
    explicit perf_counters(bool hardware = true);
    ~perf_counters();
    perf_counters(const perf_counters&) = delete;
    perf_counters& operator=(const perf_counters&) = delete;

    void start();  ///< reset and enable all counters
    void stop();   ///< disable all counters
    void pause() { stop(); }  ///< disable without resetting (exclude untimed work)
    void resume();            ///< enable without resetting
    [[nodiscard]] std::vector<counter_value> read() const;

    /// True if a hardware `cycles` counter could be opened on this machine.
    [[nodiscard]] bool hardware_available() const;
    /// Probes once (cached) whether hardware counters exist here.
    static bool probe_hardware();

    /// Names of all events in report order.
    static const std::vector<std::string>& event_names();

private:
    struct event;
    std::vector<event> _events;
};

}  // namespace lwbench::harness
