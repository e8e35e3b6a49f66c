// reproduce.cpp — the seed experiment, the real-lwIP runners, and the report.
#include "lwbench/harness/reproduce.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <system_error>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

#include "lwbench/harness/lwip_runners.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/target_runner.hpp"
#include "lwbench/harness/timing.hpp"

extern char** environ;

#ifndef LWBENCH_LWIP_RUNNER_DIR
#define LWBENCH_LWIP_RUNNER_DIR ""
#endif

namespace lwbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path default_lwip_runner_dir() {
    if (const char* env = std::getenv("LWBENCH_LWIP_RUNNERS"); env && *env) return env;
    return LWBENCH_LWIP_RUNNER_DIR;
}

namespace {

constexpr int k_payload = 1458;
/// The round trip's payload (issue 13's target: 64-byte socket ping-pong on one core).
constexpr int k_round_trip_payload = 64;

// ---- the TCP table's cells (both stacks, both modes, interleaved with the UDP ones) ----

/// The TCP cells: bulk transfer with 64 KiB writes, 64-byte request/response and the
/// connection rate (one 64-byte exchange per connection), on the same core and on
/// separate cores, over every API, both stacks.
struct tcp_cell {
    scenario_kind scenario;
    int size;
};
constexpr std::array k_tcp_cells = {tcp_cell{scenario_kind::bulk_tcp, 65536},
                                    tcp_cell{scenario_kind::request_response_tcp, 64},
                                    tcp_cell{scenario_kind::connection_rate_tcp, 64}};
constexpr std::array k_tcp_apis = {api_kind::raw, api_kind::netconn, api_kind::socket};
constexpr std::array k_tcp_pins = {pinning::same_core, pinning::separate_cores};
/// The parallel-connections cells: the bulk cell (64 KiB writes) on the same core, every
/// API, both stacks, both modes, with this many connections (a sender thread each);
/// the one-connection figure beside it is the TCP table's same-core bulk cell.
constexpr tcp_cell k_parallel_cell = k_tcp_cells[0];
constexpr int k_parallel_connections = 4;

/// Operations per repetition of a TCP cell (per application thread), from the run's
/// UDP `ops`: a bulk repetition moves as many payload bytes as a 1458-byte UDP cell's,
/// over all its `threads` connections together (at least 16 writes each); a connection
/// is about ten segments, so a connection-rate repetition has a tenth of the ops (at
/// least 16); request/response has the UDP cells' ops.
long tcp_ops(scenario_kind k, int size, long ops, int threads = 1) {
    switch (k) {
        case scenario_kind::bulk_tcp: return std::max(16L, ops * k_payload / size / threads);
        case scenario_kind::connection_rate_tcp: return std::max(16L, ops / 10);
        default: return ops;
    }
}

rate_basis tcp_basis(scenario_kind k) {
    return k == scenario_kind::bulk_tcp ? rate_basis::delivered : rate_basis::operations;
}

std::vector<point> our_points(sched_policy sched, long ops, long warmup) {
    std::vector<point> pts;
    for (auto pin : {pinning::same_core, pinning::separate_cores}) {
        for (auto api : {api_kind::socket, api_kind::netconn, api_kind::raw})
            for (auto mode : {threading_mode::message_passing, threading_mode::core_locking}) {
                point p;
                p.scenario = scenario_kind::send_latency;
                p.api = api;
                p.cfg.mode = mode;
                // As lwIP's two builds: core locking with LWIP_TCPIP_CORE_LOCKING_INPUT=1,
                // message passing with input through the mailbox.
                p.cfg.input = paired_input_mode(mode);
                p.payload = k_payload;
                p.pin = pin;
                pts.push_back(p);
            }
        for (auto prim : {primitive_kind::mailbox_handoff, primitive_kind::semaphore_wake}) {
            point p;
            p.scenario = scenario_kind::primitive;
            p.primitive = prim;
            p.payload = k_payload;
            p.pin = pin;
            pts.push_back(p);
        }
    }
    // The round trip on one core, in both modes, beside the kernel's own (reproduce()).
    for (auto mode : {threading_mode::message_passing, threading_mode::core_locking}) {
        point p;
        p.scenario = scenario_kind::round_trip;
        p.api = api_kind::socket;
        p.cfg.mode = mode;
        p.cfg.input = paired_input_mode(mode);
        p.payload = k_round_trip_payload;
        p.pin = pinning::same_core;
        pts.push_back(p);
    }
    for (auto prim : {primitive_kind::lock_unlock, primitive_kind::memcpy, primitive_kind::checksum,
                      primitive_kind::udp_emit_floor}) {
        point p;
        p.scenario = scenario_kind::primitive;
        p.primitive = prim;
        p.payload = k_payload;
        p.pin = pinning::same_core;
        pts.push_back(p);
    }
    const auto tcp_point = [&](const tcp_cell& c, pinning pin, api_kind api, threading_mode mode, int threads) {
        point p;
        p.scenario = c.scenario;
        p.api = api;
        p.cfg.mode = mode;
        p.cfg.input = paired_input_mode(mode);
        p.payload = static_cast<std::size_t>(c.size);
        p.pin = pin;
        p.threads = threads;
        p.ops = tcp_ops(c.scenario, c.size, ops, threads);
        p.warmup = tcp_ops(c.scenario, c.size, warmup, threads);
        pts.push_back(p);
    };
    for (auto api : k_tcp_apis)
        for (auto mode : {threading_mode::message_passing, threading_mode::core_locking}) {
            for (const auto& c : k_tcp_cells)
                for (auto pin : k_tcp_pins) tcp_point(c, pin, api, mode, 1);
            tcp_point(k_parallel_cell, pinning::same_core, api, mode, k_parallel_connections);
        }
    for (auto& p : pts) p.cfg.sched = sched;
    return pts;
}

/// One cell of the real-lwIP runners: a runner (= a threading mode) and a point.
struct lwip_cell {
    std::string runner;  // an executable of lwip_runner_builds()
    scenario_kind scenario = scenario_kind::send_latency;
    api_kind api;
    pinning pin;
    int size = k_payload;
    long ops = 0, warmup = 0;
    int threads = 1;  ///< application threads (bulk_tcp: parallel connections)
    [[nodiscard]] std::string label() const {
        return "real lwIP " + runner + " " + to_string(scenario) + "/" + to_string(api) + "/" + std::to_string(size) +
               "B/" + std::to_string(threads) + "/" + to_string(pin);
    }
};


/// What a child process printed and how it ended.
struct child_output {
    std::string out, err;
    int status = 0;
    bool cancelled = false;
};

/// Runs `argv` with stdout and stderr captured; polls `cancel` every 100 ms and, once
/// it is set, stops the child (SIGINT, then SIGKILL after a second) and reports it.
child_output run_child(const std::vector<std::string>& argv, const std::atomic<bool>* cancel) {
    child_output res;
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        res.status = -1;
        res.err = std::string("cannot start: ") + std::strerror(rc);
        return res;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&res.out, &res.err};
    int open_fds = 2;
    auto kill_deadline = std::chrono::steady_clock::time_point::max();
    while (open_fds > 0) {
        if (!res.cancelled && cancel_requested(cancel)) {
            res.cancelled = true;
            kill(pid, SIGINT);
            kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        }
        if (std::chrono::steady_clock::now() > kill_deadline) {
            kill(pid, SIGKILL);
            kill_deadline = std::chrono::steady_clock::time_point::max();
        }
        if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            const ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    while (waitpid(pid, &res.status, 0) < 0 && errno == EINTR) {
    }
    return res;
}

/// The last lines of a child's stderr, for an error message.
std::string tail_lines(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    while (pos > 0 && text[pos - 1] == '\n') --pos;
    const std::size_t end = pos;
    for (std::size_t n = 0; pos > 0; --pos)
        if (text[pos - 1] == '\n' && ++n == lines) break;
    return text.substr(pos, end - pos);
}

/// One repetition of an lwIP cell: runs its runner for one timed (or counted)
/// repetition and returns the record identity and the repetition. On failure the
/// runner's own stderr goes into `notes` and nullopt comes back.
std::optional<external_point::visit> visit_lwip(const fs::path& exe, const lwip_cell& c, const reproduce_options& o,
                                                bool counted, std::vector<std::string>& notes) {
    // c.ops / c.warmup are set by reproduce() (the UDP cells take the run's).
    const std::vector<std::string> argv = {exe.string(),
                                           "--scenario", to_string(c.scenario),
                                           "--api", to_string(c.api),
                                           "--size", std::to_string(c.size),
                                           "--pinning", to_string(c.pin),
                                           "--threads", std::to_string(c.threads),
                                           "--sched", to_string(o.sched),
                                           "--repetitions", counted ? "0" : "1",
                                           "--counted-repetitions", counted ? "1" : "0",
                                           "--ops", std::to_string(c.ops),
                                           "--warmup", std::to_string(c.warmup),
                                           "--emit-repetitions"};
    const child_output run = run_child(argv, o.cancel);
    if (run.cancelled) return std::nullopt;
    const std::string name = exe.filename().string() + " " + to_string(c.scenario) + " " + to_string(c.api) + " " +
                             to_string(c.pin) + (c.threads > 1 ? " " + std::to_string(c.threads) + " threads" : "");
    if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
        const std::string how = WIFSIGNALED(run.status) ? "was killed by signal " + std::to_string(WTERMSIG(run.status))
                                                        : "exited with status " + std::to_string(WEXITSTATUS(run.status));
        notes.push_back("real lwIP cell failed: " + name + " " + how + "; its stderr ends with: " +
                        tail_lines(run.err, 5));
        return std::nullopt;
    }
    try {
        const json doc = json::parse(run.out);
        for (const auto& r : doc.at("records")) {
            external_point::visit v{record_from_json(r), repetition_from_json(r.at("repetition_data").at(0))};
            return v;
        }
        notes.push_back("real lwIP cell " + name + " printed no record");
    } catch (const std::exception& e) {
        notes.push_back("real lwIP cell " + name + " printed no valid JSON (" + e.what() + "); its stderr ends with: " +
                        tail_lines(run.err, 5));
    }
    return std::nullopt;
}

