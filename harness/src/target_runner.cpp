// target_runner.cpp — runs the embedded target's driver and turns the firmware's
// raw samples into records (see target_runner.hpp).
#include "lwbench/harness/target_runner.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include "lwbench/harness/aggregate.hpp"
#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/reproduce.hpp"
#include "lwbench/harness/timing.hpp"

#ifndef LWBENCH_EMBEDDED_DRIVER
#define LWBENCH_EMBEDDED_DRIVER ""
#endif
#ifndef LWBENCH_EMBEDDED_BUILD_DIR
#define LWBENCH_EMBEDDED_BUILD_DIR ""
#endif

namespace lwbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view k_variant_prefix = "cortex-m3-qemu";

struct target_entry {
    target_kind kind;
    std::string_view name;
};
constexpr std::array<target_entry, 1> k_targets{{{target_kind::cortex_m3_qemu, "cortex-m3-qemu"}}};

/// Shell-quotes one argument.
std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

/// Runs `command`, returns its stdout; throws with the exit status on failure.
std::string capture(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot start: " + command);
    std::array<char, 65536> buffer{};
    std::size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
    const int status = pclose(pipe);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the target driver failed (exit status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                 "); its message is above");
    return out;
}

std::optional<std::string> optional_string(const json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
}

/// One repetition's counters, in perf_counters' event order: what the target
/// measures, and every other event "not available" with the reason.
std::vector<counter_value> rep_counters(const json& rep, double instructions) {
    std::vector<counter_value> out;
    for (const auto& name : perf_counters::event_names()) {
        counter_value c{name, std::nullopt, "ok"};
        if (name == "context_switches") c.total = rep.at("context_switches").get<double>();
        else if (name == "instructions") c.total = instructions;
        else c.status = "not available: the emulated target (QEMU -icount) counts only instructions and its RTOS's context switches";
        out.push_back(std::move(c));
    }
    return out;
}

const record* find_target(const std::vector<record>& records, const std::string& variant, const char* scenario,
                          const char* api_or_primitive, const char* mode) {
    for (const auto& r : records) {
        if (r.variant != variant || r.scenario != scenario) continue;
        const auto& kind = std::string_view(scenario) == "primitive" ? r.primitive : r.api;
        if (kind != api_or_primitive) continue;
        if (mode != nullptr && r.threading_mode != mode) continue;
        return &r;
    }
    return nullptr;
}

double ns_per_instruction(const record& r) {
    return r.lwip_options ? r.lwip_options->value("ns_per_instruction", 0.0) : 0.0;
}

double instructions(const record* r) { return r ? r->latency.p50 / ns_per_instruction(*r) : 0.0; }

double context_switches(const record* r) {
    if (!r) return 0;
    const auto it = r->counters.find("context_switches");
    return it != r->counters.end() && it->second.per_op ? *it->second.per_op : 0.0;
}

/// `value` with `decimals` digits after the point; decimals < 0: shortest form (%g).
std::string num(double value, int decimals = 0) {
    char buffer[64];
    if (decimals < 0) std::snprintf(buffer, sizeof buffer, "%g", value);
    else std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}
std::string times(double value) { return num(value, 2) + "x"; }
std::string pair(double a, double b) { return num(a, 2) + " / " + num(b, 2); }

/// What the firmware's phase names cover (firmware/bench.c, run_phase_points).
std::string phase_description(const std::string& phase) {
    if (phase == "caller_until_switch")
        return "caller until the switch to the tcpip thread: socket and netconn layers, the API message, mailbox post";
    if (phase == "tcpip_thread")
        return "tcpip thread: UDP/IP output with the checksum, the netif, then the datagram's input with the checksum "
               "verified and the sink; semaphore signal; back to the mailbox";
    if (phase == "caller_after_switch") return "caller after the switch back: the semaphore wait returns up the layers";
    if (phase == "send_under_core_lock") return "under the core lock: lock, pbuf, UDP/IP output with the checksum, netif queue";
    if (phase == "unlock_and_deliver") return "unlock, then delivery: IP/UDP input with the checksum verified, the sink";
    return phase;
}

}  // namespace

