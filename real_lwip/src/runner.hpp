// runner.hpp — private to the real-lwIP runner: what its parts share. The runner
// is built once per entry of cmake/lwip_runners.cmake (lwip_runner_locking,
// lwip_runner_msgpassing and their *_fixedport twins on lwbench's fixed port), each
// from these files against its own lwIP build; see the parts:
//   lwip_setup.cpp   lwIP bring-up (tcpip thread, zero-copy netif pair, sink),
//                    core-context helpers, pinning, the path check, record identity;
//   endpoints.cpp    addresses and the application endpoints (one sender per API);
//   scenarios.cpp    send_latency, round_trip, throughput, timed with lwbench's
//                    measurement core;
//   tcp_scenarios.cpp bulk_tcp, request_response_tcp, connection_rate_tcp (raw,
//                    netconn, socket), timed the same way;
//   main.cpp         the command line and the JSON output.
//
// lwip_runner_locking is lwIP with LWIP_TCPIP_CORE_LOCKING=1 and
// LWIP_TCPIP_CORE_LOCKING_INPUT=1, lwip_runner_msgpassing with both 0; the
// *_fixedport runners are the same two on real_lwip/fixed_port/ instead of the
// tree's unix port (LWBENCH_LWIP_FIXED_PORT=1; their records' stack is
// "lwip-<version>+fixed_port"). Each links its own lwIP build, since all define
// the same symbols. lwbench reproduce runs
// them one repetition per visit, interleaved with its own points.
//
// Output contract: exactly one JSON object on stdout,
//   {"lwip_version": "2.1.3", "stack": "lwip-2.1.3", "source": "...", "records": [...]}
// with records in harness::to_json form (docs/results-schema.md), each with
// "repetition_data" (harness::to_json of every repetition) under
// --emit-repetitions; progress and errors go to stderr; exit 2 on bad flags, 1 on
// a failed run, 3 on the watchdog, 130 on SIGINT (nothing on stdout).
//
// Timing is lwbench's measurement core (timing.hpp, aggregate.hpp): the same
// probe, batching, sample loop, timed/counted repetitions and aggregation as
// lwbench's own scenarios, so the records of both stacks mean the same.
//
// The scene (set up once, in core context):
//   - the zero-copy pair zc0 = 10.0.0.1 / zc1 = 10.0.0.2 (zc_loopif.c) and lwIP's
//     own loop_netif 127.0.0.1 (variant stock_loopif);
//   - the sink: a raw udp pcb on port 9 whose recv callback counts the datagram
//     and frees it, so every API pays the same receive work;
//   - per scenario point, the application's socket / netconn / raw pcb.
// What each API's "send" is:
//   socket   lwip_sendto() of the payload buffer (lwIP references it, netbuf_ref);
//   netconn  netbuf_ref() on a reused netbuf + netconn_sendto();
//   raw      pbuf_alloc(PBUF_REF) over the payload + udp_sendto() + pbuf_free(),
//            under LOCK_TCPIP_CORE() in the locking build and inside
//            tcpip_api_call() in the message-passing build — there the figure
//            includes the hand-off to the tcpip thread and back (lwIP offers no
//            other way to be in core context from an application thread).
#pragma once

#include <lwip/api.h>
#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcpip_priv.h>
#include <lwip/sockets.h>
#include <lwip/sys.h>
#include <lwip/tcpip.h>
#include <lwip/udp.h>

#include "zc_loopif.h"

#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/kinds.hpp"
#include "lwbench/harness/lwip_runners.hpp"
#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/pinning.hpp"
#include "lwbench/harness/record.hpp"
#include "lwbench/harness/timing.hpp"

#define LWBENCH_STR2(...) #__VA_ARGS__
#define LWBENCH_STR(...) LWBENCH_STR2(__VA_ARGS__)

