// main.cpp — the `lwbench` command: list, run, reproduce, demo, profile.
//
// Results go to a new file under results/ (never overwriting); progress and
// warnings go to stderr; tables go to stdout. Bad flags print what is wrong and
// exit non-zero (CLI11 validates syntax; we validate meaning against this machine).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "lwbench/harness/reproduce.hpp"
#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/udp.hpp"

#ifndef LWBENCH_SOURCE_DIR
#define LWBENCH_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using namespace lwbench;
using namespace lwbench::harness;

namespace {

std::atomic<bool> g_cancel{false};

void on_sigint(int) {
    if (g_cancel.exchange(true)) std::_Exit(130);  // second Ctrl-C: leave now
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

/// Splits "a,b" lists given once or repeated.
std::vector<std::string> split_all(const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (const auto& s : in) {
        std::size_t start = 0;
        while (start <= s.size()) {
            const auto comma = s.find(',', start);
            const auto part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!part.empty()) out.push_back(part);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return out;
}

[[noreturn]] void usage_error(const std::string& msg) {
    std::cerr << "lwbench: " << msg << "\n";
    std::exit(2);
}

template <class T, class Parse>
std::vector<T> parse_list(const std::vector<std::string>& names, Parse parse, const char* what,
                          const std::vector<std::string>& allowed) {
    std::vector<T> out;
    for (const auto& n : split_all(names)) {
        auto v = parse(n);
        if (!v) usage_error(fmt::format("unknown {} '{}' (choose from: {})", what, n, join(allowed)));
        out.push_back(*v);
    }
    return out;
}

std::vector<long> parse_numbers(const std::vector<std::string>& in, const char* what, long lo, long hi) {
    std::vector<long> out;
    for (const auto& s : split_all(in)) {
        std::size_t pos = 0;
        long v = 0;
        try {
            v = std::stol(s, &pos);
        } catch (...) {
            pos = 0;
        }
        if (pos != s.size()) usage_error(fmt::format("{} must be a whole number, got '{}'", what, s));
        if (v < lo || v > hi) usage_error(fmt::format("{} must be between {} and {}, got {}", what, lo, hi, v));
        out.push_back(v);
    }
    return out;
}

std::string fmt_ns(double ns) {
    if (ns >= 1e6) return fmt::format("{:.2f} ms", ns / 1e6);
    if (ns >= 1e3) return fmt::format("{:.2f} µs", ns / 1e3);
    return fmt::format("{:.1f} ns", ns);
}

std::string counter_text(const record& r, const std::string& name) {
    const auto it = r.counters.find(name);
    if (it == r.counters.end() || !it->second.per_op) return "n/a";
    return fmt::format("{:.2f}", *it->second.per_op);
}

void print_table(const std::vector<record>& recs) {
    fmt::print("{:<78} {:>10} {:>10} {:>10} {:>10} {:>6} {:>12} {:>8} {:>7}\n", "scenario point", "p50", "p90", "p99",
               "p99.9", "±MAD", "ops/s", "ctxsw/op", "copy/op");
    for (const auto& r : recs) {
        fmt::print("{:<78} {:>10} {:>10} {:>10} {:>10} {:>5.1f}% {:>12.0f} {:>8} {:>7}\n", r.label(),
                   fmt_ns(r.latency.p50), fmt_ns(r.latency.p90), fmt_ns(r.latency.p99), fmt_ns(r.latency.p999),
                   r.spread.rel_mad * 100, r.ops_per_sec, counter_text(r, "context_switches"),
                   r.counts && r.counts->payload_copies_per_op ? fmt::format("{:.2f}", *r.counts->payload_copies_per_op) : "n/a");
    }
}

fs::path default_results_dir() { return fs::path(LWBENCH_SOURCE_DIR) / "results"; }

std::string command_line(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
    return s;
}

void progress_line(const std::string& s) { std::cerr << "lwbench: " << s << "\n"; }

// ---- demo: the zero-copy loopback and both threading modes, with counters ----------

long voluntary_switches_self() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);  // all threads of the process
    return u.ru_nvcsw + u.ru_nivcsw;
}

int cmd_demo(long count, std::size_t size, const std::string& pcap) {
    fmt::print("== lwbench demo: {} datagrams of {} bytes through the zero-copy loopback ==\n\n", count, size);
    std::vector<std::byte> payload(size, std::byte{0x42});
    {
        stack s;
        loopback_config lcfg;
        lcfg.pcap_path = pcap;
        loopback_netif lo(s, lcfg);
        if (lo.status() != err::ok) {
            std::cerr << "lwbench: cannot write the pcap file '" << pcap << "'\n";
            return 1;
        }
        static std::atomic<long> got_bytes{0}, got{0};
        udp_pcb* rx;
        udp_pcb* tx;
        {
            core_guard g(s);
            rx = udp_new(s);
            (void)udp_bind(rx, ip4_addr::any(), 7);
            udp_recv(rx, [](void*, udp_pcb*, pbuf* p, ip4_addr, std::uint16_t) {
                got_bytes += p->tot_len;
                ++got;
                pbuf_free(p);
            }, nullptr);
            tx = udp_new(s);
        }
        long sent = 0, failed = 0;
        for (long i = 0; i < count; ++i) {
            core_guard g(s);
            pbuf* p = s.pools().alloc(pbuf_layer::transport, size, pbuf_type::pool);
            if (!p) {
                ++failed;
                continue;
            }
            std::memcpy(p->payload, payload.data(), size);  // the application filling its buffer
            (udp_sendto(tx, p, ip4_addr::from_octets(127, 0, 0, 1), 7) == err::ok ? sent : failed)++;
            pbuf_free(p);
        }
        {
            core_guard g(s);
            udp_remove(rx);
            udp_remove(tx);
        }
        const auto& st = s.st();
        fmt::print("raw API (udp_sendto under core_guard, pool pbufs):\n");
        fmt::print("  sent {}  received {} ({} bytes)  send errors {}  dropped {}\n", sent, got.load(), got_bytes.load(),
                   failed, st.dropped_total());
        fmt::print("  payload copies inside the stack: {} ({:.2f} per datagram)\n", st.payload_copies.get(),
                   static_cast<double>(st.payload_copies.get()) / static_cast<double>(std::max(1L, sent)));
        fmt::print("  heap allocations: {}  pool pbufs in use after the run: {}\n", st.heap_alloc.get(),
                   s.pools().pool_in_use());
        if (!pcap.empty()) {
            lo.flush_pcap();
            fmt::print("  wrote every packet to {} (read it with: tshark -r {})\n", pcap, pcap);
        }
        fmt::print("\n");
    }
    fmt::print("socket API, same traffic in both threading modes (sender and receiver threads):\n");
    for (auto mode : {threading_mode::message_passing, threading_mode::core_locking}) {
        stack_config cfg;
        cfg.mode = mode;
        cfg.input = paired_input_mode(mode);
        stack s(cfg);
        loopback_netif lo(s);
        const int a = lwip_socket(s, AF_INET, SOCK_DGRAM, 0), b = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9000);
        to.sin_addr.s_addr = htonl(0x7f000001);
        lwip_bind(s, b, reinterpret_cast<sockaddr*>(&to), sizeof to);
        long received = 0;
        std::thread rx([&] {
            std::vector<char> buf(size);
            timeval tv{2, 0};
            lwip_setsockopt(s, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            while (received < count && lwip_recv(s, b, buf.data(), buf.size(), 0) >= 0) ++received;
        });
        perf_counters pc(false);
        const long cs0 = voluntary_switches_self();
        pc.start();
        const auto t0 = now_ns();
        long sent = 0;
        for (long i = 0; i < count; ++i)
            sent += lwip_sendto(s, a, payload.data(), size, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0;
        const auto t1 = now_ns();
        rx.join();
        pc.stop();
        const long cs1 = voluntary_switches_self();
        const auto vals = pc.read();
        std::string perf_cs = "not available";
        for (const auto& v : vals)
            if (v.name == "context_switches") perf_cs = v.total ? fmt::format("{:.2f}", *v.total / static_cast<double>(count)) : v.status;
        fmt::print("  {:<16} sent {} received {}  {:.2f} µs/send  context switches per call: {} (perf), {:.2f} "
                   "(getrusage)  copies/datagram {:.2f}  tcpip-thread API messages {}\n",
                   to_string(mode), sent, received, static_cast<double>(t1 - t0) / 1e3 / static_cast<double>(count),
                   perf_cs, static_cast<double>(cs1 - cs0) / static_cast<double>(count),
                   static_cast<double>(s.st().payload_copies.get()) / static_cast<double>(std::max(1L, sent)),
                   s.st().tcpip_msgs_api.get());
        lwip_close(s, a);
        lwip_close(s, b);
    }
    fmt::print("\n(context switches count both threads and the tcpip thread; they include the receiver waking)\n\n");
    return 0;
}

/// `lwbench profile ARGS...` runs `/usr/bin/python3 -m lwbench profile ARGS...` with
/// the repository's python/ on PYTHONPATH (perf record, folding and the flame graph
/// live in python/lwbench/profile.py).
int exec_profile(int argc, char** argv) {
    std::vector<std::string> args = {"/usr/bin/python3", "-m", "lwbench", "profile"};
    for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
    const std::string pypath = std::string(LWBENCH_SOURCE_DIR) + "/python";
    const char* old = std::getenv("PYTHONPATH");
    setenv("PYTHONPATH", (old && *old ? pypath + ":" + old : pypath).c_str(), 1);
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    execv(cargs[0], cargs.data());
    std::perror("lwbench: cannot run /usr/bin/python3");
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string_view(argv[1]) == "profile") return exec_profile(argc, argv);
    if (argc >= 2 && argv[1][0] != '-') {
        const std::string_view cmd = argv[1];
        if (cmd != "list" && cmd != "run" && cmd != "reproduce" && cmd != "demo") {
            std::cerr << "lwbench: unknown command '" << cmd << "' (choose from: list, run, reproduce, demo, profile)\n";
            return 2;
        }
    }
    CLI::App app{"lwbench — what thread safety costs in an lwIP-style TCP/IP stack"};
    app.require_subcommand(1);
    app.footer("Examples:\n  lwbench reproduce\n  lwbench run --scenario send_latency --api socket,raw --mode "
               "message_passing,core_locking --pinning same_core\n  lwbench list");

    // ---- list
    auto* list = app.add_subcommand("list", "Scenario kinds, their parameters and the accepted values");

    // ---- run
    auto* run = app.add_subcommand("run", "Measure one scenario point or a sweep (every combination of the lists)");
    std::vector<std::string> scen{"send_latency"}, apis{"socket"}, modes{"message_passing,core_locking"},
        inputs{"auto"}, mboxes{"mutex_cv"}, locks{"std_mutex"}, sizes{"1458"}, threads{"1"}, pins{"none"}, prims;
    int reps = 5;
    long ops = 20000, warmup = 2000;
    unsigned seed = 1;
    bool no_hw = false, no_save = false, quiet = false;
    std::string out_dir, label = "run";
    run->add_option("--scenario", scen, "send_latency, recv_latency, delivery_latency, round_trip, throughput, primitive");
    run->add_option("--api", apis, "raw, netconn, socket (comma-separated list)");
    run->add_option("--mode", modes, "message_passing, core_locking");
    run->add_option("--input-mode", inputs, "mailbox, inline, or auto (core_locking: inline, message_passing: mailbox, as lwIP's builds)");
    run->add_option("--mailbox", mboxes, "mutex_cv, tbb_queue, spin_then_block");
    run->add_option("--lock", locks, "std_mutex, tbb_spin_mutex, tbb_queuing_mutex");
    run->add_option("--size", sizes, "UDP payload bytes (max 1472 on the 1500-byte loopback MTU)");
    run->add_option("--threads", threads, "application sender threads (throughput)");
    run->add_option("--pinning", pins, "none, same_core, separate_cores");
    run->add_option("--primitive", prims, "for --scenario primitive: " + join(primitive_names()) + " (default: all)");
    run->add_option("--repetitions", reps, "timed repetitions per point (interleaved)")->check(CLI::Range(1, 1000));
    run->add_option("--ops", ops, "timed operations per repetition")->check(CLI::Range(1L, 100000000L));
    run->add_option("--warmup", warmup, "untimed operations before each repetition")->check(CLI::Range(0L, 100000000L));
    run->add_option("--seed", seed, "shuffle seed of the interleaving");
    run->add_flag("--no-hw-counters", no_hw, "do not try hardware perf counters");
    run->add_option("--out-dir", out_dir, "where result files go (default: <repo>/results)");
    run->add_option("--label", label, "label in the result file name");
    run->add_flag("--no-save", no_save, "print only, write no result file (e.g. under perf record)");
    run->add_flag("--quiet", quiet, "no progress on stderr");

    // ---- reproduce
    auto* repro = app.add_subcommand("reproduce", "The seed comparison: 1458-byte UDP send, socket/netconn/raw, both modes, vs 2007's 204/67/74 µs");
    int r_reps = 5;
    long r_ops = 20000, r_warm = 2000;
    bool r_no_lwip = false, r_no_save = false;
    std::string r_out;
    repro->add_option("--repetitions", r_reps, "interleaved rounds")->check(CLI::Range(1, 1000));
    repro->add_option("--ops", r_ops, "timed sends per repetition")->check(CLI::Range(1L, 100000000L));
    repro->add_option("--warmup", r_warm, "untimed sends first")->check(CLI::Range(0L, 100000000L));
    repro->add_flag("--no-lwip", r_no_lwip, "skip the real-lwIP rows");
    repro->add_flag("--no-save", r_no_save, "print only");
    repro->add_option("--out-dir", r_out, "where result files go (default: <repo>/results)");

    // ---- demo
    auto* demo = app.add_subcommand("demo", "Send datagrams through the zero-copy loopback; print counters and context switches per call in both modes");
    long d_count = 10000;
    std::size_t d_size = 1458;
    demo->add_option("--count", d_count, "datagrams")->check(CLI::Range(1L, 10000000L));
    demo->add_option("--size", d_size, "payload bytes")->check(CLI::Range(std::size_t{1}, std::size_t{1472}));
    std::string d_pcap;
    demo->add_option("--pcap", d_pcap, "also write the raw-API traffic to this pcap file (LINKTYPE_IPV4)");

    // ---- profile (implemented in Python: perf record + folding + flame graph)
    // Listed for --help; dispatched before parsing (everything after it goes to Python as is).
    app.add_subcommand("profile", "Profile a scenario with perf: lwbench profile [--both-modes] -- <run flags> "
                                  "(runs python3 -m lwbench profile; see its -h)");

    CLI11_PARSE(app, argc, argv);
    std::signal(SIGINT, on_sigint);

    try {
        if (*list) {
            fmt::print("Scenario kinds:\n");
            for (const auto& s : scenario_catalog())
                fmt::print("  {:<17} {}\n  {:<17} parameters: {}\n", s.name, s.description, "", join(s.parameters));
            fmt::print("\nValues:\n  --api          raw, netconn, socket\n  --mode         message_passing, core_locking\n"
                       "  --input-mode   mailbox, inline, auto\n  --mailbox      mutex_cv, tbb_queue, spin_then_block\n"
                       "  --lock         std_mutex, tbb_spin_mutex, tbb_queuing_mutex\n"
                       "  --pinning      none, same_core (everything on CPU 0), separate_cores (tcpip thread on CPU 0, "
                       "application threads on the others)\n  --primitive    {}\n  --size         1..1472 bytes; "
                       "--threads 1..64\n\nThis machine: {} CPUs.\n",
                       join(primitive_names()), online_cpus());
            return 0;
        }
        if (*demo) return cmd_demo(d_count, d_size, d_pcap);
        if (*run) {
            std::vector<point> points;
            const auto scenarios = split_all(scen);
            for (const auto& s : scenarios) {
                const auto& cat = scenario_catalog();
                if (std::none_of(cat.begin(), cat.end(), [&](const auto& i) { return i.name == s; }))
                    usage_error("unknown scenario '" + s + "' (see `lwbench list`)");
            }
            const auto mode_v = parse_list<threading_mode>(modes, parse_threading_mode, "mode", {"message_passing", "core_locking"});
            std::vector<std::optional<input_mode>> input_v;
            for (const auto& n : split_all(inputs)) {
                if (n == "auto") input_v.push_back(std::nullopt);
                else if (auto m = parse_input_mode(n)) input_v.push_back(*m);
                else usage_error("unknown input mode '" + n + "' (choose from: mailbox, inline, auto)");
            }
            const auto mbox_v = parse_list<mailbox_kind>(mboxes, parse_mailbox_kind, "mailbox kind", {"mutex_cv", "tbb_queue", "spin_then_block"});
            const auto lock_v = parse_list<lock_kind>(locks, parse_lock_kind, "lock kind", {"std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex"});
            const auto pin_v = parse_list<pinning>(pins, parse_pinning, "pinning", {"none", "same_core", "separate_cores"});
            const auto size_v = parse_numbers(sizes, "--size", 1, 65507);
            const auto thread_v = parse_numbers(threads, "--threads", 1, 64);
            auto prim_v = split_all(prims);
            if (prim_v.empty()) prim_v = primitive_names();
            std::set<std::string> seen;
            for (const auto& s : scenarios)
                for (long size : size_v)
                    for (auto pin : pin_v) {
                        if (s == "primitive") {
                            for (const auto& prim : prim_v)
                                for (auto mb : mbox_v)
                                    for (auto lk : lock_v) {
                                        point p;
                                        p.scenario = s;
                                        p.primitive = prim;
                                        p.cfg.mailbox = mb;
                                        p.cfg.lock = lk;
                                        p.payload = static_cast<std::size_t>(size);
                                        p.pin = pin;
                                        // only the dimension a primitive depends on is kept
                                        if (prim != "lock_unlock") p.cfg.lock = lock_kind::std_mutex;
                                        if (prim != "mailbox_handoff") p.cfg.mailbox = mailbox_kind::mutex_cv;
                                        if (seen.insert(p.label()).second) points.push_back(p);
                                    }
                            continue;
                        }
                        for (const auto& api : split_all(apis))
                            for (auto m : mode_v)
                                for (auto in : input_v)
                                    for (auto mb : mbox_v)
                                        for (auto lk : lock_v)
                                            for (long t : thread_v) {
                                                point p;
                                                p.scenario = s;
                                                p.api = api;
                                                p.cfg.mode = m;
                                                p.cfg.input = in ? *in : paired_input_mode(m);
                                                p.cfg.mailbox = mb;
                                                p.cfg.lock = lk;
                                                p.payload = static_cast<std::size_t>(size);
                                                p.threads = static_cast<int>(t);
                                                p.pin = pin;
                                                if (seen.insert(p.label()).second) points.push_back(p);
                                            }
                    }
            for (const auto& p : points)
                if (auto problem = validate(p)) usage_error(*problem + " [" + p.label() + "]");
            run_options o;
            o.repetitions = reps;
            o.ops = ops;
            o.warmup = warmup;
            o.seed = seed;
            o.hardware_counters = !no_hw;
            o.cancel = &g_cancel;
            if (!quiet) o.progress = progress_line;
            if (!quiet)
                progress_line(fmt::format("{} point(s) x {} repetition(s), interleaved; clock overhead {:.1f} ns per sample",
                                          points.size(), reps, calibrate_clock().overhead_ns));
            std::vector<record> recs;
            for (auto& pr : run_points(points, o)) recs.push_back(std::move(pr.rec));
            print_table(recs);
            if (!no_save) {
                const auto doc = make_document(label, command_line(argc, argv), recs);
                const auto path = save_results(out_dir.empty() ? default_results_dir() : fs::path(out_dir), doc, recs);
                fmt::print("wrote {}\n", path.string());
            }
            return 0;
        }
        if (*repro) {
            reproduce_options o;
            o.repetitions = r_reps;
            o.ops = r_ops;
            o.warmup = r_warm;
            o.with_lwip = !r_no_lwip;
            o.cancel = &g_cancel;
            o.progress = progress_line;
            progress_line(fmt::format("reproducing the 2007 comparison: {} interleaved rounds x {} sends; clock overhead {:.1f} ns per sample",
                                      r_reps, r_ops, calibrate_clock().overhead_ns));
            auto res = reproduce(o);
            fmt::print("{}\n", res.report);
            if (!r_no_save) {
                auto doc = make_document("reproduce", command_line(argc, argv), res.records, res.notes);
                const fs::path dir = r_out.empty() ? default_results_dir() : fs::path(r_out);
                const auto path = save_results(dir, doc, res.records);
                const auto md = write_new_file(dir, path.stem().string(), ".md",
                                               "# lwbench reproduce\n\nFrom `" + path.filename().string() + "`.\n\n" + res.report);
                fmt::print("wrote {}\nwrote {}\n", path.string(), md.string());
            }
            return 0;
        }
    } catch (const cancelled&) {
        std::cerr << "lwbench: interrupted; nothing was written\n";
        return 130;
    } catch (const std::invalid_argument& e) {
        std::cerr << "lwbench: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "lwbench: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
