// reproduce.cpp — the seed experiment, the real-lwIP runners, and the report.
#include "lwbench/harness/reproduce.hpp"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/target_runner.hpp"
#include "lwbench/harness/timing.hpp"

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

std::vector<point> our_points() {
    std::vector<point> pts;
    for (auto pin : {pinning::same_core, pinning::separate_cores}) {
        for (const char* api : {"socket", "netconn", "raw"})
            for (auto mode : {threading_mode::message_passing, threading_mode::core_locking}) {
                point p;
                p.scenario = "send_latency";
                p.api = api;
                p.cfg.mode = mode;
                // As lwIP's two builds: core locking with LWIP_TCPIP_CORE_LOCKING_INPUT=1,
                // message passing with input through the mailbox.
                p.cfg.input = paired_input_mode(mode);
                p.payload = k_payload;
                p.pin = pin;
                pts.push_back(p);
            }
        for (const char* prim : {"mailbox_handoff", "semaphore_wake"}) {
            point p;
            p.scenario = "primitive";
            p.primitive = prim;
            p.payload = k_payload;
            p.pin = pin;
            pts.push_back(p);
        }
    }
    for (const char* prim : {"lock_unlock", "memcpy", "checksum", "udp_emit_floor"}) {
        point p;
        p.scenario = "primitive";
        p.primitive = prim;
        p.payload = k_payload;
        p.pin = pinning::same_core;
        pts.push_back(p);
    }
    return pts;
}

struct lwip_cell {
    std::string runner;  // lwip_runner_locking / lwip_runner_msgpassing
    std::string api;
    std::string pin;
};

/// Runs one lwIP runner invocation; returns its records (empty + message on failure).
std::vector<record> run_lwip(const fs::path& exe, const lwip_cell& c, const reproduce_options& o, std::string& error) {
    std::ostringstream cmd;
    cmd << "'" << exe.string() << "' --scenario send_latency --api " << c.api << " --size " << k_payload
        << " --pinning " << c.pin << " --repetitions 1 --ops " << o.ops << " --warmup " << o.warmup
        << " 2>/dev/null";
    std::string out;
    if (FILE* f = popen(cmd.str().c_str(), "r")) {
        std::array<char, 4096> buf{};
        std::size_t n;
        while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
        const int status = pclose(f);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            error = exe.filename().string() + " exited with status " + std::to_string(WEXITSTATUS(status));
            return {};
        }
    } else {
        error = "cannot start " + exe.string();
        return {};
    }
    try {
        const json doc = json::parse(out);
        std::vector<record> recs;
        for (const auto& r : doc.at("records")) recs.push_back(record_from_json(r));
        return recs;
    } catch (const std::exception& e) {
        error = exe.filename().string() + " printed no valid JSON: " + e.what();
        return {};
    }
}

/// Merges single-repetition records of one lwIP cell (run interleaved with ours) into one.
record merge_runs(const std::vector<record>& runs) {
    record r = runs.front();
    const auto med = [&](auto get) {
        std::vector<double> v;
        for (const auto& x : runs) v.push_back(get(x));
        std::sort(v.begin(), v.end());
        return quantile_sorted(v, 0.5);
    };
    r.repetitions = static_cast<int>(runs.size());
    r.repetition_p50_ns.clear();
    for (const auto& x : runs) r.repetition_p50_ns.push_back(x.latency.p50);
    r.spread = spread_of(r.repetition_p50_ns);
    r.latency.p50 = r.spread.median_ns;
    r.latency.p90 = med([](const record& x) { return x.latency.p90; });
    r.latency.p99 = med([](const record& x) { return x.latency.p99; });
    r.latency.p999 = med([](const record& x) { return x.latency.p999; });
    r.latency.mean = med([](const record& x) { return x.latency.mean; });
    r.latency.min = runs.front().latency.min;
    r.latency.max = runs.front().latency.max;
    std::size_t count = 0;
    for (const auto& x : runs) {
        r.latency.min = std::min(r.latency.min, x.latency.min);
        r.latency.max = std::max(r.latency.max, x.latency.max);
        count += x.latency.count;
    }
    r.latency.count = count;
    r.latency.ladder = runs[runs.size() / 2].latency.ladder;  // the ladder of the median run
    r.ops_per_sec = med([](const record& x) { return x.ops_per_sec; });
    r.bytes_per_sec = r.ops_per_sec * r.payload_bytes;
    for (auto& [name, c] : r.counters) {
        bool all = true;
        double sum = 0;
        for (const auto& x : runs) {
            const auto it = x.counters.find(name);
            if (it == x.counters.end() || !it->second.per_op) {
                all = false;
                break;
            }
            sum += *it->second.per_op;
        }
        if (all) {
            c.per_op = sum / static_cast<double>(runs.size());
            c.total.reset();
        }
    }
    return r;
}

const record* find(const std::vector<record>& recs, const std::string& stack, const std::string& api,
                   const std::string& mode, const std::string& pin) {
    for (const auto& r : recs)
        if (r.stack == stack && r.scenario == "send_latency" && r.api == api && r.threading_mode == mode &&
            r.pinning == pin && r.payload_bytes == k_payload &&
            (!r.variant || r.variant->find("stock_loopif") == std::string::npos))
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
    const auto it = r->counters.find("context_switches");
    if (it == r->counters.end() || !it->second.per_op) return "not available";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", *it->second.per_op);
    return b;
}

