// main.cpp — the `lwbench` command: list, run, reproduce, demo, and the Python
// subcommands profile, compare, report and crossover (python_command.hpp).
//
// Results go to a new file under results/ (never overwriting); stdout carries only
// the result in the --format asked for (output.hpp); progress, warnings and "wrote
// <file>" go to stderr. Every usage error exits 2 with what is wrong and a "did you
// mean" (usage.hpp): CLI11 checks syntax and enumerated values, we check meaning
// against this machine, and the output directory and label are checked before
// anything is measured.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "lwbench/harness/core_work.hpp"
#include "lwbench/harness/design.hpp"
#include "lwbench/harness/reproduce.hpp"
#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/target_runner.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/udp.hpp"
#include "output.hpp"
#include "python_command.hpp"
#include "usage.hpp"

#ifndef LWBENCH_SOURCE_DIR
#define LWBENCH_SOURCE_DIR "."
#endif
#ifndef LWBENCH_VERSION
#define LWBENCH_VERSION "unknown"
#endif

namespace fs = std::filesystem;
using namespace lwbench;
using namespace lwbench::harness;
using namespace lwbench::cli;

namespace {

std::atomic<bool> g_cancel{false};

// Ctrl-C: the run stops within a second (the measurement core checks g_cancel between
// samples and inside every wait), tears its testbeds down and exits 130 without a
// result file — or, with --keep-partial, with one marked "partial". A second Ctrl-C
// leaves at once.
void on_sigint(int) {
    if (g_cancel.exchange(true)) std::_Exit(130);
}

/// Marks a result document as cut short by Ctrl-C (--keep-partial).
void mark_partial(nlohmann::json& doc) {
    doc["partial"] = true;
    doc["notes"].push_back("partial: interrupted by SIGINT; records hold the repetitions finished before it");
}

template <class Range>
std::vector<std::string> names_of(const Range& values) {
    std::vector<std::string> names;
    for (auto v : values) names.emplace_back(to_string(v));
    return names;
}
template <class Enum>
std::vector<std::string> names_of(std::initializer_list<Enum> values) {
    return names_of<std::initializer_list<Enum>>(values);
}

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    return names;
}

/// The enumerated options of `run` (and --format): the one list the parser checks
/// against and `lwbench list` prints.
const std::vector<option_choices>& run_choices() {
    static const std::vector<option_choices> choices = [] {
        auto inputs = names_of(k_input_modes);
        inputs.emplace_back("auto");
        return std::vector<option_choices>{
            {"--scenario", scenario_names(), ""},
            {"--api", api_names(), ""},
            {"--mode", names_of(k_threading_modes), ""},
            {"--input-mode", inputs,
             "auto: inline with core_locking, mailbox with message_passing (as lwIP's builds), combining with "
             "combining"},
            {"--mailbox", names_of(k_mailbox_kinds),
             ""},
            {"--lock", names_of({lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex}), ""},
            {"--design", [] {
                 auto names = design_names();
                 names.emplace_back("default");
                 return names;
             }(),
             "a threading mode with the kind it contends on, in place of --mode/--input-mode/--mailbox/--lock "
             "(input: the mode's pair); default: the default of each mode and the best-known variants (what "
             "`lwbench crossover` compares): " + [] {
                 std::string names;
                 for (const auto& n : default_design_names())
                     names += (names.empty() ? "" : "; ") + n + ": " + find_design(n)->why;
                 return names;
             }()},
            {"--pinning", names_of({pinning::none, pinning::same_core, pinning::separate_cores}),
             "same_core: every thread on CPU 0; separate_cores: the tcpip thread on CPU 0, application threads on "
             "the others"},
            {"--primitive", primitive_names(), "for --scenario primitive (default: all)"},
            {"--netif", names_of(all_netif_kinds()),
             "tap: a TAP link with the Linux kernel as the peer, in the namespace `scripts/netns.sh up` made "
             "(round_trip, throughput, delivery_latency; needs root)"},
            {"--sched", names_of(k_sched_policies),
             "fifo: SCHED_FIFO, the tcpip thread above the application threads, as on an RTOS (needs CAP_SYS_NICE "
             "or RLIMIT_RTPRIO; exit 2 where not permitted)"},
            {"--format", output_format_names(), "what stdout carries"},
        };
    }();
    return choices;
}