/// Whether `r` is a seed cell (1458-byte send latency on the zero-copy path) of this API, mode and pinning.
bool is_seed_cell(const record& r, const std::string& api, const std::string& mode, const std::string& pin) {
    return r.scenario == "send_latency" && r.api == api && r.threading_mode == mode && r.pinning == pin &&
           r.payload_bytes == k_payload && (!r.variant || r.variant->find("stock_loopif") == std::string::npos);
}

const record* find(const std::vector<record>& recs, const std::string& stack, const std::string& api,
                   const std::string& mode, const std::string& pin) {
    for (const auto& r : recs)
        if (r.stack == stack && is_seed_cell(r, api, mode, pin)) return &r;
    return nullptr;
}

/// A seed cell of real lwIP (whatever its version) on `port`.
const record* find_lwip(const std::vector<record>& recs, lwip_port port, const std::string& api,
                        const std::string& mode, const std::string& pin) {
    for (const auto& r : recs)
        if (lwip_port_of_stack(r.stack) == port && is_seed_cell(r, api, mode, pin)) return &r;
    return nullptr;
}

/// The context switches per call of a record, if counted.
std::optional<double> switches_per_call(const record* r) {
    if (!r) return std::nullopt;
    const auto it = r->counters.find("context_switches");
    if (it == r->counters.end()) return std::nullopt;
    return it->second.per_op;
}

