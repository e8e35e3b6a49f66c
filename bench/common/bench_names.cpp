// bench_names.cpp — readable benchmark names: the value names of integer args, the
// reporters that write them (console and JSON; Google Benchmark's deprecated CSV
// reporter is left as it is), --benchmark_list_tests, and the filter translation
// (see bench_common.hpp).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include <unistd.h>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace lwbench::gbench {

const std::vector<std::string>& arg_value_names(std::string_view arg) {
    static const std::map<std::string, std::vector<std::string>, std::less<>> names = {
        {k_arg_mode, {mode_name(k_mode_mp), mode_name(k_mode_cl)}},
        {k_arg_lock, {"std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex"}},
    };
    static const std::vector<std::string> none;
    const auto it = names.find(arg);
    return it == names.end() ? none : it->second;
}

std::string readable_args(std::string_view args) {
    std::string out;
    std::size_t start = 0;
    while (start <= args.size()) {
        const std::size_t end = std::min(args.find('/', start), args.size());
        const std::string_view part = args.substr(start, end - start);
        const std::size_t colon = part.find(':');
        std::string piece(part);
        if (colon != std::string_view::npos) {
            const auto& names = arg_value_names(part.substr(0, colon));
            const std::string value(part.substr(colon + 1));
            char* rest = nullptr;
            const long index = std::strtol(value.c_str(), &rest, 10);
            if (!names.empty() && rest && *rest == '\0' && !value.empty() && index >= 0 &&
                static_cast<std::size_t>(index) < names.size())
                piece = std::string(part.substr(0, colon + 1)) + names[static_cast<std::size_t>(index)];
        }
        if (!out.empty() || start > 0) out += '/';
        out += piece;
        if (end == args.size()) break;
        start = end + 1;
    }
    return out;
}

std::string internal_args(std::string_view text) {
    std::string out(text);
    for (const char* arg : {k_arg_mode, k_arg_lock}) {
        const auto& names = arg_value_names(arg);
        for (std::size_t i = 0; i < names.size(); ++i)
            out = std::regex_replace(out, std::regex(std::string(arg) + ":" + names[i]),
                                     std::string(arg) + ":" + std::to_string(i));
    }
    return out;
}

namespace {

/// A Google Benchmark reporter that writes readable names (readable_args) and widens the
/// name column by what the value names add.
template <class Base>
class readable_names : public Base {
public:
    using Base::Base;
    bool ReportContext(const benchmark::BenchmarkReporter::Context& context) override {
        benchmark::BenchmarkReporter::Context wider = context;
        wider.name_field_width += 24;  // "mode:1" -> "mode:message_passing", "lock:2" -> "lock:tbb_queuing_mutex"
        return Base::ReportContext(wider);
    }
    void ReportRuns(const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
        std::vector<benchmark::BenchmarkReporter::Run> named = runs;
        for (auto& run : named) run.run_name.args = readable_args(run.run_name.args);
        Base::ReportRuns(named);
    }
};

bool truthy(const std::string& v) { return v == "true" || v == "yes" || v == "1" || v == "always"; }

/// format: "json" or the console; color / tabular: the values of --benchmark_color and
/// --benchmark_counters_tabular (Google Benchmark's meanings; color "auto" = stdout is a terminal).
std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(std::string_view format, const std::string& color = {},
                                                            const std::string& tabular = {}) {
    if (format == "json") return std::make_unique<readable_names<benchmark::JSONReporter>>();
    const bool coloured = (color.empty() || color == "auto") ? isatty(STDOUT_FILENO) != 0 : truthy(color);
    int options = benchmark::ConsoleReporter::OO_None;
    if (coloured) options |= benchmark::ConsoleReporter::OO_Color;
    if (truthy(tabular)) options |= benchmark::ConsoleReporter::OO_Tabular;
    return std::make_unique<readable_names<benchmark::ConsoleReporter>>(
        static_cast<benchmark::ConsoleReporter::OutputOptions>(options));
}

std::string flag_value(int argc, char** argv, std::string_view flag) {
    std::string value;
    const std::string prefix = "--" + std::string(flag) + "=";
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]).substr(0, prefix.size()) == prefix) value = argv[i] + prefix.size();
    return value;
}

/// A boolean flag as Google Benchmark reads it: "--flag" alone, or "--flag=<true|yes|1|…>".
bool bool_flag(int argc, char** argv, std::string_view flag) {
    bool on = false;
    const std::string bare = "--" + std::string(flag);
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == bare) on = true;
    const std::string value = flag_value(argc, argv, flag);
    return value.empty() ? on : truthy(value);
}

/// --benchmark_list_tests: Google Benchmark prints the names itself (no reporter's runs
/// to rename), into the display reporter's stream. Capture that stream and print each
/// name with readable args.
std::size_t list_with_readable_names(benchmark::BenchmarkReporter& display) {
    std::ostringstream names;
    std::ostream& out = display.GetOutputStream();
    display.SetOutputStream(&names);
    const std::size_t count = benchmark::RunSpecifiedBenchmarks(&display);
    display.SetOutputStream(&out);
    std::istringstream lines(names.str());
    for (std::string line; std::getline(lines, line);) out << readable_args(line) << "\n";
    out.flush();
    return count;
}

}  // namespace

std::size_t run_with_readable_names(int argc_before, char** argv_before) {
    // Google Benchmark's Initialize consumed these flags; read them from the original argv.
    const std::string display = flag_value(argc_before, argv_before, "benchmark_format");
    const std::string out = flag_value(argc_before, argv_before, "benchmark_out");
    const std::string out_format = flag_value(argc_before, argv_before, "benchmark_out_format");
    benchmark::SetBenchmarkFilter(internal_args(benchmark::GetBenchmarkFilter()));
    if (display == "csv" || out_format == "csv") {
        // Google Benchmark deprecates its CSV reporter; it is used as is, with numeric args.
        std::fprintf(stderr, "bench: CSV output keeps Google Benchmark's numeric arg values (mode:0/1, lock:0/1/2)\n");
        return benchmark::RunSpecifiedBenchmarks();
    }
    auto display_reporter = make_reporter(display.empty() ? "console" : display,
                                          flag_value(argc_before, argv_before, "benchmark_color"),
                                          flag_value(argc_before, argv_before, "benchmark_counters_tabular"));
    if (bool_flag(argc_before, argv_before, "benchmark_list_tests")) return list_with_readable_names(*display_reporter);
    if (out.empty()) return benchmark::RunSpecifiedBenchmarks(display_reporter.get());
    auto file_reporter = make_reporter(out_format.empty() ? "json" : out_format);
    return benchmark::RunSpecifiedBenchmarks(display_reporter.get(), file_reporter.get());
}

}  // namespace lwbench::gbench
