// bench_common.cpp — context, sample cost, percentiles and counters for the
// Google Benchmark binaries (see bench_common.hpp).
#include "bench_common.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/stats.hpp"

#ifndef LWBENCH_SOURCE_DIR
#define LWBENCH_SOURCE_DIR ""
#endif
#ifndef LWBENCH_BUILD_TYPE
#define LWBENCH_BUILD_TYPE "unknown"
#endif
#ifndef LWBENCH_CXX_FLAGS
#define LWBENCH_CXX_FLAGS ""
#endif

namespace lwbench::gbench {

namespace {

std::string fmt_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

}  // namespace

const std::string& git_revision() { return lwbench::harness::source_git_state().revision; }

const std::string& hardware_counter_status() {
    static const std::string status = [] {
        lwbench::harness::perf_counters pc(true);
        for (const auto& c : pc.read())
            if (c.name == "cycles") return c.status;
        return std::string("not available: no cycles event");
    }();
    return status;
}

void add_context(const std::string& binary, const std::vector<std::pair<std::string, std::string>>& extra) {
    const auto& gs = lwbench::harness::source_git_state();
    const std::string dirty = !gs.dirty ? "unknown" : (*gs.dirty ? "true" : "false");
    std::string sw = "ok";
    {
        lwbench::harness::perf_counters pc(false);
        for (const auto& c : pc.read())
            if (c.name == "context_switches") sw = c.status;
    }
    benchmark::AddCustomContext("lwbench_binary", binary);
    benchmark::AddCustomContext("lwbench_git_revision", git_revision());
    benchmark::AddCustomContext("lwbench_git_dirty", dirty);
    benchmark::AddCustomContext("lwbench_source_dir", LWBENCH_SOURCE_DIR);
    benchmark::AddCustomContext("lwbench_build_type", LWBENCH_BUILD_TYPE);
    benchmark::AddCustomContext("lwbench_cxx_flags", LWBENCH_CXX_FLAGS);
    benchmark::AddCustomContext("lwbench_threading_mode_arg",
                                "mode:message_passing / mode:core_locking in names (args 0 / 1 inside Google Benchmark; "
                                "chosen per benchmark at run time)");
    benchmark::AddCustomContext("lwbench_input_mode_pairing",
                                "core_locking->inline, message_passing->mailbox (as lwIP's builds)");
    benchmark::AddCustomContext("lwbench_mailbox_kind", "mutex_cv (stack_config default)");
    benchmark::AddCustomContext("lwbench_lock_kind", "std_mutex (stack_config default)");
    benchmark::AddCustomContext(
        "lwbench_pinning",
        pinning() + (pinning() == "none" ? " (scheduler decides; set LWBENCH_PIN=same_core|separate_cores to pin)"
                                         : " (LWBENCH_PIN: tcpip thread on CPU 0, application threads on CPU " +
                                               std::to_string(app_cpu(0)) + ")"));
    benchmark::AddCustomContext("lwbench_counters_context_switches", sw);
    benchmark::AddCustomContext("lwbench_counters_hardware", hardware_counter_status());
    benchmark::AddCustomContext("lwbench_sample_cost_ns", fmt_double(sample_cost_ns()));
    benchmark::AddCustomContext("lwbench_clock", "std::chrono::steady_clock (CLOCK_MONOTONIC, vDSO)");
    benchmark::AddCustomContext(
        "lwbench_percentiles",
        "p50_ns..max_ns: exact quantiles of the run's samples; a sample is one operation when ops_per_sample is 1, "
        "else the mean of a batch of ops_per_sample operations (percentiles of batch means), batched by the "
        "measurement core so the clock costs <= 5%");
    for (const auto& [k, v] : extra) benchmark::AddCustomContext(k, v);
}

int run_main(int argc, char** argv, const std::string& binary,
             const std::vector<std::pair<std::string, std::string>>& extra_context) {
    const std::vector<char*> original(argv, argv + argc);  // Initialize removes the flags it reads
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    add_context(binary, extra_context);
    run_with_readable_names(static_cast<int>(original.size()), const_cast<char**>(original.data()));
    benchmark::Shutdown();
    return 0;
}

// ---- pinning -------------------------------------------------------------------------------

const std::string& pinning() {
    static const std::string p = [] {
        const char* e = std::getenv("LWBENCH_PIN");
        std::string v = e ? e : "none";
        if (v != "none" && v != "same_core" && v != "separate_cores") {
            std::fprintf(stderr, "LWBENCH_PIN=%s: expected none, same_core or separate_cores\n", v.c_str());
            std::exit(2);
        }
        if (v == "separate_cores" && lwbench::harness::online_cpus() < 2) {
            std::fprintf(stderr, "LWBENCH_PIN=separate_cores needs at least 2 CPUs\n");
            std::exit(2);
        }
        return v;
    }();
    return p;
}

namespace {
const lwbench::harness::cpu_plan& plan() {
    static const auto p = lwbench::harness::cpu_plan::of(*lwbench::harness::parse_pinning(pinning()));
    return p;
}
}  // namespace

int tcpip_cpu() { return plan().tcpip(); }
int app_cpu(int i) { return plan().app(i); }

// ---- samples ------------------------------------------------------------------------------

double sample_cost_ns() {
    static const double cost = [] {
        constexpr std::int64_t n = 200000;
        double best = 1e9;
        for (int round = 0; round < 5; ++round) {
            sampler s;
            s.reset(n, 1);
            const std::int64_t t0 = now_ns();
            for (std::int64_t i = 0; i < n; ++i) {
                s.tick();
                benchmark::ClobberMemory();
            }
            const std::int64_t t1 = now_ns();
            best = std::min(best, static_cast<double>(t1 - t0) / static_cast<double>(n));
        }
        return best;
    }();
    return cost;
}

int choose_batch(double op_ns) { return lwbench::harness::choose_ops_per_sample(op_ns, sample_cost_ns()); }

void sampler::reset(std::int64_t max_ticks, int batch) {
    _batch = std::max(1, batch);
    _inv_batch = 1.0 / static_cast<double>(_batch);
    const auto room = static_cast<std::size_t>(std::max<std::int64_t>(max_ticks, 0) / _batch + 2);
    _samples.assign(room, 0.0);  // zero-filled: the pages are faulted in now, not in the loop
    _size = 0;
    _last = 0;
    _n = _batch - 1;
}

void publish_percentiles(benchmark::State& st, const std::vector<const sampler*>& samplers) {
    std::vector<double> all;
    std::size_t total = 0;
    int batch = 1;
    for (const auto* s : samplers) {
        total += s->size();
        batch = std::max(batch, s->batch());
    }
    all.reserve(total);
    for (const auto* s : samplers) all.insert(all.end(), s->data(), s->data() + s->size());
    if (all.empty()) return;
    const auto sum = lwbench::harness::summarize(all);
    st.counters["p50_ns"] = sum.p50;
    st.counters["p90_ns"] = sum.p90;
    st.counters["p99_ns"] = sum.p99;
    st.counters["p999_ns"] = sum.p999;
    st.counters["max_ns"] = sum.max;
    st.counters["samples"] = static_cast<double>(sum.count);
    st.counters["ops_per_sample"] = batch;
}

// ---- counters -------------------------------------------------------------------------------

counter_window::counter_window()
    : _pc(std::make_unique<lwbench::harness::perf_counters>(hardware_counter_status() == "ok")) {}
counter_window::~counter_window() = default;

std::string counter_window::publish(benchmark::State& st, double ops) const {
    std::string missing;
    if (!(ops > 0)) return missing;
    for (const auto& c : _pc->read()) {
        if (c.total) {
            st.counters[c.name + "_per_op"] = *c.total / ops;
        } else if (c.name == "context_switches" || c.name == "cpu_migrations" || c.name == "task_clock_ns") {
            // Hardware events' absence is in the context once; software ones matter per run.
            if (!missing.empty()) missing += "; ";
            missing += c.name + ": " + c.status;
        }
    }
    return missing;
}

}  // namespace lwbench::gbench