namespace lwbench::lwip_runner {

namespace hx = lwbench::harness;
using json = nlohmann::json;


inline const std::string k_version = LWBENCH_STR(LWIP_VERSION_MAJOR) "." LWBENCH_STR(LWIP_VERSION_MINOR) "." LWBENCH_STR(
    LWIP_VERSION_REVISION);
#if LWBENCH_LWIP_FIXED_PORT
inline constexpr hx::lwip_port k_port = hx::lwip_port::fixed;
#else
inline constexpr hx::lwip_port k_port = hx::lwip_port::stock;
#endif
/// "lwip-2.1.3" on the stock port, "lwip-2.1.3+fixed_port" on lwbench's fixed port.
inline const std::string k_stack = hx::lwip_stack_name(k_version, k_port);
inline constexpr u16_t k_sink_port = 9;
inline constexpr u16_t k_ping_port = 7001;
inline constexpr u16_t k_pong_port = 7002;
inline constexpr int k_max_payload = 65507;      ///< UDP scenarios
inline constexpr int k_max_tcp_write = 65536;    ///< TCP scenarios (--size of one write)

// ---------------------------------------------------------------------------
// Options

struct options {
    std::vector<std::string> scenarios{"send_latency"};
    std::vector<std::string> apis{"socket"};
    std::vector<int> sizes{1458};
    std::vector<int> threads{1};
    std::vector<std::string> pinnings{"none"};
    std::vector<std::string> variants{"zero_copy"};
    int repetitions = 5;           // timed repetitions (no counters open)
    int counted_repetitions = -1;  // repetitions with perf counters open; < 0: the core's default
    long ops = 20000;
    long warmup = 2000;
    bool hw_counters = true;
    bool emit_repetitions = false;  // add each repetition's data to its record (for lwbench reproduce)
    unsigned watchdog_s = 300;
    std::string sched = "other";  // other | fifo: the tcpip and application threads' policy (sched.hpp)
};

struct point {
    hx::scenario_kind scenario = hx::scenario_kind::send_latency;
    hx::api_kind api = hx::api_kind::socket;
    std::string pinning, variant;
    int size = 0, threads = 1;
};

/// Prints the error on stderr and leaves with status 1 (the tcpip thread never returns).
[[noreturn]] void fail(const std::string& what);

/// Set by SIGINT; the measurement core checks it between samples (hx::sample_loop).
extern std::atomic<bool> g_cancel;

// ---- lwip_setup.cpp ----------------------------------------------------------------

/// Runs fn on the tcpip thread and waits (tcpip_callback always posts, in both
/// builds — unlike tcpip_api_call, which runs inline under the lock when locking).
void on_tcpip_thread(const std::function<void()>& fn);
/// Runs fn in core context from an application thread: under the core lock in
/// the locking build, on the tcpip thread otherwise. For setup, not for timing.
void in_core(const std::function<void()>& fn);

/// Datagrams the sink (port 9) received. Written only in core context (serialised
/// by the core lock or the tcpip thread); read from any thread.
extern std::atomic<std::uint64_t> g_sink_received;

// Raw round trip: A pings B; B's callback replies at once (core context); A's
// callback counts and signals the waiting application thread.
struct raw_rt_state {
    udp_pcb* a = nullptr;
    udp_pcb* b = nullptr;
    sys_sem_t reply{};
    std::uint8_t* pong = nullptr;
};
extern raw_rt_state g_raw_rt;
void raw_rt_b_recv(void*, udp_pcb* pcb, pbuf* p, const ip_addr_t* addr, u16_t port);
void raw_rt_a_recv(void*, udp_pcb*, pbuf* p, const ip_addr_t*, u16_t);

/// Starts lwIP (tcpip thread, zero-copy netif pair, sink); `pong` is the payload the
/// raw round trip echoes. Once per process.
void start_lwip(std::uint8_t* pong);

/// The measurement core's pinning plan for a --pinning value.
hx::cpu_plan plan_of(const std::string& pinning);
/// The scheduling policy of this run's threads, by name ("other" or "fifo"; see
/// lwbench/sched.hpp): the tcpip thread at k_fifo_tcpip_priority above the application
/// threads at k_fifo_app_priority under fifo, as on an RTOS. Set once by main() before
/// the first point; records carry it (sched_policy).
void use_sched_policy(const std::string& name);
/// An application thread's setup: pins it to `cpu` (-1: unpins) and applies the run's
/// policy; fails the run if either is refused.
void setup_app_thread(int cpu);
/// The same for the tcpip thread, run on it (its priority above the application's).
void pin_tcpip_thread(int cpu);

/// Proves the datagrams of a scenario point took the path its variant names:
/// at least `min_zc` outputs on the zero-copy pair, or none for stock_loopif
/// (a routing mistake would silently measure lwIP's copying loopback instead).
void check_path(const std::string& variant, unsigned long zc_before, std::uint64_t min_zc);
/// The identity fields of a point's record, with the lwIP options that shape it.
hx::record base_record(const point& pt);

// ---- endpoints.cpp -------------------------------------------------------------------

struct addrs {
    ip_addr_t sink, ping, pong;  // where datagrams are sent to
};
addrs addrs_for(const std::string& variant);
sockaddr_in to_sockaddr(const ip_addr_t& ip, u16_t port);
/// Runs fn(arg) in core context from an application thread the way lwIP's raw API
/// users must, and times with it: under LOCK_TCPIP_CORE() in the locking build,
/// through tcpip_api_call() (posted to the tcpip thread, the caller waits) otherwise.
err_t core_api(err_t (*fn)(void*), void* arg);
/// Raw send of `len` bytes at `payload` from `pcb`, from an application thread.
bool raw_send(udp_pcb* pcb, const ip_addr_t* dst, u16_t port, void* payload, u16_t len);

/// One application sender of an API (socket, netconn or raw pcb) to one address.
class sender {
public:
    sender(hx::api_kind api, const ip_addr_t& dst, u16_t port, std::uint8_t* payload, int size);
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender();
    /// One datagram; false on error. Any application thread (one at a time).
    bool send() {
        const bool ok = send_one();
        _sent += ok ? 1 : 0;
        return ok;
    }
    /// Datagrams sent successfully so far.
    [[nodiscard]] std::uint64_t sent() const { return _sent; }

private:
    bool send_one();
    ip_addr_t _dst;
    u16_t _port;
    std::uint8_t* _payload;
    int _size;
    int _sock = -1;
    sockaddr_in _sa{};
    netconn* _conn = nullptr;
    netbuf* _buf = nullptr;
    udp_pcb* _pcb = nullptr;
    std::uint64_t _sent = 0;
};

// ---- scenarios.cpp -------------------------------------------------------------------

struct scenario_result {
    hx::record rec;
    std::vector<hx::repetition> reps;  ///< every repetition, for --emit-repetitions
};

/// One repetition of `threads` application threads working in parallel (throughput's
/// senders, bulk_tcp's connections; lwbench's own scenarios do the same): thread i is
/// pinned to `plan.app(i)` and runs sample_loop(ops, per_sample, op(i)) once all
/// threads exist and are released together. The clock (and the counter window, opened
/// after the threads exist so it counts them) runs from the release until every thread
/// has finished and `settled()` holds — waited for up to 10 s; rep.errors + 1 if it
/// never does. Each thread frees lwIP's per-thread semaphore when it ends. Throws
/// hx::cancelled on SIGINT.
template <class Op, class Settled>
hx::repetition time_parallel_repetition(int threads, const hx::cpu_plan& plan, long ops, int per_sample, bool counted,
                                        bool hw_counters, Op&& op, Settled&& settled) {
    const auto n = static_cast<std::size_t>(threads);
    std::vector<std::vector<double>> samples(n);
    std::vector<long> errors(n, 0), calls(n, 0);
    std::latch ready(threads);
    std::latch go(1);
    std::vector<std::thread> workers;
    for (std::size_t i = 0; i < n; ++i)
        workers.emplace_back([&, i] {
            setup_app_thread(plan.app(static_cast<int>(i)));
            ready.count_down();
            go.wait();
            calls[i] = hx::sample_loop(ops, per_sample, [&] { return op(i); }, samples[i], errors[i], &g_cancel);
            lwip_socket_thread_cleanup();
        });
    ready.wait();
    hx::counter_window counters(counted, hw_counters);
    counters.start();
    const auto begin = hx::now_ns();
    go.count_down();
    for (auto& w : workers) w.join();
    hx::repetition rep;
    if (!hx::wait_until(settled, std::chrono::seconds(10), &g_cancel) && !hx::cancel_requested(&g_cancel))
        rep.errors += 1;
    rep.wall_ns = static_cast<double>(hx::now_ns() - begin);
    counters.stop();
    hx::throw_if_cancelled(&g_cancel);
    rep.ops_per_sample = per_sample;
    rep.counted = counted;
    rep.counters = counters.read();
    rep.ops = hx::merge_senders(rep, samples, errors, calls);
    return rep;
}

/// Measures one point of a TCP scenario kind (tcp_scenarios.cpp) into res; `payload`
/// holds k_max_tcp_write bytes that never change.
void run_tcp_point(const point& pt, const options& opt, const std::uint8_t* payload, scenario_result& res);

/// Measures scenario points on the running lwIP (start_lwip first), one at a time.
class point_runner {
public:
    explicit point_runner(options opt);
    ~point_runner();
    point_runner(const point_runner&) = delete;
    point_runner& operator=(const point_runner&) = delete;
    /// Throws hx::cancelled on SIGINT; fails (exit 1) on a broken setup.
    scenario_result run(const point& pt);

private:
    class impl;
    std::unique_ptr<impl> _impl;
};

}  // namespace lwbench::lwip_runner