std::optional<target_kind> parse_target(std::string_view name) {
    for (const auto& t : k_targets)
        if (t.name == name) return t.kind;
    return std::nullopt;
}

std::string_view target_name(target_kind target) {
    for (const auto& t : k_targets)
        if (t.kind == target) return t.name;
    return "unknown";
}

std::string target_names() {
    std::string out;
    for (const auto& t : k_targets) out += (out.empty() ? "" : ", ") + std::string(t.name);
    return out;
}

target_run target_records(const json& raw) {
    if (raw.value("schema", "") != "lwbench.target_raw" || raw.value("schema_version", 0) != 1)
        throw std::runtime_error("not a lwbench.target_raw document (version 1)");
    target_run out;
    const json& emulator = raw.at("emulator");
    const double ns_per_instr = emulator.at("ns_per_instruction").get<double>();
    for (const json& run : raw.at("runs")) {
        const json& header = run.at("header");
        const double ns_per_tick = 1e9 / header.at("timer_hz").get<double>();
        json options = header.at("lwip_options");
        options["target"] = raw.at("target");
        options["board"] = header.at("board");
        options["cpu"] = header.at("cpu");
        options["emulator"] = emulator.at("version");
        options["icount_shift"] = emulator.at("icount_shift");
        options["ns_per_instruction"] = ns_per_instr;
        options["toolchain"] = raw.value("toolchain", "");
        // Group the repetitions by point, in the firmware's order.
        std::vector<std::string> order;
        std::map<std::string, std::vector<const json*>> groups;
        for (const json& rep : run.at("reps")) {
            const std::string key = rep.at("point").dump();
            if (groups.find(key) == groups.end()) order.push_back(key);
            groups[key].push_back(&rep);
        }
        for (const auto& key : order) {
            const json& point = groups[key].front()->at("point");
            record r;
            r.stack = "lwip-" + header.at("lwip_version").get<std::string>();
            r.scenario = point.at("scenario").get<std::string>();
            r.api = optional_string(point, "api");
            r.primitive = optional_string(point, "primitive");
            r.threading_mode = optional_string(point, "threading_mode");
            r.input_mode = optional_string(point, "input_mode");
            r.payload_bytes = point.at("payload_bytes").get<int>();
            const auto firmware_variant = optional_string(point, "variant");
            r.variant = std::string(k_variant_prefix) + (firmware_variant ? "/" + *firmware_variant : "");
            r.lwip_options = options;
            accumulator acc;
            std::uint64_t sent = 0, received = 0;
            for (const json* rep : groups[key]) {
                repetition one;
                one.ops = rep->at("ops").get<long>();
                one.errors = rep->at("errors").get<long>();
                one.wall_ns = rep->at("wall_ticks").get<double>() * ns_per_tick;
                double ticks = 0;
                for (const json& t : rep->at("ticks")) {
                    one.samples_ns.push_back(t.get<double>() * ns_per_tick);
                    ticks += t.get<double>();
                }
                if (static_cast<long>(one.samples_ns.size()) != one.ops)
                    throw std::runtime_error("a repetition of " + r.label() + " has " +
                                             std::to_string(one.samples_ns.size()) + " samples for " +
                                             std::to_string(one.ops) + " operations");
                // The firmware counts its context switches and instructions without an
                // observer's cost (emulated, instruction-counted time): the same repetition
                // is the timed one and, with no samples, the counted one.
                repetition counted;
                counted.counted = true;
                counted.ops = one.ops;
                counted.counters = rep_counters(*rep, ticks * ns_per_tick / ns_per_instr);
                sent += static_cast<std::uint64_t>(one.ops - one.errors);
                received += rep->at("received").get<std::uint64_t>();
                acc.add(std::move(one));
                acc.add(std::move(counted));
            }
            acc.finish(r, r.payload_bytes, rate_basis::operations);
            if (r.scenario == "send_latency") {
                stack_counts counts;
                counts.sent = sent;
                counts.received = received;
                counts.dropped = sent > received ? sent - received : 0;
                r.counts = counts;
            }
            out.records.push_back(std::move(r));
        }
    }
    out.notes.push_back("emulated target " + raw.at("target").get<std::string>() + ": " +
                        emulator.at("version").get<std::string>() + ", board " +
                        emulator.at("machine").get<std::string>() + ", -icount shift=" +
                        std::to_string(emulator.at("icount_shift").get<int>()) +
                        ": every instruction takes " + num(ns_per_instr, -1) + " ns (~" + num(1000.0 / ns_per_instr) + " MIPS). " +
                        "An instruction-count model, not a cycle-accurate one: no wait states, caches, pipeline "
                        "stalls or bus contention. Firmware built with " + raw.value("toolchain", "") + ".");
    return out;
}

