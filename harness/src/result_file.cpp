// result_file.cpp — environment capture, JSON/CSV documents, atomic no-clobber writes.
#include "lwbench/harness/result_file.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include <oneapi/tbb/version.h>

#include "lwbench/harness/build_info.hpp"
#include "lwbench/harness/core_work.hpp"
#include "lwbench/harness/pinning.hpp"
#include "lwbench/harness/record_table.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/harness/topology.hpp"

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

/// The output of a shell command, trimmed; empty if it cannot be run or, when
/// `need_success`, if it exits non-zero.
std::string run_capture(const std::string& cmd, bool need_success = true) {
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        std::array<char, 256> buf{};
        while (fgets(buf.data(), buf.size(), p)) out += buf.data();
        if (pclose(p) != 0 && need_success) return {};
    }
    return trim(out);
}

const json k_not_available = "not available";

/// The value of `key` in the first /proc/cpuinfo line that starts with it, for every
/// such line (one per CPU).
std::vector<std::string> cpuinfo_values(const std::string& key) {
    std::ifstream in("/proc/cpuinfo");
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) {
            const auto pos = line.find(':');
            if (pos == std::string::npos) continue;
            const auto value = line.find_first_not_of(" \t", pos + 1);
            out.push_back(value == std::string::npos ? std::string() : trim(line.substr(value)));
        }
    return out;
}

std::string cpu_model() {
    const auto models = cpuinfo_values("model name");
    return models.empty() ? "unknown" : models.front();
}

/// The first line of a small sysfs/procfs file; nullopt if it cannot be read.
std::optional<std::string> read_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    return trim(line);
}

std::string cpufreq_path(int cpu, const char* file) {
    return "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/" + file;
}

/// Current frequency of every online CPU in MHz: cpufreq's scaling_cur_freq where the
/// kernel exposes it, else /proc/cpuinfo's "cpu MHz" (what the kernel last saw; in a
/// VM often the host's nominal value), with the source named.
std::pair<json, json> cpu_frequency() {
    json mhz = json::array();
    for (int cpu = 0; cpu < online_cpus(); ++cpu) {
        const auto khz = read_line(cpufreq_path(cpu, "scaling_cur_freq"));
        if (!khz) break;
        mhz.push_back(std::strtod(khz->c_str(), nullptr) / 1000.0);
    }
    if (!mhz.empty() && static_cast<int>(mhz.size()) == online_cpus())
        return {mhz, "cpufreq scaling_cur_freq"};
    mhz = json::array();
    for (const auto& v : cpuinfo_values("cpu MHz")) mhz.push_back(std::strtod(v.c_str(), nullptr));
    if (!mhz.empty()) return {mhz, "/proc/cpuinfo cpu MHz"};
    return {k_not_available, k_not_available};
}

/// The scaling governor(s) in use, e.g. "performance" or "powersave,performance".
json cpu_governor() {
    std::vector<std::string> seen;
    for (int cpu = 0; cpu < online_cpus(); ++cpu)
        if (auto g = read_line(cpufreq_path(cpu, "scaling_governor"));
            g && std::find(seen.begin(), seen.end(), *g) == seen.end())
            seen.push_back(*g);
    if (seen.empty()) return k_not_available;
    std::string out;
    for (const auto& g : seen) out += (out.empty() ? "" : ",") + g;
    return out;
}

/// The CPUs this process may run on, as a list of ranges ("0-1", "0,2-3").
json affinity_mask() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return k_not_available;
    std::string out;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &set)) continue;
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
        out += (out.empty() ? "" : ",") + std::to_string(cpu) + (last > cpu ? "-" + std::to_string(last) : "");
        cpu = last;
    }
    return out;
}

/// SMT as the kernel reports it: "on", "off", "forceoff", "notsupported", ….
json smt_state() {
    const auto control = read_line("/sys/devices/system/cpu/smt/control");
    return control ? json(*control) : k_not_available;
}

json nice_level() {
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, 0);
    return errno == 0 ? json(nice) : k_not_available;
}

/// What systemd-detect-virt prints with `flag` ("kvm", "docker", "none"); empty if
/// it cannot be run. It exits 1 when it prints "none", so the status is not used.
std::string detect_virt(const char* flag) {
    if (::access("/usr/bin/systemd-detect-virt", X_OK) != 0) return {};
    return run_capture("/usr/bin/systemd-detect-virt " + std::string(flag) + " 2>/dev/null", false);
}