std::string cell(const record* r) {
    if (!r) return "–";
    char b[64];
    std::snprintf(b, sizeof b, " (±%.0f%%)", r->spread.rel_mad * 100);
    return us(r->latency.p50) + b;
}

std::string ratio(double a, double b) {
    if (b <= 0) return "–";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f×", a / b);
    return buf;
}

}  // namespace

std::string seed_report(const std::vector<record>& recs, const std::vector<std::string>& notes) {
    std::ostringstream os;
    std::vector<std::string> stacks = {"lwbench"};
    for (const auto& r : recs)
        if (r.stack != "lwbench" && std::find(stacks.begin(), stacks.end(), r.stack) == stacks.end())
            stacks.push_back(r.stack);
    os << "## 1458-byte UDP send: the seed comparison\n\n"
       << "Median time for one send call to return (p50 over all samples; ± is the median absolute deviation of "
          "the per-repetition medians). Raw = `udp_sendto` from core context (under the core lock).\n\n"
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
          "context switches per call (MP / CL) |\n| --- | --- | --- | --- | --- |\n"
       << "| seed, 2007 (as reported) | 3.04× | 0.91× | 137 µs | – |\n";
    for (const auto& r : rows) {
        if (!r.mp || !r.cl) continue;
        os << "| " << r.short_label << " | " << ratio(r.mp->latency.p50, r.cl->latency.p50)
           << " | " << (r.raw ? ratio(r.cl->latency.p50, r.raw->latency.p50) : "–") << " | "
           << us(r.mp->latency.p50 - r.cl->latency.p50) << " | " << cs(r.mp) << " / " << cs(r.cl) << " |\n";
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
    if (!notes.empty()) {
        os << "\n### Notes\n\n";
        for (const auto& n : notes) os << "- " << n << "\n";
    }
    return os.str();
}

reproduce_result reproduce(const reproduce_options& o) {
    reproduce_result res;
    const auto points = our_points();
    // lwIP cells, if the runners exist
    std::vector<lwip_cell> cells;
    const fs::path dir = o.lwip_runner_dir.empty() ? default_lwip_runner_dir() : o.lwip_runner_dir;
    if (o.with_lwip) {
        const bool have = !dir.empty() && fs::exists(dir / "lwip_runner_locking") &&
                          fs::exists(dir / "lwip_runner_msgpassing");
        if (have) {
            for (const char* pin : {"same_core", "separate_cores"})
                for (const char* api : {"socket", "netconn", "raw"})
                    for (const char* runner : {"lwip_runner_msgpassing", "lwip_runner_locking"})
                        cells.push_back({runner, api, pin});
        } else {
            res.notes.push_back("real lwIP rows skipped: runners not found in '" + dir.string() +
                                "' (build with -DLWBENCH_REAL_LWIP=ON; see real_lwip/README.md)");
        }
    }
    // Interleave: each round measures every point of ours once (shuffled), then every lwIP cell once.
    std::vector<std::vector<record>> lwip_runs(cells.size());
    run_options ro;
    ro.repetitions = o.repetitions;
    ro.ops = o.ops;
    ro.warmup = o.warmup;
    ro.hardware_counters = o.hardware_counters;
    ro.cancel = o.cancel;
    ro.seed = o.seed;
    ro.progress = o.progress;
    ro.after_round = [&](int rep) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (o.cancel && o.cancel->load()) throw cancelled();
            if (o.progress)
                o.progress("[round " + std::to_string(rep + 1) + "/" + std::to_string(o.repetitions) + "] real lwIP " +
                           cells[i].runner + " " + cells[i].api + " " + cells[i].pin);
            std::string error;
            auto recs = run_lwip(dir / cells[i].runner, cells[i], o, error);
            if (!error.empty()) {
                res.notes.push_back("real lwIP cell failed: " + error);
                continue;
            }
            for (auto& r : recs)
                if (r.scenario == "send_latency") lwip_runs[i].push_back(std::move(r));
        }
    };
    for (auto& pr : run_points(points, ro)) res.records.push_back(std::move(pr.rec));
    for (auto& runs : lwip_runs)
        if (!runs.empty()) res.records.push_back(merge_runs(runs));

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
                const record* ours_r = find(res.records, "lwbench", api, mode, pin);
                const record* lw = nullptr;
                for (const auto& r : res.records)
                    if (r.stack.rfind("lwip", 0) == 0 && r.scenario == "send_latency" && r.api == api &&
                        r.threading_mode == mode && r.pinning == pin)
                        lw = &r;
                if (!ours_r || !lw) continue;
                const double r = ours_r->latency.p50 / lw->latency.p50;
                char b[220];
                std::snprintf(b, sizeof b, "target lwbench <= real lwIP (%s, %s, %s): %.2fx — %s", api, mode, pin, r,
                              r <= 1.0 ? "met" : "MISSED");
                res.notes.emplace_back(b);
            }
    res.report = seed_report(res.records, res.notes);
    return res;
}

}  // namespace lwbench::harness
