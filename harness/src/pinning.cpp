// pinning.cpp — the CPU plan and thread affinity (see pinning.hpp).
#include "lwbench/harness/pinning.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

namespace lwbench::harness {

const char* to_string(pinning p) noexcept {
    switch (p) {
        case pinning::none: return "none";
        case pinning::same_core: return "same_core";
        case pinning::separate_cores: return "separate_cores";
    }
    return "unknown";
}

std::optional<pinning> parse_pinning(std::string_view s) noexcept {
    for (auto p : {pinning::none, pinning::same_core, pinning::separate_cores})
        if (s == to_string(p)) return p;
    return std::nullopt;
}

int online_cpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

bool pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        for (int i = 0; i < online_cpus(); ++i) CPU_SET(i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

cpu_plan cpu_plan::of(pinning p) { return cpu_plan{p, online_cpus()}; }

int cpu_plan::tcpip() const noexcept { return pin == pinning::none ? -1 : 0; }

int cpu_plan::app(int index) const noexcept {
    switch (pin) {
        case pinning::none: return -1;
        case pinning::same_core: return 0;
        case pinning::separate_cores: return cpus > 1 ? 1 + index % (cpus - 1) : 0;
    }
    return -1;
}

}  // namespace lwbench::harness