/// The 64-byte socket round trip on one core of `stack` ("kernel": its UDP loopback);
/// `mode` is ignored for the kernel.
const record* find_round_trip(const std::vector<record>& recs, const std::string& stack, const std::string& mode) {
    for (const auto& r : recs)
        if (r.stack == stack && r.scenario == "round_trip" && r.api == "socket" && r.pinning == "same_core" &&
            r.payload_bytes == k_round_trip_payload && (stack == "kernel" || r.threading_mode == mode))
            return &r;
    return nullptr;
}

const record* find_prim(const std::vector<record>& recs, const std::string& prim, const std::string& pin = "") {
    for (const auto& r : recs)
        if (r.scenario == "primitive" && r.primitive == prim && (pin.empty() || r.pinning == pin)) return &r;
    return nullptr;
}

std::string us(double ns) {
    char b[32];
    if (ns >= 100000) std::snprintf(b, sizeof b, "%.0f µs", ns / 1000);
    else if (ns >= 10000) std::snprintf(b, sizeof b, "%.1f µs", ns / 1000);
    else std::snprintf(b, sizeof b, "%.2f µs", ns / 1000);
    return b;
}

std::string cs(const record* r) {
    if (!r) return "–";
    const auto per_call = switches_per_call(r);
    if (!per_call) return "not available";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", *per_call);
    return b;
}

/// A table cell: p50 with its spread, or both modes when the repetitions split; a
/// split within the samples is added (the p50 then falls in one of the two modes).
std::string cell(const record* r) {
    if (!r) return "–";
    if (!r->modes.empty()) return r->modes_text();
    char b[64];
    std::snprintf(b, sizeof b, " (±%.0f%%)", r->spread.rel_mad * 100);
    std::string s = us(r->latency.p50) + b;
    if (r->ops_per_sample > 1) s += " [batch means, " + std::to_string(r->ops_per_sample) + " ops]";
    if (!r->sample_modes.empty()) s += " [samples " + modes_text(r->sample_modes) + "]";
    return s;
}

/// "+4.1% (message passing), +0.3% (core locking)": the measured cost of having
/// counters open, per row of the table.
std::string overhead(const record* r) {
    if (!r || !r->counter_overhead) return "–";
    char b[32];
    std::snprintf(b, sizeof b, "%+.1f%%", *r->counter_overhead * 100);
    return b;
}

std::string ratio(double a, double b) {
    if (b <= 0) return "–";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f×", a / b);
    return buf;
}

/// "target <what>: 0.93x — met".
std::string fmt_target(const std::string& what, double ratio_value, bool met) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2fx", ratio_value);
    return "target " + what + ": " + b + " — " + (met ? "met" : "MISSED");
}

/// A TCP cell's record: `stack_prefix` "lwbench" or "lwip" (any version); `threads`
/// application threads (bulk_tcp: parallel connections).
const record* find_tcp(const std::vector<record>& recs, const std::string& stack_prefix, scenario_kind k,
                       const std::string& api, const std::string& mode, pinning pin, int threads = 1) {
    for (const auto& r : recs)
        if (r.stack.rfind(stack_prefix, 0) == 0 && r.scenario == to_string(k) && r.api == api &&
            r.threading_mode == mode && r.pinning == to_string(pin) && r.app_threads == threads)
            for (const auto& c : k_tcp_cells)
                if (c.scenario == k && r.payload_bytes == c.size) return &r;
    return nullptr;
}