target_run run_target(const target_options& o) {
    const fs::path driver = o.driver.empty() ? fs::path(LWBENCH_EMBEDDED_DRIVER) : o.driver;
    const fs::path build_dir = o.build_dir.empty() ? fs::path(LWBENCH_EMBEDDED_BUILD_DIR) : o.build_dir;
    if (driver.empty() || !fs::exists(driver))
        throw std::runtime_error("the target driver embedded/run_target.py was not found at '" + driver.string() + "'");
    if (o.progress)
        o.progress("target " + std::string(target_name(o.target)) + ": building the firmware and running it under QEMU");
    // The driver's progress and errors go straight to our stderr.
    const std::string out = capture(quoted(driver.string()) + " --build-dir " + quoted(build_dir.string()) +
                                    (o.progress ? "" : " --quiet"));
    json raw;
    try {
        raw = json::parse(out);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("the target driver printed no valid JSON: ") + e.what());
    }
    return target_records(raw);
}

std::vector<target_seed_row> target_seed_rows(const std::vector<record>& records) {
    std::vector<target_seed_row> rows;
    const std::string variant(k_variant_prefix);
    for (const char* api : {"socket", "netconn"}) {
        target_seed_row row;
        row.message_passing = find_target(records, variant, "send_latency", api, "message_passing");
        row.core_locking = find_target(records, variant, "send_latency", api, "core_locking");
        row.raw = find_target(records, variant, "send_latency", "raw", "core_locking");
        const record* any = row.core_locking ? row.core_locking : row.message_passing;
        if (!any) continue;
        const std::string board = any->lwip_options ? any->lwip_options->value("board", "?") : "?";
        row.label = "emulated Cortex-M3 (QEMU " + board + ", " + num(ns_per_instruction(*any), -1) + " ns/instruction), " +
                    any->stack + ", " + api + " API";
        row.short_label = "emulated Cortex-M3, " + any->stack + ", " + api;
        rows.push_back(row);
    }
    return rows;
}

