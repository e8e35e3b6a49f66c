// result_file.cpp — environment capture, JSON/CSV documents, atomic no-clobber writes.
#include "lwbench/harness/result_file.hpp"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include <oneapi/tbb/version.h>

#include "lwbench/harness/timing.hpp"

#ifndef LWBENCH_SOURCE_DIR
#define LWBENCH_SOURCE_DIR ""
#endif
#ifndef LWBENCH_BUILD_TYPE
#define LWBENCH_BUILD_TYPE "unknown"
#endif
#ifndef LWBENCH_CXX_FLAGS
#define LWBENCH_CXX_FLAGS ""
#endif
#ifndef LWBENCH_BENCHMARK_VERSION
#define LWBENCH_BENCHMARK_VERSION "unknown"
#endif
#ifndef LWBENCH_CLI11_VERSION
#define LWBENCH_CLI11_VERSION "unknown"
#endif
#ifndef LWBENCH_FMT_VERSION
#define LWBENCH_FMT_VERSION "unknown"
#endif

namespace lwbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string run_capture(const std::string& cmd) {
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        std::array<char, 256> buf{};
        while (fgets(buf.data(), buf.size(), p)) out += buf.data();
        if (pclose(p) != 0) return {};
    }
    return trim(out);
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto pos = line.find(':');
            if (pos != std::string::npos) return trim(line.substr(pos + 2));
        }
    return "unknown";
}

json read_int_file(const char* path) {
    std::ifstream in(path);
    long v = 0;
    if (in >> v) return v;
    return nullptr;
}

std::string compiler() {
#if defined(__clang__)
    return "Clang " + std::string(__clang_version__);
#elif defined(__GNUC__)
    return "GCC " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
           std::to_string(__GNUC_PATCHLEVEL__);
#else
    return "unknown";
#endif
}

}  // namespace

const git_state& source_git_state() {
    static const git_state state = [] {
        git_state g;
        const std::string src = LWBENCH_SOURCE_DIR;
        if (src.empty()) return g;
        const std::string git = "git -C '" + src + "' ";
        if (auto r = run_capture(git + "rev-parse HEAD 2>/dev/null"); !r.empty()) {
            g.revision = r;
            g.dirty = !run_capture(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
        }
        return g;
    }();
    return state;
}

json capture_environment() {
    utsname u{};
    uname(&u);
    const auto& gs = source_git_state();
    const std::string rev = gs.revision;
    const json dirty = gs.dirty ? json(*gs.dirty) : json(nullptr);
    const auto& ck = calibrate_clock();
    return {
        {"cpu_model", cpu_model()},
        {"cpu_count", online_cpus()},
        {"kernel", std::string(u.sysname) + " " + u.release + " " + u.machine},
        {"hostname", std::string(u.nodename)},
        {"compiler", compiler()},
        {"compiler_flags", std::string(LWBENCH_CXX_FLAGS)},
        {"build_type", std::string(LWBENCH_BUILD_TYPE)},
        {"git_revision", rev},
        {"git_dirty", dirty},
        {"library_versions",
         {{"oneTBB", std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR)},
          {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
          {"benchmark", LWBENCH_BENCHMARK_VERSION},
          {"CLI11", LWBENCH_CLI11_VERSION},
          {"fmt", LWBENCH_FMT_VERSION}}},
        {"hardware_counters_available", perf_counters::probe_hardware()},
        {"perf_event_paranoid", read_int_file("/proc/sys/kernel/perf_event_paranoid")},
        {"clock", {{"source", "std::chrono::steady_clock (clock_gettime CLOCK_MONOTONIC, vDSO)"},
                   {"overhead_ns", ck.overhead_ns},
                   {"resolution_ns", ck.resolution_ns}}},
    };
}

namespace {
std::string utc_now(bool iso) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    if (iso) {
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    }
    return buf;
}
}  // namespace

std::string utc_stamp() { return utc_now(false); }
std::string utc_iso() { return utc_now(true); }

json make_document(const std::string& label, const std::string& command, const std::vector<record>& records,
                   const std::vector<std::string>& notes) {
    json recs = json::array();
    for (const auto& r : records) recs.push_back(to_json(r));
    return {{"schema", "lwbench.results"},
            {"schema_version", k_schema_version},
            {"label", label},
            {"command", command},
            {"created_utc", utc_iso()},
            {"environment", capture_environment()},
            {"records", recs},
            {"notes", notes}};
}

