// perf_counters.cpp — perf_event_open per thread, summed (see perf_counters.hpp).
#include "lwbench/harness/perf_counters.hpp"

#include <dirent.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace lwbench::harness {

namespace {

struct event_spec {
    const char* name;
    std::uint32_t type;
    std::uint64_t config;
    bool hardware;
};

constexpr event_spec k_specs[] = {
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, false},
    {"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, false},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, true},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, true},
    {"cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, true},
    {"branch_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, true},
};

int open_event(const event_spec& spec, pid_t tid) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = spec.type;
    attr.config = spec.config;
    attr.disabled = 1;
    attr.exclude_kernel = 0;  // context switches are counted in kernel mode
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return static_cast<int>(syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

std::vector<pid_t> process_threads() {
    std::vector<pid_t> tids;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            tids.push_back(static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10)));
        }
        closedir(d);
    }
    if (tids.empty()) tids.push_back(static_cast<pid_t>(syscall(SYS_gettid)));
    return tids;
}

std::string reason_for(int err) {
    switch (err) {
        case ENOENT:
        case EOPNOTSUPP: return "not available: this machine exposes no such counter (" + std::string(std::strerror(err)) + ")";
        case EACCES:
        case EPERM: return "not available: permission denied (perf_event_paranoid; run as root or lower it)";
        case ENOSYS: return "not available: perf_event_open is not supported here";
        default: return "not available: " + std::string(std::strerror(err));
    }
}

}  // namespace

struct perf_counters::event {
    const event_spec* spec;
    std::vector<int> fds;
    std::string status;
};

perf_counters::perf_counters(bool hardware) {
    const auto tids = process_threads();
    for (const auto& spec : k_specs) {
        event ev{&spec, {}, "ok"};
        if (spec.hardware && !hardware) {
            ev.status = "not available: hardware counters not requested";
        } else {
            for (pid_t tid : tids) {
                const int fd = open_event(spec, tid);
                if (fd < 0) {
                    // A thread that exited between listing and opening is fine; anything else
                    // makes the whole event unavailable (a partial sum would look real but lie).
                    if (errno == ESRCH) continue;
                    ev.status = reason_for(errno);
                    for (int f : ev.fds) close(f);
                    ev.fds.clear();
                    break;
                }
                ev.fds.push_back(fd);
            }
            if (ev.fds.empty() && ev.status == "ok") ev.status = "not available: no thread could be counted";
        }
        _events.push_back(std::move(ev));
    }
}

perf_counters::~perf_counters() {
    for (auto& ev : _events)
        for (int fd : ev.fds) close(fd);
}

void perf_counters::start() {
    for (auto& ev : _events)
        for (int fd : ev.fds) {
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        }
}

void perf_counters::resume() {
    for (auto& ev : _events)
        for (int fd : ev.fds) ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

void perf_counters::stop() {
    for (auto& ev : _events)
        for (int fd : ev.fds) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
}

std::vector<counter_value> perf_counters::read() const {
    std::vector<counter_value> out;
    for (const auto& ev : _events) {
        counter_value v{ev.spec->name, std::nullopt, ev.status};
        if (!ev.fds.empty()) {
            double total = 0;
            bool ran = false;
            for (int fd : ev.fds) {
                std::uint64_t buf[3] = {0, 0, 0};  // value, time_enabled, time_running
                if (::read(fd, buf, sizeof(buf)) != static_cast<ssize_t>(sizeof(buf))) continue;
                if (buf[2] == 0) continue;  // never scheduled onto the PMU (or thread idle)
                ran = true;
                // Scale for multiplexing; for software events enabled == running.
                total += static_cast<double>(buf[0]) * (static_cast<double>(buf[1]) / static_cast<double>(buf[2]));
            }
            if (ran || !ev.spec->hardware) {
                v.total = total;  // a software event that stayed 0 (e.g. no migrations) is a real 0
            } else {
                v.status = "not available: counter opened but never ran (PMU busy or absent)";
            }
        }
        out.push_back(std::move(v));
    }
    return out;
}

bool perf_counters::hardware_available() const {
    for (const auto& ev : _events)
        if (std::string_view(ev.spec->name) == "cycles") return !ev.fds.empty();
    return false;
}

bool perf_counters::probe_hardware() {
    static const bool available = [] {
        const int fd = open_event(k_specs[4], 0);
        if (fd < 0) return false;
        close(fd);
        return true;
    }();
    return available;
}

const std::vector<std::string>& perf_counters::event_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& s : k_specs) n.emplace_back(s.name);
        return n;
    }();
    return names;
}

}  // namespace lwbench::harness
