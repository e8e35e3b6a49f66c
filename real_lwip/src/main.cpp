// main.cpp — the real-lwIP runner's command line: parses the points, brings lwIP up,
// measures every combination, prints one JSON object on stdout (see runner.hpp).
#include <csignal>

#include "lwbench/sched.hpp"
#include "runner.hpp"

namespace {

using namespace lwbench::lwip_runner;

extern "C" void on_sigint(int) { g_cancel.store(true); }

extern "C" void on_watchdog(int) {
    constexpr char msg[] = "lwip_runner: error: watchdog fired: a scenario point made no progress (lost datagram?)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

template <class T>
bool all_in(const std::vector<T>& values, const std::vector<T>& allowed) {
    return std::all_of(values.begin(), values.end(),
                       [&](const T& v) { return std::find(allowed.begin(), allowed.end(), v) != allowed.end(); });
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    CLI::App app{"Measures real lwIP " + k_version + " (" +
                 (LWIP_TCPIP_CORE_LOCKING ? std::string("core locking") : std::string("message passing")) + ", " +
                 hx::to_string(k_port) + " port) with lwbench's scenarios; prints one JSON object on stdout."};
    app.add_option("--scenario", opt.scenarios,
                   "send_latency | round_trip | throughput | bulk_tcp | request_response_tcp | connection_rate_tcp "
                   "(comma list)")
        ->delimiter(',');
    app.add_option("--api", opt.apis, "socket | netconn | raw (comma list)")->delimiter(',');
    app.add_option("--size", opt.sizes, "UDP payload bytes, or TCP bytes per write / request (comma list)")
        ->delimiter(',');
    app.add_option("--threads", opt.threads,
                   "application threads (comma list): throughput's sender threads, or bulk_tcp's parallel "
                   "connections (a sender thread each, 1.." +
                       std::to_string(hx::k_max_bulk_tcp_connections) + ")")
        ->delimiter(',');
    app.add_option("--pinning", opt.pinnings, "none | same_core | separate_cores (comma list)")->delimiter(',');
    app.add_option("--variant", opt.variants, "zero_copy | stock_loopif (comma list)")->delimiter(',');
    app.add_option("--repetitions", opt.repetitions, "timed repetitions per point (no perf counters open)")
        ->check(CLI::Range(0, 1000));
    app.add_option("--counted-repetitions", opt.counted_repetitions,
                   "repetitions with perf counters open, interleaved with the timed ones (default: 1 per 5 timed)")
        ->check(CLI::Range(0, 1000));
    app.add_flag("--emit-repetitions", opt.emit_repetitions,
                 "add every repetition's samples and counts to its record (repetition_data; lwbench reproduce uses it)");
    app.add_option("--ops", opt.ops, "operations per repetition (per thread for throughput)")
        ->check(CLI::Range(1L, 100000000L));
    app.add_option("--warmup", opt.warmup, "untimed operations before the first repetition")
        ->check(CLI::Range(0L, 100000000L));
    app.add_flag("!--no-hw-counters", opt.hw_counters, "do not open hardware perf counters");
    app.add_option("--sched", opt.sched,
                   "other | fifo: SCHED_FIFO, the tcpip thread above the application threads, as on an RTOS "
                   "(needs CAP_SYS_NICE or RLIMIT_RTPRIO; exit 2 where not permitted)")
        ->check(CLI::IsMember({"other", "fifo"}));
    app.add_option("--watchdog", opt.watchdog_s, "seconds one repetition may take before the run aborts")
        ->check(CLI::Range(1u, 86400u));
    try {
        app.parse(argc, argv);
        if (!all_in(opt.scenarios, {"send_latency", "round_trip", "throughput", "bulk_tcp", "request_response_tcp",
                                    "connection_rate_tcp"}))
            throw CLI::ValidationError("--scenario",
                                       "must be send_latency, round_trip, throughput, bulk_tcp, request_response_tcp "
                                       "or connection_rate_tcp");
        if (!all_in(opt.apis, {"socket", "netconn", "raw"}))
            throw CLI::ValidationError("--api", "must be socket, netconn or raw");
        if (!all_in(opt.pinnings, {"none", "same_core", "separate_cores"}))
            throw CLI::ValidationError("--pinning", "must be none, same_core or separate_cores");
        if (!all_in(opt.variants, {"zero_copy", "stock_loopif"}))
            throw CLI::ValidationError("--variant", "must be zero_copy or stock_loopif");
        const bool only_tcp = std::all_of(opt.scenarios.begin(), opt.scenarios.end(),
                                          [](const std::string& s) { return hx::is_tcp(*hx::parse_scenario_kind(s)); });
        const int max_size = only_tcp ? k_max_tcp_write : k_max_payload;
        for (int s : opt.sizes)
            if (s < 1 || s > max_size)
                throw CLI::ValidationError("--size", "must be 1.." + std::to_string(max_size) +
                                                         " (UDP payload; TCP writes may be up to " +
                                                         std::to_string(k_max_tcp_write) + ")");
        for (const auto& s : opt.scenarios)
            if (s == "connection_rate_tcp" || s == "request_response_tcp")
                for (int size : opt.sizes)
                    if (size > 0xffff)
                        throw CLI::ValidationError("--size", s + " takes at most 65535 bytes per request");
        for (int t : opt.threads)
            if (t < 1 || t > 64) throw CLI::ValidationError("--threads", "must be 1..64");
        // --threads applies to the kinds that take it (throughput, bulk_tcp); the
        // others always run one application thread (round_trip: plus the ponger).
        const bool any_takes_threads = std::any_of(opt.scenarios.begin(), opt.scenarios.end(), [](const std::string& s) {
            return hx::takes_threads(*hx::parse_scenario_kind(s));
        });
        const int most_threads = *std::max_element(opt.threads.begin(), opt.threads.end());
        if (!any_takes_threads && most_threads != 1)
            throw CLI::ValidationError("--threads", "only throughput and bulk_tcp take more than one thread");
        for (const auto& s : opt.scenarios)
            if (s == "bulk_tcp" && most_threads > hx::k_max_bulk_tcp_connections)
                throw CLI::ValidationError("--threads", "bulk_tcp takes at most " +
                                                            std::to_string(hx::k_max_bulk_tcp_connections) +
                                                            " connections (lwIP's pools are sized for that many)");
        if (auto why = lwbench::sched_unavailable(*lwbench::parse_sched_policy(opt.sched)))
            throw CLI::ValidationError("--sched", opt.sched + ": " + *why);
    } catch (const CLI::Success&) {
        std::printf("%s", app.help().c_str());
        return 0;
    } catch (const CLI::Error& e) {
        std::fprintf(stderr, "lwip_runner: %s\n(see --help)\n", e.what());
        return 2;
    }

    if (opt.repetitions == 0 && opt.counted_repetitions == 0) {
        std::fprintf(stderr, "lwip_runner: --repetitions and --counted-repetitions are both 0: nothing to measure\n");
        return 2;
    }
    std::signal(SIGALRM, on_watchdog);
    std::signal(SIGINT, on_sigint);
    use_sched_policy(opt.sched);
    point_runner run(opt);  // brings lwIP up

    json records = json::array();
    for (const auto& scenario : opt.scenarios)
        for (const auto& variant : opt.variants)
            for (const auto& api : opt.apis)
                for (const auto& pinning : opt.pinnings)
                    for (int size : opt.sizes)
                        for (int threads : (hx::takes_threads(*hx::parse_scenario_kind(scenario))
                                                ? opt.threads
                                                : std::vector<int>{1})) {
                            const point pt{*hx::parse_scenario_kind(scenario), *hx::parse_api_kind(api), pinning,
                                           variant, size, threads};
                            scenario_result res;
                            try {
                                res = run.run(pt);
                            } catch (const hx::cancelled&) {
                                std::fprintf(stderr, "lwip_runner: interrupted; no output\n");
                                std::fflush(stderr);
                                std::_Exit(130);  // the tcpip thread never returns (see the end of main)
                            }
                            const hx::record& rec = res.rec;
                            std::fprintf(stderr, "lwip_runner: %s %s: p50 %.0f ns, %.2f context switches/op, %ld errors\n",
                                         k_stack.c_str(), rec.label().c_str(), rec.latency.p50,
                                         rec.counters.count("context_switches") &&
                                                 rec.counters.at("context_switches").per_op
                                             ? *rec.counters.at("context_switches").per_op
                                             : -1.0,
                                         rec.errors);
                            json j = hx::to_json(rec);
                            // The runner does not measure lwIP's copies/allocations per op
                            // (lwbench's lwipopts has LWIP_STATS=0): those three fields are
                            // null and the reason is given here; sent/received/dropped are
                            // the sink's own count. (record_from_json ignores the extra key.)
                            if (j.contains("stack_counts") && j["stack_counts"].is_object())
                                j["stack_counts"]["per_op_status"] =
                                    "not available: payload_copies_per_op, heap_allocs_per_op and pool_allocs_per_op "
                                    "are not measured for real lwIP (only sent/received/dropped, by the sink)";
                            if (opt.emit_repetitions) {
                                j["repetition_data"] = json::array();
                                for (const auto& r : res.reps) j["repetition_data"].push_back(hx::to_json(r));
                            }
                            records.push_back(std::move(j));
                        }

    const json out = {{"lwip_version", k_version},
                      {"stack", k_stack},
                      {"source", LWBENCH_LWIP_SOURCE},
                      {"records", records}};
    const std::string text = out.dump();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    // The tcpip thread never returns; leave without running static destructors
    // under its feet.
    std::_Exit(0);
}