std::string target_report(const std::vector<record>& records) {
    const std::string variant(k_variant_prefix);
    const std::string legacy = variant + "/connect_send_disconnect";
    const record* mp = find_target(records, variant, "send_latency", "socket", "message_passing");
    const record* cl = find_target(records, variant, "send_latency", "socket", "core_locking");
    const record* raw = find_target(records, variant, "send_latency", "raw", "core_locking");
    if (!mp || !cl || !raw) return "";
    const record* checksum = find_target(records, variant, "primitive", "checksum", nullptr);
    const record* handoff = find_target(records, variant, "primitive", "mailbox_handoff", nullptr);
    const record* semaphore = find_target(records, variant, "primitive", "semaphore_wake", nullptr);
    const record* pingpong = find_target(records, variant, "primitive", "thread_pingpong", nullptr);
    const record* lock = find_target(records, variant, "primitive", "lock_unlock", nullptr);
    const record* copy = find_target(records, variant, "primitive", "memcpy", nullptr);
    const record* legacy_mp = find_target(records, legacy, "send_latency", "socket", "message_passing");
    const record* legacy_cl = find_target(records, legacy, "send_latency", "socket", "core_locking");
    const double ns = ns_per_instruction(*cl);

    std::ostringstream os;
    os << "\n## The emulated Cortex-M3: where one 1458-byte send's instructions go\n\n"
       << "Real lwIP " << cl->stack.substr(5) << " on lwbench's RTOS, QEMU `-icount`: time is instructions x "
       << num(ns, -1) << " ns (an instruction-count model, not cycle-accurate: no wait states, caches or bus "
                              "contention). p50 per call, in instructions; the run is deterministic, so the spread is "
                              "only the RTOS tick landing inside some calls.\n\n"
       << "| phase of `lwip_sendto` (1458 B, zero-copy netif pair, receive included) | instructions | share of the "
          "message-passing call |\n| --- | --- | --- |\n";
    const double total = instructions(mp);
    const auto phase = [&](const std::string& name, double value) {
        os << "| " << name << " | " << num(value) << " | " << num(100 * value / total) << "% |\n";
    };
    const double checksums = checksum ? 2 * instructions(checksum) : 0;
    if (checksum) phase("Internet checksum, computed on send and verified on receive (2 x the checksum primitive)", checksums);
    phase("protocol and buffers: pbuf, UDP/IP headers, routing, netif, IP/UDP input, sink (raw `udp_sendto` under the "
          "core lock, minus the checksums)",
          instructions(raw) - checksums);
    phase("socket and netconn layers (core-locked `lwip_sendto` minus raw)", instructions(cl) - instructions(raw));
    phase("API message: mailbox post, " + num(context_switches(mp) - context_switches(cl)) +
              " context switches, semaphore (message passing minus core locking)",
          instructions(mp) - instructions(cl));
    phase("total, message passing", total);

    os << "\n| ratio at 1458 B | seed, 2007 (as reported) | emulated Cortex-M3 |\n| --- | --- | --- |\n"
       << "| message passing / core locking (`lwip_sendto`) | 3.04x | "
       << times(mp->latency.p50 / cl->latency.p50) << " |\n"
       << "| core locking / raw | 0.91x | " << times(cl->latency.p50 / raw->latency.p50) << " |\n"
       << "| message-passing overhead per call | 137 µs | "
       << num(instructions(mp) - instructions(cl)) << " instructions = " << num((mp->latency.p50 - cl->latency.p50) / 1000, 1)
       << " µs"
       << " |\n"
       << "| context switches per call (MP / CL) | – | "
       << pair(context_switches(mp), context_switches(cl)) << " |\n";

    // Phases measured inside the call (the firmware's phase:<name> variants).
    const std::string phase_prefix = variant + "/phase:";
    bool phase_header = false;
    for (const auto& r : records) {
        if (!r.variant || r.variant->rfind(phase_prefix, 0) != 0) continue;
        if (!phase_header) {
            os << "\nMeasured inside the call (timestamps at the context switches of a message-passing call, and at "
                  "the core lock's release, where the zero-copy netif delivers, in a core-locked raw send):\n\n"
                  "| call | phase | instructions | context switches |\n| --- | --- | --- | --- |\n";
            phase_header = true;
        }
        os << "| " << r.api.value_or("?") << ", " << r.threading_mode.value_or("?") << " | "
           << phase_description(r.variant->substr(phase_prefix.size())) << " | " << num(instructions(&r)) << " | "
           << num(context_switches(&r), 2) << " |\n";
    }

    os << "\n### The RTOS floor on the emulated target\n\n| primitive | instructions | context switches per op |\n"
          "| --- | --- | --- |\n";
    const auto floor = [&](const char* name, const record* r) {
        if (r) os << "| " << name << " | " << num(instructions(r)) << " | " << num(context_switches(r), 2) << " |\n";
    };
    floor("empty `tcpip_api_call` through lwIP's mailbox (message-passing build)", handoff);
    floor("semaphore round trip to a higher-priority thread (two wake-ups)", semaphore);
    floor("`rtos_yield` ping-pong with an equal-priority thread", pingpong);
    floor("mutex lock + unlock, uncontended (the core lock's primitive)", lock);
    floor("checksum of 1458 bytes (`inet_chksum`, LWIP_CHKSUM_ALGORITHM 2)", checksum);
    floor("memcpy of 1458 bytes", copy);

    if (legacy_mp && legacy_cl) {
        os << "\n### lwIP 1.2's `lwip_sendto`: connect, send, disconnect\n\n"
           << "lwIP 1.2.0's `lwip_sendto` on an unconnected UDP socket called `netconn_connect`, `lwip_send` "
              "(`netconn_send`) and `netconn_disconnect`: three API messages per datagram. lwIP's CHANGELOG "
              "(2007-05-04, bug #19162) records the change to \"only one exchange between sockets api and api_msg\" "
              "for 1.3.0. The firmware replays those three calls with 2.1.3's API:\n\n"
           << "| 1458-byte send | message passing | core locking | MP / CL | context switches per call (MP / CL) |\n"
              "| --- | --- | --- | --- | --- |\n"
           << "| `lwip_sendto` (2.1.3, one API message) | " << num(instructions(mp)) << " | " << num(instructions(cl))
           << " | " << times(mp->latency.p50 / cl->latency.p50) << " | "
           << pair(context_switches(mp), context_switches(cl)) << " |\n"
           << "| connect + send + disconnect (1.2's three API messages) | " << num(instructions(legacy_mp)) << " | "
           << num(instructions(legacy_cl)) << " | " << times(legacy_mp->latency.p50 / legacy_cl->latency.p50) << " | "
           << pair(context_switches(legacy_mp), context_switches(legacy_cl)) << " |\n";
        const record* bare_mp = find_target(records, variant + "/no_checksums", "send_latency", "socket", "message_passing");
        const record* bare_cl = find_target(records, variant + "/no_checksums", "send_latency", "socket", "core_locking");
        const std::string bare_legacy = variant + "/no_checksums/connect_send_disconnect";
        const record* bare_legacy_mp = find_target(records, bare_legacy, "send_latency", "socket", "message_passing");
        const record* bare_legacy_cl = find_target(records, bare_legacy, "send_latency", "socket", "core_locking");
        if (bare_mp && bare_cl && bare_legacy_mp && bare_legacy_cl)
            os << "| `lwip_sendto`, lwIP without checksums | " << num(instructions(bare_mp)) << " | "
               << num(instructions(bare_cl)) << " | " << times(bare_mp->latency.p50 / bare_cl->latency.p50) << " | "
               << pair(context_switches(bare_mp), context_switches(bare_cl)) << " |\n"
               << "| connect + send + disconnect, lwIP without checksums | " << num(instructions(bare_legacy_mp))
               << " | " << num(instructions(bare_legacy_cl)) << " | "
               << times(bare_legacy_mp->latency.p50 / bare_legacy_cl->latency.p50) << " | "
               << pair(context_switches(bare_legacy_mp), context_switches(bare_legacy_cl)) << " |\n";
        const double per_handoff = (instructions(legacy_mp) - instructions(legacy_cl)) / 3;
        const double needed = 2 * instructions(cl);  // 3x means the overhead is twice the core-locked call
        os << "\n"
           << "Three exchanges cost " << num(3 * per_handoff) << " instructions of message passing per datagram ("
           << num(per_handoff) << " each). For the seed's 3x, the overhead would have to be about twice the "
              "core-locked call ("
           << num(needed) << " instructions): " << num(needed / (3 * per_handoff))
           << "x what this RTOS's three hand-offs cost. Even with the checksums off (the protocol's biggest cost), "
              "the three calls give the ratio in the last row, not 3x. So they explain a part of 2007's ratio; the "
              "rest must come from a far costlier hand-off on that RTOS and CPU (its context switch, mailbox and "
              "semaphore implementation, flash wait states and memory costs that an instruction-count model does "
              "not see).\n";
    }
    return os.str();
}

void add_target_run(reproduce_result& result, const target_options& options) {
    try {
        target_run run = run_target(options);
        for (auto& r : run.records) result.records.push_back(std::move(r));
        for (auto& n : run.notes) result.notes.push_back(std::move(n));
    } catch (const std::runtime_error& e) {
        // The host's rows are measured already: keep them, and say why the target's are missing.
        const std::string note = "emulated target rows skipped: " + std::string(e.what());
        if (options.progress) options.progress(note);
        result.notes.push_back(note);
    }
    result.report = seed_report(result.records, result.notes) + target_report(result.records);
}

}  // namespace lwbench::harness
