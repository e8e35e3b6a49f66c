// stack_config.cpp — the one check of a stack's configuration against the ranges
// documented in tcpip.hpp (stack_config).
#include <sched.h>
#include <unistd.h>

#include <iterator>
#include <string>

#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

std::string config_error::message() const { return std::string("stack_config.") + field + ": " + reason; }

namespace {

std::optional<config_error> check_range(const char* field, std::size_t v, std::size_t lo, std::size_t hi) {
    if (v >= lo && v <= hi) return std::nullopt;
    return config_error{field, std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi)};
}

template <class E>
std::optional<config_error> check_enum(const char* field, E v, E last) {
    if (static_cast<unsigned>(v) <= static_cast<unsigned>(last)) return std::nullopt;
    return config_error{field, "not a known value (" + std::to_string(static_cast<unsigned>(v)) + ")"};
}

}  // namespace

std::optional<config_error> validate_config(const stack_config& cfg) {
    if (auto e = check_enum("mode", cfg.mode, std::end(k_threading_modes)[-1])) return e;
    if (auto e = check_enum("input", cfg.input, std::end(k_input_modes)[-1])) return e;
    if (auto e = check_enum("mailbox", cfg.mailbox, mailbox_kind::adaptive)) return e;
    if (auto e = check_enum("lock", cfg.lock, lock_kind::tbb_queuing_mutex)) return e;
    if (auto e = check_enum("sched", cfg.sched, sched_policy::fifo)) return e;
    if (auto why = sched_unavailable(cfg.sched)) return config_error{"sched", *why};
    if (auto e = check_range("mailbox_capacity", cfg.mailbox_capacity, 1, k_max_mailbox_capacity)) return e;
    if (auto e = check_range("pbuf_pool_size", cfg.pbuf_pool_size, 1, k_max_pbuf_pool_size)) return e;
    if (auto e = check_range("pbuf_ref_pool_size", cfg.pbuf_ref_pool_size, 1, k_max_pbuf_pool_size)) return e;
    if (auto e = check_range("recv_queue_depth", cfg.recv_queue_depth, 1, k_max_recv_queue_depth)) return e;
    if (auto e = check_range("max_sockets", cfg.max_sockets, 1, k_max_sockets)) return e;
    // The machine's CPUs, not the calling thread's affinity: a harness may pin the
    // thread that builds the stack elsewhere before it does.
    const long cpus = sysconf(_SC_NPROCESSORS_CONF);
    if (cfg.tcpip_cpu != -1 && (cfg.tcpip_cpu < 0 || cfg.tcpip_cpu >= CPU_SETSIZE || cfg.tcpip_cpu >= cpus))
        return config_error{"tcpip_cpu", std::to_string(cfg.tcpip_cpu) + " is neither -1 (no pinning) nor one of the " +
                                             std::to_string(cpus) + " CPUs of this machine"};
    return std::nullopt;
}

LWBENCH_NS_END