/// The figure a TCP cell shows: delivered MB/s (bulk), p50 µs (request/response),
/// connections/s (connection rate), each with its repetitions' spread.
std::string tcp_figure(const record* r, scenario_kind k) {
    if (!r) return "–";
    char b[96];
    const double spread = r->spread.rel_mad * 100;
    switch (k) {
        case scenario_kind::bulk_tcp: std::snprintf(b, sizeof b, "%.0f MB/s", r->bytes_per_sec / 1e6); break;
        case scenario_kind::request_response_tcp: return cell(r);
        default: std::snprintf(b, sizeof b, "%.0f /s", r->ops_per_sec); break;
    }
    std::string out = b;
    std::snprintf(b, sizeof b, " (±%.0f%%)", spread);
    out += b;
    if (r->errors > 0) out += " [" + std::to_string(r->errors) + " errors]";
    return out;
}

/// Ours / lwIP's figure of a column, oriented so that > 1 means ours is better.
std::string tcp_ratio(const record* ours, const record* lw, scenario_kind k) {
    if (!ours || !lw) return "–";
    switch (k) {
        case scenario_kind::bulk_tcp: return ratio(ours->bytes_per_sec, lw->bytes_per_sec);
        case scenario_kind::request_response_tcp: return ratio(lw->latency.p50, ours->latency.p50);
        default: return ratio(ours->ops_per_sec, lw->ops_per_sec);
    }
}

/// API messages per op of our stack's cell (stack_counts), or "–".
std::string api_messages(const record* r) {
    if (!r || !r->counts || !r->counts->api_messages_per_op) return "–";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", *r->counts->api_messages_per_op);
    return b;
}

/// The parallel-connections table: bulk with 64 KiB writes on the same core, one
/// connection and k_parallel_connections, both modes, a row per stack and API with a
/// cell, then ours / real lwIP per API.
void parallel_report(std::ostringstream& os, const std::vector<record>& recs, const std::vector<std::string>& stacks) {
    constexpr std::array modes = {"message_passing", "core_locking"};
    const std::array<int, 2> connections = {1, k_parallel_connections};
    const auto find_cell = [&](const std::string& stack_name, const char* api, const char* mode, int threads) {
        return find_tcp(recs, stack_name, k_parallel_cell.scenario, api, mode, pinning::same_core, threads);
    };
    std::ostringstream rows;
    for (const auto& st : stacks)
        for (auto api : k_tcp_apis) {
            if (!find_cell(st, to_string(api), modes[0], k_parallel_connections) &&
                !find_cell(st, to_string(api), modes[1], k_parallel_connections))
                continue;
            rows << "| " << st << ", " << to_string(api);
            for (const char* mode : modes)
                for (int n : connections)
                    rows << " | " << tcp_figure(find_cell(st, to_string(api), mode, n), k_parallel_cell.scenario);
            rows << " |\n";
        }
    if (rows.str().empty()) return;
    const std::string n = std::to_string(k_parallel_connections);
    os << "\n### TCP bulk, 1 and " << n << " connections in parallel (64 KiB writes, same core)\n\n"
       << "Each connection has its own sender thread (and, netconn and socket, its own receiving thread); "
          "delivered MB/s over all connections, every byte checked on every connection; a repetition moves the "
          "same bytes as the one-connection cell's, shared by the connections. In message passing, real lwIP's "
          "several connections can fill its one tcpip mailbox (input packets and API messages; the unix port's "
          "holds 128, ours 1024): the zero-copy pair then drops the input packet as a NIC would and TCP waits for "
          "its retransmission timeout (the runner's stderr counts the drops).\n\n"
       << "| bulk 64 KiB, same core | MP, 1 | MP, " << n << " | CL, 1 | CL, " << n << " |\n"
       << "| --- | --- | --- | --- | --- |\n"
       << rows.str();
    if (stacks.size() > 1)
        for (auto api : k_tcp_apis) {
            os << "| lwbench / real lwIP, " << to_string(api) << " (> 1: ours better)";
            for (const char* mode : modes)
                for (int c : connections)
                    os << " | "
                       << tcp_ratio(find_cell("lwbench", to_string(api), mode, c), find_cell("lwip", to_string(api), mode, c),
                                    k_parallel_cell.scenario);
            os << " |\n";
        }
}