/// Adds an enumerated list option ("a,b" or repeated) checked against run_choices().
CLI::Option* add_choice_list(CLI::App& command, const std::string& option, std::vector<std::string>& values,
                             const std::string& what, const std::string& help) {
    const auto& choices = run_choices();
    const auto it = std::find_if(choices.begin(), choices.end(), [&](const auto& c) { return c.option == option; });
    return command.add_option(option, values, help)->delimiter(',')->check(one_of(what, it->values));
}

/// Adds --sched (one policy, default other) checked against run_choices().
CLI::Option* add_sched_option(CLI::App& command, std::string& policy) {
    const auto& choices = run_choices();
    const auto it = std::find_if(choices.begin(), choices.end(), [](const auto& c) { return c.option == "--sched"; });
    return command.add_option("--sched", policy, "scheduling policy of the tcpip and application threads; " + it->note)
        ->check(one_of("scheduling policy", it->values));
}

CLI::Option* add_format_option(CLI::App& command, std::string& format) {
    return command.add_option("--format", format, "what stdout carries: table, json (the result document), csv, markdown")
        ->check(one_of("format", output_format_names()));
}

CLI::Validator label_validator() {
    return CLI::Validator(
        [](std::string& label) -> std::string {
            const auto problem = label_problem(label);
            return problem ? "label '" + label + "' " + *problem : std::string();
        },
        "NAME");
}

/// "lwbench 0.1.0 (git 0123abcd…, uncommitted changes)": the version and the source
/// revision result files record.
std::string version_text() {
    const auto& git = source_git_state();
    std::string text = "lwbench " LWBENCH_VERSION " (git " + git.revision;
    if (git.dirty && *git.dirty) text += ", uncommitted changes";
    return text + ")";
}

/// Exits with a usage error unless results can be written to `dir` (checked before
/// anything is measured, so a bad --out-dir never costs a run).
void require_output_dir(const fs::path& dir) {
    if (auto problem = output_dir_problem(dir)) usage_error("--out-dir: " + *problem);
}

template <class Enum, class Parse>
std::vector<Enum> parsed(const std::vector<std::string>& names, Parse parse) {
    std::vector<Enum> out;
    for (const auto& n : names) out.push_back(*parse(n));  // the parser has checked every name
    return out;
}

fs::path default_results_dir() { return fs::path(LWBENCH_SOURCE_DIR) / "results"; }

std::string command_line(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
    return s;
}

void progress_line(const std::string& s) { std::cerr << "lwbench: " << s << "\n"; }

/// Loss is never silent: one warning per record that lost datagrams, with the reasons.
void warn_about_loss(const std::vector<record>& recs) {
    for (const auto& r : recs)
        if (auto w = loss_warning(r)) std::cerr << "lwbench: warning: " << *w << "\n";
}

// ---- demo: the zero-copy loopback and every threading mode, with counters ---------

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
            pbuf* p = pbuf_alloc(s, pbuf_layer::transport, size, pbuf_type::pool);
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
    fmt::print("socket API, same traffic in every threading mode (sender and receiver threads):\n");
    for (auto mode : k_threading_modes) {
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
        std::string drops;
        for (const auto& [reason, n] : s.st().drops_by_name()) drops += fmt::format("{}{} {}", drops.empty() ? "" : ", ", reason, n);
        fmt::print("  {:<16} sent {} received {} dropped {}{}  {:.2f} µs/send  context switches per call: {} (perf), {:.2f} "
                   "(getrusage)  copies/datagram {:.2f}  tcpip-thread API messages {}\n",
                   to_string(mode), sent, received, s.st().dropped_total(), drops.empty() ? "" : " (" + drops + ")",
                   static_cast<double>(t1 - t0) / 1e3 / static_cast<double>(count),
                   perf_cs, static_cast<double>(cs1 - cs0) / static_cast<double>(count),
                   static_cast<double>(s.st().payload_copies.get()) / static_cast<double>(std::max(1L, sent)),
                   s.st().tcpip_msgs_api.get());
        lwip_close(s, a);
        lwip_close(s, b);
    }
    fmt::print("\nWhat this shows:\n"
               "  - sent: sendto() calls that succeeded; received: datagrams the receiving thread read; dropped: what\n"
               "    the stack discarded, by reason. UDP has no flow control: when the sender outruns the receiving\n"
               "    thread, the receive queue fills and further datagrams are dropped (recv_queue_full), as in lwIP.\n"
               "    Core locking lets the sender run the whole send and delivery path itself, so it can outrun the\n"
               "    receiver; message passing hands every call to the tcpip thread, which paces the sender.\n"
               "  - context switches per call count every thread (sender, receiver and tcpip thread), so they\n"
               "    include the receiver waking up; message passing adds the two hand-offs of every call.\n"
               "  - copies/datagram: the socket API copies once on sendto (user buffer into a pbuf).\n\n");
    return 0;
}


}  // namespace

