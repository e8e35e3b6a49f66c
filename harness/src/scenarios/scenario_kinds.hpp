// scenario_kinds.hpp — private to harness/src/scenarios/: one function per scenario
// kind (each in its own file) that measures ONE repetition of a point on a fresh
// testbed, and the helpers they share. The runner (runner.cpp) calls them.
//
// Contract of every measure_* function:
//   - builds its testbed, warms up, times one repetition, tears everything down;
//   - a timed visit opens no perf counters, a counted one does (timing.hpp);
//   - honours the cancel flag within a second: it stops its threads, joins them and
//     throws cancelled (never with a joinable std::thread in scope);
//   - fills rep.sent / rep.received / rep.dropped_by_reason for points that send
//     datagrams, and returns the stack's per-op copies and allocations beside it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <thread>

#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/testbed.hpp"

namespace lwbench::harness::scenarios {

using bench::endpoint;
using bench::k_rx_port;
using bench::k_sink_port;
using bench::testbed;

inline constexpr std::uint16_t k_tx_port = 7001;

/// One visit of a point: the run's options and whether counters are open.
struct visit {
    const run_options& options;
    bool counted = false;
};

struct rep_out {
    repetition rep;
    std::optional<stack_counts> per_op;  ///< counts per op from our stack's own stats (per_op_counts)
};

rep_out measure_send_latency(const point& p, const visit& v);
rep_out measure_recv_latency(const point& p, const visit& v);
/// delivery_latency (round_trip == false) and round_trip: a second thread receives.
rep_out measure_two_threads(const point& p, const visit& v, bool round_trip);
rep_out measure_throughput(const point& p, const visit& v);
rep_out measure_primitive(const point& p, const visit& v);
/// The netif_kind::tap points (tap.cpp): round_trip, throughput and delivery_latency
/// against the Linux kernel on the other side of a TAP link.
rep_out measure_tap(const point& p, const visit& v);
/// The TCP kinds over any API (tcp_pair.hpp; bulk_tcp.cpp, request_response_tcp.cpp,
/// connection_rate_tcp.cpp).
rep_out measure_bulk_tcp(const point& p, const visit& v);
rep_out measure_request_response_tcp(const point& p, const visit& v);
rep_out measure_connection_rate_tcp(const point& p, const visit& v);

/// The identity fields of a point's record (catalog.cpp).
record identity_of(const point& p);

/// The point's stack configuration, with pools deep enough for the scenarios.
stack_config testbed_config(const point& p, int tcpip_cpu);

/// The set-up of an application thread for its scope: pinned to `cpu` (cpu_plan; -1:
/// not pinned) and under `policy` (sched.hpp: SCHED_FIFO at k_fifo_app_priority, below
/// the tcpip thread), both undone on exit. The stack applies the same policy to its
/// tcpip thread (stack_config::sched) with the same function, apply_sched_policy.
class app_thread_setup {
public:
    app_thread_setup(int cpu, sched_policy policy) : _pin(cpu), _policy(policy) {
        if (_policy != sched_policy::other) (void)apply_sched_policy(_policy, k_fifo_app_priority);  // validate() checked
    }
    ~app_thread_setup() {
        if (_policy != sched_policy::other) (void)apply_sched_policy(sched_policy::other, 0);
    }
    app_thread_setup(const app_thread_setup&) = delete;
    app_thread_setup& operator=(const app_thread_setup&) = delete;

private:
    scoped_pin _pin;
    sched_policy _policy;
};

/// A point's fresh testbed (stack, loopback, sink) on the pinning plan's CPUs, with
/// the calling thread set up as application thread 0 for its lifetime.
struct pinned_testbed {
    explicit pinned_testbed(const point& p)
        : plan(cpu_plan::of(p.pin)), bed(testbed_config(p, plan.tcpip()), p.core_work), app(plan.app(0), p.cfg.sched) {}
    cpu_plan plan;
    testbed bed;
    app_thread_setup app;
};

/// The stack's counts at one moment, to take differences around the timed work.
struct counts_snapshot {
    std::uint64_t copies = 0, heap = 0, pool = 0, ref = 0;
    std::uint64_t api_messages = 0, window_update_calls = 0, write_waits = 0, retransmissions = 0;
    std::map<std::string, std::uint64_t> drops;
    static counts_snapshot of(const stack& s);
};
/// Which per-op counts a point's record carries: copies and allocations (every point),
/// and for the TCP kinds also API messages, window-update calls, delayed writes and
/// retransmissions (record.hpp, stack_counts).
enum class counts_of : std::uint8_t { copies_and_allocations, tcp };
/// The per-op counts between two snapshots.
stack_counts per_op_counts(const counts_snapshot& before, const counts_snapshot& after, double ops,
                           counts_of which = counts_of::copies_and_allocations);
/// Drops by reason between two snapshots.
std::map<std::string, std::uint64_t> drops_between(const counts_snapshot& before, const counts_snapshot& after);


class thread_group;
/// The end of a paced repetition (one datagram in flight at a time, timed from `begin`,
/// 0 if timing never started): stops `counters`, joins `peers`, throws cancelled if the
/// run was cancelled, and fills out's wall time, ops (the samples), counters, drops by
/// reason and per-op counts over `done` operations. The caller sets sent and received.
void finish_paced(rep_out& out, std::int64_t begin, counter_window& counters, thread_group& peers, const stack& s,
                  const counts_snapshot& before, long done, const std::atomic<bool>* cancel);

/// Owns the threads of a scenario: on scope exit (normal or by an exception such as
/// cancelled) it runs `stop` (which must make every thread finish: set flags, wake
/// blocked receivers) and joins them, so no std::thread is ever destroyed joinable.
class thread_group {
public:
    explicit thread_group(std::function<void()> stop) : _stop(std::move(stop)) {}
    ~thread_group() { join(); }
    thread_group(const thread_group&) = delete;
    thread_group& operator=(const thread_group&) = delete;
    template <class F>
    void spawn(F&& f) {
        _threads.emplace_back(std::forward<F>(f));
    }
    /// Stops and joins every thread (idempotent).
    void join() {
        if (_threads.empty()) return;
        if (_stop) _stop();
        for (auto& t : _threads)
            if (t.joinable()) t.join();
        _threads.clear();
    }
    /// Joins without calling stop (the threads finish by themselves).
    void wait() {
        for (auto& t : _threads)
            if (t.joinable()) t.join();
        _threads.clear();
    }

private:
    std::function<void()> _stop;
    std::vector<std::thread> _threads;
};

}  // namespace lwbench::harness::scenarios