/// The TCP table (after the seed table): ours over every API and real lwIP over the raw
/// API, both modes, same core and separate cores; then context switches and API
/// messages per op.
void tcp_report(std::ostringstream& os, const std::vector<record>& recs) {
    constexpr std::array modes = {"message_passing", "core_locking"};
    // The rows: one per pinning x stack x API that has a cell.
    struct tcp_row {
        std::string stack, api;
        pinning pin;
    };
    std::vector<std::string> stacks = {"lwbench"};
    for (const auto& r : recs)
        if (r.stack.rfind("lwip", 0) == 0 && is_tcp(*parse_scenario_kind(r.scenario)) &&
            std::find(stacks.begin(), stacks.end(), r.stack) == stacks.end())
            stacks.push_back(r.stack);
    const auto has_cell = [&](const tcp_row& row) {
        for (const auto& c : k_tcp_cells)
            for (const char* mode : modes)
                if (find_tcp(recs, row.stack, c.scenario, row.api, mode, row.pin)) return true;
        return false;
    };
    std::vector<tcp_row> rows;
    for (auto pin : k_tcp_pins)
        for (const auto& st : stacks)
            for (auto api : k_tcp_apis)
                if (tcp_row row{st, to_string(api), pin}; has_cell(row)) rows.push_back(row);
    if (rows.empty()) return;
    const auto label = [](const tcp_row& row) { return row.stack + ", " + row.api + ", " + to_string(row.pin); };
    os << "\n## TCP: our stack and real lwIP, both modes\n\n"
       << "One connection over each stack's zero-copy loopback, Nagle off, every received byte checked; on the same "
          "core and on separate cores (the tcpip thread on one CPU, the application threads on another). Bulk: "
          "64 KiB writes, delivered MB/s (the clock stops when the receiver has every byte). Request/response: 64 "
          "bytes each way, p50 of single transactions. Connection rate: connect + accept + one 64-byte exchange + "
          "close, per second. ± is the spread of the repetitions. raw: `tcp_write` (no copy) entered the mode's way "
          "(core lock, or a message to the tcpip thread), the server end in the receive callback; netconn: "
          "`netconn_write` without copying and `netconn_recv_tcp` (one more API message per receive, to reopen the "
          "window), the server end on its own thread; socket: `send`/`recv` (one copy each way). Both stacks run "
          "every API.\n\n"
       << "| TCP | bulk 64 KiB MP | bulk 64 KiB CL | req/resp 64 B MP | req/resp 64 B CL | connections MP | "
          "connections CL |\n| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& row : rows) {
        os << "| " << label(row);
        for (const auto& c : k_tcp_cells)
            for (const char* mode : modes)
                os << " | " << tcp_figure(find_tcp(recs, row.stack, c.scenario, row.api, mode, row.pin), c.scenario);
        os << " |\n";
    }
    if (stacks.size() > 1)
        for (auto pin : k_tcp_pins)
            for (auto api : k_tcp_apis) {
                const char* api_name = to_string(api);
                os << "| lwbench / real lwIP, " << api_name << ", " << to_string(pin) << " (> 1: ours better)";
                for (const auto& c : k_tcp_cells)
                    for (const char* mode : modes)
                        os << " | "
                           << tcp_ratio(find_tcp(recs, "lwbench", c.scenario, api_name, mode, pin),
                                        find_tcp(recs, "lwip", c.scenario, api_name, mode, pin), c.scenario);
                os << " |\n";
            }
    os << "\n| per op (MP / CL): context switches; API messages (ours) | bulk | req/resp | connections |\n"
          "| --- | --- | --- | --- |\n";
    for (const auto& row : rows) {
        os << "| " << label(row);
        for (const auto& c : k_tcp_cells) {
            const record* mp = find_tcp(recs, row.stack, c.scenario, row.api, modes[0], row.pin);
            const record* cl = find_tcp(recs, row.stack, c.scenario, row.api, modes[1], row.pin);
            os << " | " << cs(mp) << " / " << cs(cl);
            if (row.stack == "lwbench") os << "; " << api_messages(mp) << " / " << api_messages(cl);
        }
        os << " |\n";
    }
    parallel_report(os, recs, stacks);
}

}  // namespace

