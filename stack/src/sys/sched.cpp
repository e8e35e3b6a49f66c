// sched.cpp — see sched.hpp.
#include "lwbench/sched.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <cstring>
#include <thread>

LWBENCH_NS_BEGIN

const char* to_string(sched_policy p) noexcept { return p == sched_policy::fifo ? "fifo" : "other"; }

std::optional<sched_policy> parse_sched_policy(std::string_view s) noexcept {
    for (auto p : {sched_policy::other, sched_policy::fifo})
        if (s == to_string(p)) return p;
    return std::nullopt;
}

int apply_sched_policy(sched_policy policy, int fifo_priority) noexcept {
    sched_param param{};
    param.sched_priority = policy == sched_policy::fifo ? fifo_priority : 0;
    return pthread_setschedparam(pthread_self(), policy == sched_policy::fifo ? SCHED_FIFO : SCHED_OTHER, &param);
}

std::optional<std::string> sched_unavailable(sched_policy policy) {
    if (policy == sched_policy::other) return std::nullopt;
    int result = 0;
    std::thread probe([&] { result = apply_sched_policy(policy, k_fifo_tcpip_priority); });
    probe.join();
    if (result == 0) return std::nullopt;
    rlimit rt{};
    getrlimit(RLIMIT_RTPRIO, &rt);
    return std::string("SCHED_FIFO at priority ") + std::to_string(k_fifo_tcpip_priority) + " is not permitted (" +
           std::strerror(result) + "): it needs CAP_SYS_NICE or RLIMIT_RTPRIO >= " +
           std::to_string(k_fifo_tcpip_priority) + " (this process: " +
           (rt.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rt.rlim_cur)) + ")";
}

LWBENCH_NS_END
