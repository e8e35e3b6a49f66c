// sched.hpp — RTOS-style scheduling as an option: the scheduling policy of the stack's
// threads, and the one function that applies it to a thread.
//
// On an RTOS, lwIP's tcpip thread runs at a fixed priority above the application
// threads that call into it (TCPIP_THREAD_PRIO). `sched_policy::fifo` reproduces that
// on Linux with SCHED_FIFO: the tcpip thread at k_fifo_tcpip_priority, application
// threads at k_fifo_app_priority (the harness applies it to its threads). `other` is
// Linux's default time-sharing policy (SCHED_OTHER), what every run used before.
//
// SCHED_FIFO needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least k_fifo_tcpip_priority;
// sched_unavailable() says whether this process has it, so a configuration asking for
// fifo is refused up front (validate_config) instead of silently running as `other`.
// A SCHED_FIFO thread that spins never yields its CPU to a lower-priority thread there:
// the spin_then_block mailbox must not run under fifo with its threads on one CPU
// (the harness refuses that point; the adaptive kind never spins for a partner on its
// own CPU). Linux's RT throttling (sched_rt_runtime_us) still leaves other tasks 5%.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

enum class sched_policy : std::uint8_t { other, fifo };
/// Every policy, in declaration order (the one list parsers and option checks use).
inline constexpr sched_policy k_sched_policies[] = {sched_policy::other, sched_policy::fifo};

/// SCHED_FIFO priorities under sched_policy::fifo: the tcpip thread above the application.
inline constexpr int k_fifo_tcpip_priority = 20;
inline constexpr int k_fifo_app_priority = 10;

const char* to_string(sched_policy p) noexcept;
/// "other", "fifo"; nullopt if unknown.
std::optional<sched_policy> parse_sched_policy(std::string_view s) noexcept;

/// Applies `policy` to the calling thread: SCHED_OTHER (priority ignored), or SCHED_FIFO
/// at `fifo_priority`. Returns 0, or the errno (EPERM: not permitted). Any thread.
int apply_sched_policy(sched_policy policy, int fifo_priority) noexcept;

/// nullopt if this process may run threads under `policy` at the priorities above;
/// otherwise why not (e.g. EPERM: no CAP_SYS_NICE and RLIMIT_RTPRIO too low). Probes on
/// a short-lived thread, so the caller's own policy is untouched. Any thread.
std::optional<std::string> sched_unavailable(sched_policy policy);

LWBENCH_NS_END