std::string seed_report(const std::vector<record>& recs, const std::vector<std::string>& notes) {
    std::ostringstream os;
    std::vector<std::string> stacks = {"lwbench"};
    for (const auto& r : recs)
        if (r.stack != "lwbench" && std::find(stacks.begin(), stacks.end(), r.stack) == stacks.end())
            stacks.push_back(r.stack);
    os << "## 1458-byte UDP send: the seed comparison\n\n"
       << "Median time for one send call to return: p50 over the pooled samples of every timed repetition (no "
          "perf counters open); ± is the median absolute deviation of the per-repetition medians. A cell whose "
          "repetitions split into two clusters shows both modes with their shares instead. Samples are single "
          "calls unless a cell says \"batch means (N ops)\". Raw = `udp_sendto` from core context (under the core "
          "lock). Both stacks' cells were visited in one shuffled order per round.\n\n"
       << "| 1458-byte UDP send | message passing | core locking | raw `udp_sendto` |\n"
       << "| --- | --- | --- | --- |\n"
       << "| seed, 2007 embedded target (as reported), `lwip_sendto` | 204 µs | 67 µs | 74 µs |\n";
    // The rows of both tables: one per pinning x stack x API, in this order.
    struct row {
        std::string label, short_label;  // seed table / ratio table
        const record *mp, *cl, *raw;
    };
    std::vector<row> rows;
    for (const char* pin : {"same_core", "separate_cores"})
        for (const auto& st : stacks)
            for (const char* api : {"socket", "netconn"})
                rows.push_back({"this machine, " + st + ", " + api + " API, " + pin, st + ", " + api + ", " + pin,
                                find(recs, st, api, "message_passing", pin), find(recs, st, api, "core_locking", pin),
                                find(recs, st, "raw", "core_locking", pin)});
    for (const auto& t : target_seed_rows(recs))
        rows.push_back({t.label, t.short_label, t.message_passing, t.core_locking, t.raw});
    for (const auto& r : rows) {
        if (!r.mp && !r.cl) continue;
        os << "| " << r.label << " | " << cell(r.mp) << " | " << cell(r.cl) << " | " << cell(r.raw) << " |\n";
    }
    os << "\n### Ratios and the cost of message passing\n\n"
       << "| | message passing / core locking | core locking / raw | message-passing overhead per call | "
          "context switches per call (MP / CL) | counters' overhead (MP / CL) |\n| --- | --- | --- | --- | --- | --- |\n"
       << "| seed, 2007 (as reported) | 3.04× | 0.91× | 137 µs | – | – |\n";
    for (const auto& r : rows) {
        if (!r.mp || !r.cl) continue;
        os << "| " << r.short_label << " | " << ratio(r.mp->latency.p50, r.cl->latency.p50)
           << " | " << (r.raw ? ratio(r.cl->latency.p50, r.raw->latency.p50) : "–") << " | "
           << us(r.mp->latency.p50 - r.cl->latency.p50) << " | " << cs(r.mp) << " / " << cs(r.cl) << " | "
           << overhead(r.mp) << " / " << overhead(r.cl) << " |\n";
    }
    // the floor
    const record* hand_same = find_prim(recs, "mailbox_handoff", "same_core");
    const record* hand_sep = find_prim(recs, "mailbox_handoff", "separate_cores");
    const record* wake_same = find_prim(recs, "semaphore_wake", "same_core");
    const record* wake_sep = find_prim(recs, "semaphore_wake", "separate_cores");
    const record* lock = find_prim(recs, "lock_unlock");
    const record* ck = find_prim(recs, "checksum");
    const record* floor = find_prim(recs, "udp_emit_floor");
    if (hand_same || lock || ck) {
        os << "\n### The floor on this machine (what explains the rows above)\n\n| primitive | same core | separate "
              "cores | context switches per op |\n| --- | --- | --- | --- |\n";
        const auto row = [&](const char* name, const record* a, const record* b) {
            if (!a && !b) return;
            os << "| " << name << " | " << (a ? us(a->latency.p50) : "–") << " | " << (b ? us(b->latency.p50) : "–")
               << " | " << cs(a ? a : b) << (b && a ? " / " + cs(b) : "") << " |\n";
        };
        row("empty API message through the mailbox (post, wake tcpip thread, wake caller)", hand_same, hand_sep);
        row("futex semaphore round trip (two wake-ups)", wake_same, wake_sep);
        row("core lock + unlock, uncontended (std::mutex)", lock, nullptr);
        row("checksum of 1458 bytes", ck, nullptr);
        row("UDP emit floor: headers + send checksum + receive verify", floor, nullptr);
    }
    const record* rt_kernel = find_round_trip(recs, "kernel", "");
    const record* rt_mp = find_round_trip(recs, "lwbench", "message_passing");
    const record* rt_cl = find_round_trip(recs, "lwbench", "core_locking");
    if (rt_kernel || rt_mp || rt_cl) {
        os << "\n### 64-byte UDP round trip on one core, against the kernel's own loopback\n\n"
           << "| round trip (two threads, same core) | p50 | context switches per round trip |\n| --- | --- | --- |\n";
        const auto row = [&](const char* name, const record* r) {
            if (r) os << "| " << name << " | " << cell(r) << " | " << cs(r) << " |\n";
        };
        row("Linux kernel UDP loopback (127.0.0.1, blocking send/recv)", rt_kernel);
        row("lwbench socket API, message passing", rt_mp);
        row("lwbench socket API, core locking", rt_cl);
    }
    tcp_report(os, recs);
    os << "\nContext switches per call come from separate *counted* repetitions (perf counters open on every "
          "thread), interleaved with the timed ones; the counters' overhead column is how much slower the counted "
          "repetitions' median was than the timed ones' (the observer's cost, measured in this run).\n";
    if (!notes.empty()) {
        os << "\n### Notes\n\n";
        for (const auto& n : notes) os << "- " << n << "\n";
    }
    return os.str();
}