std::string to_csv(const std::vector<record>& records) {
    std::ostringstream os;
    const auto& names = perf_counters::event_names();
    os << "stack,scenario,api,primitive,threading_mode,input_mode,mailbox_kind,lock_kind,payload_bytes,"
          "app_threads,pinning,variant,repetitions,ops_per_repetition,ops_per_sample,p50_ns,p90_ns,p99_ns,"
          "p999_ns,max_ns,mean_ns,rel_mad,ops_per_sec,bytes_per_sec,errors";
    for (const auto& n : names) os << ',' << n << "_per_op";
    os << '\n';
    const auto o = [](const std::optional<std::string>& s) { return s ? *s : std::string(); };
    for (const auto& r : records) {
        os << r.stack << ',' << r.scenario << ',' << o(r.api) << ',' << o(r.primitive) << ',' << o(r.threading_mode)
           << ',' << o(r.input_mode) << ',' << o(r.mailbox_kind) << ',' << o(r.lock_kind) << ',' << r.payload_bytes
           << ',' << r.app_threads << ',' << r.pinning << ',' << o(r.variant) << ',' << r.repetitions << ','
           << r.ops_per_repetition << ',' << r.ops_per_sample << ',' << r.latency.p50 << ',' << r.latency.p90 << ','
           << r.latency.p99 << ',' << r.latency.p999 << ',' << r.latency.max << ',' << r.latency.mean << ','
           << r.spread.rel_mad << ',' << r.ops_per_sec << ',' << r.bytes_per_sec << ',' << r.errors;
        for (const auto& n : names) {
            os << ',';
            if (auto it = r.counters.find(n); it != r.counters.end() && it->second.per_op) os << *it->second.per_op;
        }
        os << '\n';
    }
    return os.str();
}

fs::path write_new_file(const fs::path& dir, const std::string& stem, const std::string& ext,
                        const std::string& content) {
    fs::create_directories(dir);
    const fs::path tmp = dir / ("." + stem + ext + ".tmp." + std::to_string(getpid()));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp.string());
    std::size_t off = 0;
    while (off < content.size()) {
        const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::system_error(e, std::generic_category(), "cannot write " + tmp.string());
        }
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw std::system_error(e, std::generic_category(), "cannot flush " + tmp.string());
    }
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const fs::path final_path =
            dir / (stem + (attempt == 0 ? std::string() : "-" + std::to_string(attempt)) + ext);
        if (::link(tmp.c_str(), final_path.c_str()) == 0) {
            ::unlink(tmp.c_str());
            return final_path;
        }
        if (errno != EEXIST) {
            const int e = errno;
            ::unlink(tmp.c_str());
            throw std::system_error(e, std::generic_category(), "cannot publish " + final_path.string());
        }
    }
    ::unlink(tmp.c_str());
    throw std::system_error(EEXIST, std::generic_category(), "no free file name for " + stem);
}

fs::path save_results(const fs::path& dir, const json& document, const std::vector<record>& records) {
    std::string rev = document.at("environment").value("git_revision", "unknown");
    if (rev.size() > 8) rev = rev.substr(0, 8);
    const std::string stem = utc_stamp() + "_" + rev + "_" + document.value("label", "run");
    const fs::path json_path = write_new_file(dir, stem, ".json", document.dump(1) + "\n");
    // The CSV takes the JSON's final stem, so the pair stays together even after a suffix.
    write_new_file(dir, json_path.stem().string(), ".csv", to_csv(records));
    return json_path;
}

json load_document(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open result file " + path.string());
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw std::runtime_error(path.string() + " is not valid JSON: " + e.what());
    }
    if (doc.value("schema", "") != "lwbench.results")
        throw std::runtime_error(path.string() + " is not an lwbench result file (schema != lwbench.results)");
    if (doc.value("schema_version", 0) != k_schema_version)
        throw std::runtime_error(path.string() + ": unsupported schema_version " +
                                 std::to_string(doc.value("schema_version", 0)));
    return doc;
}

}  // namespace lwbench::harness