int main(int argc, char** argv) {
    // profile, compare and report are Python's: everything after the name goes there untouched.
    if (argc >= 2) {
        const auto& delegated = python_commands();
        if (std::find(delegated.begin(), delegated.end(), argv[1]) != delegated.end())
            return exec_python_command(argv[1], argc, argv);
    }
    CLI::App app{"lwbench — what thread safety costs in an lwIP-style TCP/IP stack"};
    app.option_defaults()->always_capture_default();
    app.require_subcommand(1);
    app.set_version_flag("--version", std::function<std::string()>(version_text), "print the version and git revision, then exit");
    app.footer("Exit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted.\n\nExamples:\n"
               "  lwbench reproduce\n  lwbench run --scenario send_latency --api socket,raw --mode "
               "message_passing,core_locking --pinning same_core --format csv > points.csv\n  lwbench list");
    install_failure_message(app, python_commands(), output_format_names());

    // ---- list
    auto* list = app.add_subcommand("list", "Scenario kinds, their parameters and the accepted values");
    std::string l_format = "table";
    add_format_option(*list, l_format);

    // ---- run
    auto* run = app.add_subcommand("run", "Measure one scenario point or a sweep (every combination of the lists)");
    std::vector<std::string> scen{"send_latency"}, apis{"socket"}, modes{"message_passing", "core_locking"},
        inputs{"auto"}, mboxes{"mutex_cv"}, locks{"std_mutex"}, pins{"none"}, prims, netifs{"loopback"};
    tap_link tap;
    std::vector<long> sizes{1458}, threads{1}, core_works{0};
    std::vector<std::string> designs;
    int reps = 5;
    long ops = 20000, warmup = 2000;
    unsigned seed = 1;
    bool no_hw = false, no_save = false, quiet = false;
    std::string out_dir = default_results_dir().string(), label = "run", format = "table";
    add_choice_list(*run, "--scenario", scen, "scenario", "scenario kinds (comma-separated list; see `lwbench list`)");
    add_choice_list(*run, "--api", apis, "API", "APIs");
    add_choice_list(*run, "--mode", modes, "mode", "threading modes");
    add_choice_list(*run, "--input-mode", inputs, "input mode",
                    "input modes; auto: inline with core_locking, mailbox with message_passing (as lwIP's builds), "
                    "combining with combining");
    add_choice_list(*run, "--mailbox", mboxes, "mailbox kind", "mailbox kinds");
    add_choice_list(*run, "--lock", locks, "lock kind", "core lock kinds");
    add_choice_list(*run, "--design", designs, "design",
                    "designs (mode/kind, see `lwbench list`) in place of the product of --mode, --input-mode, "
                    "--mailbox and --lock");
    run->add_option("--core-work", core_works,
                    "added work inside the core: iterations of a calibrated busy loop per packet the stack sends, "
                    "run in core context inside the sending call (0: none; the environment block gives the ns per "
                    "iteration)")
        ->delimiter(',')
        ->check(whole_number_in("--core-work", 0, k_max_core_work_iterations));
    run->add_option("--size", sizes,
                    "UDP payload bytes (max 1472 on the 1500-byte loopback MTU), or TCP bytes per write / request "
                    "(max 65536)")
        ->delimiter(',')
        ->check(whole_number_in("--size", 1, 65536));
    run->add_option("--threads", threads,
                    "application sender threads (throughput), or parallel connections with a sender thread each "
                    "(bulk_tcp)")
        ->delimiter(',')
        ->check(whole_number_in("--threads", 1, 64));
    add_choice_list(*run, "--pinning", pins, "pinning",
                    "same_core: every thread on CPU 0; separate_cores: the tcpip thread on CPU 0, the application "
                    "threads on the others");
    add_choice_list(*run, "--primitive", prims, "primitive", "for --scenario primitive (empty: all)");
    add_choice_list(*run, "--netif", netifs, "netif",
                    "the link: loopback (in-process), tap (the kernel as the peer across a TAP link; run "
                    "`scripts/netns.sh up` first, as root)");
    run->add_option("--netns", tap.netns, "--netif tap: the namespace holding the TAP (scripts/netns.sh up [NS])");
    run->add_option("--tap-device", tap.ifname, "--netif tap: the TAP device in that namespace");
    std::string sched = "other";
    add_sched_option(*run, sched);
    run->add_option("--repetitions", reps, "timed repetitions per point (interleaved)")->check(CLI::Range(1, 1000));
    run->add_option("--ops", ops, "timed operations per repetition")->check(CLI::Range(1L, 100000000L));
    run->add_option("--warmup", warmup, "untimed operations before each repetition")->check(CLI::Range(0L, 100000000L));
    run->add_option("--seed", seed, "shuffle seed of the interleaving");
    run->add_flag("--no-hw-counters", no_hw, "do not try hardware perf counters");
    run->add_option("--out-dir", out_dir, "where result files go (checked before measuring)");
    run->add_option("--label", label, "label in the result file name ([A-Za-z0-9._-])")->check(label_validator());
    run->add_flag("--no-save", no_save, "print only, write no result file (e.g. under perf record)");
    run->add_flag("--quiet", quiet, "no progress and no \"wrote\" lines on stderr");
    add_format_option(*run, format);
    bool keep_partial = false;
    run->add_flag("--keep-partial", keep_partial, "on Ctrl-C, still write a result file (marked partial) with what was measured");

    // ---- reproduce
    auto* repro = app.add_subcommand("reproduce", "The seed comparison: 1458-byte UDP send, socket/netconn/raw, both modes, vs 2007's 204/67/74 µs");
    int r_reps = 5;
    long r_ops = 20000, r_warm = 2000;
    bool r_no_lwip = false, r_no_save = false;
    std::string r_out = out_dir, r_format = "table";
    repro->add_option("--repetitions", r_reps, "interleaved rounds")->check(CLI::Range(1, 1000));
    repro->add_option("--ops", r_ops, "timed sends per repetition")->check(CLI::Range(1L, 100000000L));
    repro->add_option("--warmup", r_warm, "untimed sends first")->check(CLI::Range(0L, 100000000L));
    repro->add_flag("--no-lwip", r_no_lwip, "skip the real-lwIP rows");
    std::string r_sched = "other";
    add_sched_option(*repro, r_sched);
    repro->add_flag("--no-save", r_no_save, "print only");
    repro->add_option("--out-dir", r_out, "where result files go (checked before measuring)");
    add_format_option(*repro, r_format);
    std::string r_target;
    repro->add_option("--target", r_target, "also run the seed points on an emulated target: " + target_names())
        ->check([](const std::string& t) { return parse_target(t) ? std::string() : "unknown target '" + t + "' (choose from: " + target_names() + ")"; });
    bool r_keep_partial = false;
    repro->add_flag("--keep-partial", r_keep_partial, "on Ctrl-C, still write a result file (marked partial) with what was measured");

    // ---- demo
    auto* demo = app.add_subcommand("demo", "Send datagrams through the zero-copy loopback; print counters and context switches per call in both modes");
    long d_count = 10000;
    std::size_t d_size = 1458;
    demo->add_option("--count", d_count, "datagrams")->check(CLI::Range(1L, 10000000L));
    demo->add_option("--size", d_size, "payload bytes")->check(CLI::Range(std::size_t{1}, std::size_t{1472}));
    std::string d_pcap;
    demo->add_option("--pcap", d_pcap, "also write the raw-API traffic to this pcap file (LINKTYPE_IPV4)");

    // ---- the Python subcommands: listed for --help, dispatched above before parsing.
    app.add_subcommand("profile", "Profile a scenario with perf: lwbench profile [--both-modes] -- <run flags> "
                                  "(python3 -m lwbench profile; see its -h)");
    app.add_subcommand("compare", "Compare two result files: lwbench compare BASE NEW [--threshold P] [--format F]; "
                                  "exits non-zero when a point is slower (python3 -m lwbench compare; see its -h)");
    app.add_subcommand("report", "Write one self-contained HTML page: lwbench report RESULT... [-o FILE] "
                                 "(python3 -m lwbench report; see its -h)");
    app.add_subcommand("crossover", "The crossover map: throughput of each design over threads, payload, core work "
                                    "and pinning, into results/<stamp>_<rev>_crossover/ with its figure "
                                    "(python3 -m lwbench crossover; see its -h)");

    if (const auto status = parse_command_line(app, argc, argv)) return *status;
    std::signal(SIGINT, on_sigint);

    try {
        if (*list) {
            print_catalog(parse_output_format(l_format), run_choices(), online_cpus());
            return 0;
        }
        if (*demo) return cmd_demo(d_count, d_size, d_pcap);
        if (*run) {
            std::vector<point> points;
            // The stack configurations to sweep: the named designs, or every combination of
            // mode, input mode, mailbox and lock.
            std::vector<stack_config> config_v;
            if (!designs.empty()) {
                for (const char* option : {"--mode", "--input-mode", "--mailbox", "--lock"})
                    if (run->count(option) > 0)
                        usage_error(std::string("--design names the mode and kinds itself: leave out ") + option);
                for (const auto& name : designs)
                    if (name == "default")
                        for (const auto& d : default_design_names()) config_v.push_back(find_design(d)->config());
                    else
                        config_v.push_back(find_design(name)->config());  // add_choice_list checked the name
            } else {
                for (auto m : parsed<threading_mode>(modes, parse_threading_mode))
                    for (const auto& in : inputs)
                        for (auto mb : parsed<mailbox_kind>(mboxes, parse_mailbox_kind))
                            for (auto lk : parsed<lock_kind>(locks, parse_lock_kind)) {
                                stack_config c;
                                c.mode = m;
                                c.input = in == "auto" ? paired_input_mode(m) : *parse_input_mode(in);
                                c.mailbox = mb;
                                c.lock = lk;
                                config_v.push_back(c);
                            }
            }
            const auto mbox_v = parsed<mailbox_kind>(mboxes, parse_mailbox_kind);
            const auto lock_v = parsed<lock_kind>(locks, parse_lock_kind);
            const auto pin_v = parsed<pinning>(pins, parse_pinning);
            const auto netif_v = parsed<netif_kind>(netifs, parse_netif_kind);
            auto prim_v = prims;
            if (prim_v.empty()) prim_v = primitive_names();
            std::set<std::string> seen;
            for (const auto& s : scen)
                for (long size : sizes)
                    for (auto pin : pin_v) {
                        if (s == "primitive") {
                            if (std::any_of(core_works.begin(), core_works.end(), [](long w) { return w != 0; }))
                                usage_error("--core-work adds work to the packets the stack sends: not for primitives");
                            for (const auto& prim : prim_v)
                                for (auto mb : mbox_v)
                                    for (auto lk : lock_v) {
                                        point p;
                                        p.scenario = scenario_kind::primitive;
                                        p.primitive = *parse_primitive_kind(prim);  // add_choice_list checked it
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
                        for (const auto& api : apis)
                            for (const auto& config : config_v)
                                for (long t : threads)
                                    for (auto link : netif_v)
                                        for (long work : core_works) {
                                            point p;
                                            p.scenario = *parse_scenario_kind(s);  // add_choice_list checked
                                            p.api = *parse_api_kind(api);          // both names
                                            p.cfg.mode = config.mode;
                                            p.cfg.input = config.input;
                                            p.cfg.mailbox = config.mailbox;
                                            p.cfg.lock = config.lock;
                                            p.payload = static_cast<std::size_t>(size);
                                            p.threads = static_cast<int>(t);
                                            p.pin = pin;
                                            p.netif = link;
                                            p.core_work = static_cast<std::uint64_t>(work);
                                            if (seen.insert(p.label()).second) points.push_back(p);
                                        }
                    }
            const sched_policy policy = *parse_sched_policy(sched);  // add_sched_option checked it
            for (auto& p : points) p.cfg.sched = policy;
            for (const auto& p : points)
                if (auto problem = validate(p)) usage_error(*problem + " [" + p.label() + "]");
            if (std::any_of(points.begin(), points.end(), [](const point& p) { return p.netif == netif_kind::tap; }))
                if (auto problem = tap_link_problem(tap)) usage_error("--netif tap: " + *problem);
            if (!no_save) require_output_dir(out_dir);
            run_options o;
            o.repetitions = reps;
            o.ops = ops;
            o.warmup = warmup;
            o.seed = seed;
            o.hardware_counters = !no_hw;
            o.cancel = &g_cancel;
            o.keep_partial = keep_partial;
            o.tap = tap;
            if (!quiet) o.progress = progress_line;
            if (!quiet)
                progress_line(fmt::format("{} point(s) x {} repetition(s), interleaved; clock overhead {:.1f} ns per sample",
                                          points.size(), reps, calibrate_clock().overhead_ns));
            auto context = begin_run();
            context.warmup_ops = warmup;
            context.seed = seed;
            // The round trip's reference: the kernel's own UDP loopback, once per size and pinning.
            std::vector<external_point> references;
            // (Over the TAP, the kernel is already the peer: the reference is for the loopback.)
            if (std::find(scen.begin(), scen.end(), to_string(scenario_kind::round_trip)) != scen.end() &&
                std::find(netif_v.begin(), netif_v.end(), netif_kind::loopback) != netif_v.end())
                for (long size : sizes)
                    for (auto pin : pin_v)
                        references.push_back(kernel_round_trip_point(static_cast<std::size_t>(size), pin, policy, o));
            std::vector<record> recs;
            for (auto& pr : run_points(points, o, references)) recs.push_back(std::move(pr.rec));
            auto doc = make_document(label, command_line(argc, argv), recs, {}, context);
            if (g_cancel.load()) mark_partial(doc);
            print_run(parse_output_format(format), doc, recs);
            warn_about_loss(recs);
            if (!no_save) {
                const auto path = save_results(out_dir, doc, recs);
                if (!quiet) progress_line("wrote " + path.string());
            }
            if (g_cancel.load()) throw cancelled();  // partial: exit 130 all the same
            return 0;
        }
        if (*repro) {
            if (!r_no_save) require_output_dir(r_out);
            reproduce_options o;
            o.sched = *parse_sched_policy(r_sched);  // add_sched_option checked it
            if (auto why = sched_unavailable(o.sched)) usage_error("--sched " + r_sched + ": " + *why);
            o.repetitions = r_reps;
            o.ops = r_ops;
            o.warmup = r_warm;
            o.with_lwip = !r_no_lwip;
            o.cancel = &g_cancel;
            o.keep_partial = r_keep_partial;
            o.progress = progress_line;
            progress_line(fmt::format("reproducing the 2007 comparison: {} interleaved rounds x {} sends; clock overhead {:.1f} ns per sample",
                                      r_reps, r_ops, calibrate_clock().overhead_ns));
            auto context = begin_run();
            context.warmup_ops = o.warmup;
            context.seed = o.seed;
            auto res = reproduce(o);
            if (!r_target.empty() && !g_cancel.load())
                add_target_run(res, {.target = *parse_target(r_target), .driver = {}, .build_dir = {}, .progress = progress_line});
            auto doc = make_document("reproduce", command_line(argc, argv), res.records, res.notes, context);
            if (g_cancel.load()) mark_partial(doc);
            print_reproduce(parse_output_format(r_format), doc, res.records, res.report);
            warn_about_loss(res.records);
            if (!r_no_save) {
                const auto path = save_results(r_out, doc, res.records);
                const auto md = write_new_file(r_out, path.stem().string(), ".md",
                                               "# lwbench reproduce\n\nFrom `" + path.filename().string() + "`.\n\n" + res.report);
                progress_line("wrote " + path.string());
                progress_line("wrote " + md.string());
            }
            if (g_cancel.load()) throw cancelled();  // partial: exit 130 all the same
            return 0;
        }
    } catch (const cancelled&) {
        std::cerr << (g_cancel.load() && (keep_partial || r_keep_partial) ? "lwbench: interrupted; the file above is partial\n"
                                                                         : "lwbench: interrupted; nothing was written\n");
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