std::vector<std::string> lwip_port_notes(const std::vector<record>& recs) {
    std::vector<std::string> notes;
    for (const char* pin : {"same_core", "separate_cores"}) {
        const record* stock_mp = find_lwip(recs, lwip_port::stock, "socket", "message_passing", pin);
        const record* fixed_mp = find_lwip(recs, lwip_port::fixed, "socket", "message_passing", pin);
        const record* stock_cl = find_lwip(recs, lwip_port::stock, "socket", "core_locking", pin);
        if (!stock_mp || !fixed_mp || !stock_cl) continue;
        const double overhead_ns = stock_mp->latency.p50 - stock_cl->latency.p50;
        const double saved_ns = stock_mp->latency.p50 - fixed_mp->latency.p50;
        char b[400];
        std::snprintf(b, sizeof b,
                      "real lwIP's port (socket send, message passing, %s): stock port p50 %s with %s context switches "
                      "per call, fixed port %s with %s; the port accounts for %s of the %s that message passing costs "
                      "over core locking (%.0f%%)",
                      pin, us(stock_mp->latency.p50).c_str(), cs(stock_mp).c_str(), us(fixed_mp->latency.p50).c_str(),
                      cs(fixed_mp).c_str(), us(saved_ns).c_str(), us(overhead_ns).c_str(),
                      overhead_ns > 0 ? 100.0 * saved_ns / overhead_ns : 0.0);
        notes.emplace_back(b);
    }
    return notes;
}