/// The hypervisor and the container the run is in, each a name, "none", or "not
/// available". Without systemd-detect-virt the hypervisor comes from the x86
/// "hypervisor" CPU flag (kind unknown) and the container is not available.
json virtualization() {
    json out = {{"vm", k_not_available}, {"container", k_not_available}};
    if (auto vm = detect_virt("--vm"); !vm.empty()) {
        out["vm"] = vm;
        if (auto container = detect_virt("--container"); !container.empty()) out["container"] = container;
        return out;
    }
    const auto flags = cpuinfo_values("flags");
    if (!flags.empty())
        out["vm"] = flags.front().find("hypervisor") != std::string::npos ? "hypervisor (kind unknown)" : "none";
    return out;
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

json load_average() {
    double load[3];
    if (getloadavg(load, 3) != 3) return k_not_available;
    json out = json::array();
    for (double l : load) out.push_back(std::round(l * 100) / 100);
    return out;
}

json capture_environment() {
    utsname u{};
    uname(&u);
    const auto& gs = source_git_state();
    const std::string rev = gs.revision;
    const json dirty = gs.dirty ? json(*gs.dirty) : json(nullptr);
    const auto& ck = calibrate_clock();
    const auto frequency = cpu_frequency();
    return {
        {"cpu_model", cpu_model()},
        {"cpu_count", online_cpus()},
        {"kernel", std::string(u.sysname) + " " + u.release + " " + u.machine},
        {"hostname", std::string(u.nodename)},
        {"cpu_frequency_mhz", frequency.first},
        {"cpu_frequency_source", frequency.second},
        {"cpu_governor", cpu_governor()},
        {"affinity", affinity_mask()},
        {"smt", smt_state()},
        {"topology", cpu_topology()},
        {"nice", nice_level()},
        {"virtualization", virtualization()},
        {"compiler", compiler()},
        {"compiler_flags", std::string(LWBENCH_CXX_FLAGS)},
        {"build_type", std::string(LWBENCH_BUILD_TYPE)},
        {"git_revision", rev},
        {"git_dirty", dirty},
        {"build_git_revision", built_from().git_revision},
        {"build_git_dirty", built_from().git_dirty ? json(*built_from().git_dirty) : json(nullptr)},
        // The binary was built from another revision than the checkout it runs in (or
        // from uncommitted changes): its figures may not be what git_revision names.
        {"git_revision_mismatch", built_from().git_revision != rev || built_from().git_dirty.value_or(false)},
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
        {"core_work_ns_per_iteration", core_work_ns_per_iteration()},
    };
}

namespace {
std::string utc_format(std::time_t t, bool iso) {
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

std::string utc_stamp() { return utc_format(std::time(nullptr), false); }
std::string utc_iso() { return utc_format(std::time(nullptr), true); }

run_context begin_run() {
    run_context context;
    const std::time_t now = std::time(nullptr);
    context.started_utc = utc_format(now, true);
    context.started_stamp = utc_format(now, false);
    context.load_average_start = load_average();
    return context;
}

json make_document(const std::string& label, const std::string& command, const std::vector<record>& records,
                   const std::vector<std::string>& notes, const run_context& context) {
    json recs = json::array();
    for (const auto& r : records) recs.push_back(to_json(r));
    json environment = capture_environment();
    environment["load_average_start"] = context.load_average_start;
    environment["load_average_end"] = load_average();
    environment["warmup_ops"] = context.warmup_ops ? json(*context.warmup_ops) : k_not_available;
    environment["seed"] = context.seed ? json(*context.seed) : k_not_available;
    std::string revision = environment.value("git_revision", "unknown");
    if (revision.size() > 8) revision = revision.substr(0, 8);
    const std::string stamp = context.started_stamp.empty() ? utc_stamp() : context.started_stamp;
    return {{"schema", "lwbench.results"},
            {"schema_version", k_schema_version},
            {"run_id", stamp + "_" + revision + "_" + label},
            {"label", label},
            {"command", command},
            {"created_utc", context.started_utc.empty() ? utc_iso() : context.started_utc},
            {"environment", environment},
            {"records", recs},
            {"notes", notes}};
}

std::string to_csv(const json& document, const std::vector<record>& records) {
    return format_csv(run_metadata_of(document), records);
}

std::optional<std::string> label_problem(const std::string& label) {
    if (label.empty() || label.size() > 64) return "must be 1 to 64 characters long";
    if (label.front() == '.' || label.front() == '-') return "must not start with '.' or '-'";
    for (char ch : label)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
            return std::string("may hold only letters, digits, '.', '_' and '-' (it is part of a file name), not '") +
                   ch + "'";
    return std::nullopt;
}

std::optional<std::string> output_dir_problem(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return "cannot create directory '" + dir.string() + "': " + ec.message();
    if (!fs::is_directory(dir, ec)) return "'" + dir.string() + "' is not a directory";
    const fs::path probe = dir / (".lwbench-write-probe." + std::to_string(getpid()));
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot write in '" + dir.string() + "': " + std::generic_category().message(errno);
    ::close(fd);
    ::unlink(probe.c_str());
    return std::nullopt;
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
    const fs::path json_path = write_new_file(dir, document.at("run_id").get<std::string>(), ".json", document.dump(1) + "\n");
    // The CSV takes the JSON's final stem, so the pair stays together even after a suffix.
    write_new_file(dir, json_path.stem().string(), ".csv", to_csv(document, records));
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