reproduce_result reproduce(const reproduce_options& o) {
    reproduce_result res;
    const auto points = our_points(o.sched, o.ops, o.warmup);
    res.notes.push_back(o.sched == sched_policy::fifo
                            ? "scheduling: SCHED_FIFO, tcpip thread at priority " + std::to_string(k_fifo_tcpip_priority) +
                                  ", application threads at " + std::to_string(k_fifo_app_priority) + " (--sched fifo)"
                            : std::string("scheduling: SCHED_OTHER, Linux's default (--sched other)"));
    // lwIP cells, if the runners exist: they join our points in one shuffled order per round.
    std::vector<external_point> external;
    const fs::path dir = o.lwip_runner_dir.empty() ? default_lwip_runner_dir() : o.lwip_runner_dir;
    if (o.with_lwip) {
        // Every runner build present in `dir`: the seed cells on each port, the TCP
        // cells on the stock port only (the fixed port is about the hand-off, which the
        // seed cells show).
        std::vector<std::string> missing;
        for (const auto& build : lwip_runner_builds()) {
            const std::string runner(build.executable);
            if (dir.empty() || !fs::exists(dir / runner)) {
                missing.push_back(runner);
                continue;
            }
            for (auto pin : {pinning::same_core, pinning::separate_cores})
                for (auto api : {api_kind::socket, api_kind::netconn, api_kind::raw}) {
                    const lwip_cell cell{runner, scenario_kind::send_latency, api, pin, k_payload, o.ops, o.warmup, 1};
                    external.push_back({cell.label(), rate_basis::operations, static_cast<double>(k_payload),
                                        [&o, &res, exe = dir / runner, cell](bool counted) {
                                            return visit_lwip(exe, cell, o, counted, res.notes);
                                        }});
                }
            if (build.port != lwip_port::stock) continue;
            const auto tcp_cell_of = [&](const tcp_cell& c, pinning pin, api_kind api, int threads) {
                const lwip_cell cell{runner,
                                     c.scenario,
                                     api,
                                     pin,
                                     c.size,
                                     tcp_ops(c.scenario, c.size, o.ops, threads),
                                     tcp_ops(c.scenario, c.size, o.warmup, threads),
                                     threads};
                external.push_back({cell.label(), tcp_basis(c.scenario), static_cast<double>(c.size),
                                    [&o, &res, exe = dir / runner, cell](bool counted) {
                                        return visit_lwip(exe, cell, o, counted, res.notes);
                                    }});
            };
            for (auto api : k_tcp_apis) {
                for (const auto& c : k_tcp_cells)
                    for (auto pin : k_tcp_pins) tcp_cell_of(c, pin, api, 1);
                tcp_cell_of(k_parallel_cell, pinning::same_core, api, k_parallel_connections);
            }
        }
        if (!missing.empty()) {
            std::string names;
            for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
            res.notes.push_back("real lwIP cells skipped: runners not found in '" + dir.string() + "': " + names +
                                " (build with -DLWBENCH_REAL_LWIP=ON; see real_lwip/README.md)");
        }
    }
    run_options ro;
    ro.repetitions = o.repetitions;
    ro.counted_repetitions = o.counted_repetitions;
    ro.ops = o.ops;
    ro.warmup = o.warmup;
    ro.hardware_counters = o.hardware_counters;
    ro.cancel = o.cancel;
    ro.keep_partial = o.keep_partial;
    ro.seed = o.seed;
    ro.progress = o.progress;
    external.push_back(kernel_round_trip_point(k_round_trip_payload, pinning::same_core, o.sched, ro));
    for (auto& pr : run_points(points, ro, external)) res.records.push_back(std::move(pr.rec));

    // Targets (ratios within this run).
    for (const char* pin : {"same_core", "separate_cores"}) {
        const record* cl = find(res.records, "lwbench", "socket", "core_locking", pin);
        const record* raw = find(res.records, "lwbench", "raw", "core_locking", pin);
        if (cl && raw) {
            const double r = cl->latency.p50 / raw->latency.p50;
            char b[200];
            std::snprintf(b, sizeof b, "target core-locked socket sendto <= 1.3x raw udp_sendto (%s): %.2fx — %s", pin,
                          r, r <= 1.3 ? "met" : "MISSED");
            res.notes.emplace_back(b);
        }
    }
    if (const record *cl = find_round_trip(res.records, "lwbench", "core_locking"),
        *kernel = find_round_trip(res.records, "kernel", "");
        cl && kernel) {
        const double r = cl->latency.p50 / kernel->latency.p50;
        res.notes.push_back(fmt_target("core-locking socket round trip on one core (64 B) <= 1.0x the kernel's UDP "
                                       "loopback ping-pong",
                                       r, r <= 1.0) +
                            " (context switches per round trip: " + cs(cl) + " lwbench, " + cs(kernel) + " kernel)");
    }
    const record* raw_same = find(res.records, "lwbench", "raw", "core_locking", "same_core");
    const record* floor = find_prim(res.records, "udp_emit_floor");
    if (raw_same && floor) {
        const double r = raw_same->latency.p50 / floor->latency.p50;
        char b[200];
        std::snprintf(b, sizeof b,
                      "target raw udp_sendto + zero-copy delivery within 3x of the emit floor: %.2fx — %s", r,
                      r <= 3.0 ? "met" : "MISSED");
        res.notes.emplace_back(b);
    }
    for (const char* pin : {"same_core", "separate_cores"})
        for (const char* api : {"socket", "netconn", "raw"})
            for (const char* mode : {"message_passing", "core_locking"}) {
                // Against lwIP as shipped: the stock port.
                const record* ours_r = find(res.records, "lwbench", api, mode, pin);
                const record* lw = find_lwip(res.records, lwip_port::stock, api, mode, pin);
                if (!ours_r || !lw) continue;
                const double r = ours_r->latency.p50 / lw->latency.p50;
                char b[220];
                std::snprintf(b, sizeof b, "target lwbench <= real lwIP (%s, %s, %s): %.2fx — %s", api, mode, pin, r,
                              r <= 1.0 ? "met" : "MISSED");
                res.notes.emplace_back(b);
            }
    for (auto& n : lwip_port_notes(res.records)) res.notes.push_back(std::move(n));
    // The measuring core's own cost, as run: the figure a timed test must not assert.
    const double clock_pair_ns = calibrate_clock().overhead_ns;
    const record* worst = nullptr;
    for (const auto& r : res.records)
        if (r.clock_share(clock_pair_ns) && (!worst || *r.clock_share(clock_pair_ns) > *worst->clock_share(clock_pair_ns)))
            worst = &r;
    if (worst) {
        const double share = *worst->clock_share(clock_pair_ns);
        char b[300];
        std::snprintf(b, sizeof b,
                      "clock overhead: one timestamp pair costs %.1f ns; its share of a sample is at most %.2f%% "
                      "(%s, %s) — target <= %.0f%%: %s",
                      clock_pair_ns, share * 100, worst->label().c_str(), worst->sample_basis().c_str(),
                      k_overhead_target * 100, share <= k_overhead_target ? "met" : "MISSED");
        res.notes.emplace_back(b);
    }
    // TCP targets: bulk throughput with 64 KiB writes, same core, ours against real lwIP.
    for (const auto& [mode, want] : {std::pair{"core_locking", 2.0}, std::pair{"message_passing", 1.0}}) {
        const record* ours_r = find_tcp(res.records, "lwbench", scenario_kind::bulk_tcp, "raw", mode, pinning::same_core);
        const record* lw = find_tcp(res.records, "lwip", scenario_kind::bulk_tcp, "raw", mode, pinning::same_core);
        char b[240];
        if (!ours_r || !lw || lw->bytes_per_sec <= 0) {
            std::snprintf(b, sizeof b,
                          "target TCP bulk throughput (64 KiB writes, same core, %s) >= %.0fx real lwIP: not evaluated "
                          "(%s)",
                          mode, want, ours_r ? "no real-lwIP cell" : "no lwbench cell");
        } else {
            const double r = ours_r->bytes_per_sec / lw->bytes_per_sec;
            std::snprintf(b, sizeof b, "target TCP bulk throughput (64 KiB writes, same core, %s) >= %.0fx real lwIP: "
                          "%.2fx — %s", mode, want, r, r >= want ? "met" : "MISSED");
        }
        res.notes.emplace_back(b);
    }
    res.report = seed_report(res.records, res.notes);
    return res;
}

}  // namespace lwbench::harness
