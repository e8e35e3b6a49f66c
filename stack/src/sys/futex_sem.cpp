// futex_sem.cpp — see detail/futex_sem.hpp.
#include "lwbench/detail/futex_sem.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "lwbench/detail/spin.hpp"

LWBENCH_NS_BEGIN
namespace detail {

namespace {
long futex(std::atomic<std::uint32_t>* addr, int op, std::uint32_t val, const timespec* ts) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), op, val, ts, nullptr, 0);
}
}  // namespace

void futex_sem::post() noexcept {
    // seq_cst on both sides (count then sleepers here, sleepers then count in the
    // waiter) rules out "poster saw no sleeper, sleeper saw count 0".
    _count.fetch_add(1, std::memory_order_seq_cst);
    if (_sleepers.load(std::memory_order_seq_cst) != 0) futex_wake(&_count, 1);
}

void futex_sem::post(wake_list& later) noexcept {
    _count.fetch_add(1, std::memory_order_seq_cst);  // as post(): a waiter arriving now finds the unit
    if (_sleepers.load(std::memory_order_seq_cst) != 0) later.add(_count, 1);
}

bool futex_sem::try_acquire() noexcept {
    std::uint32_t c = _count.load(std::memory_order_relaxed);
    while (c != 0)
        if (_count.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    return false;
}

bool futex_sem::wait_once(const timespec* relative) noexcept {
    _sleepers.fetch_add(1, std::memory_order_seq_cst);
    bool timed_out = false;
    if (_count.load(std::memory_order_seq_cst) == 0) {
        // The kernel re-checks _count == 0 atomically before sleeping, so a post()
        // between our load and the syscall makes it return at once (EAGAIN).
        if (futex(&_count, FUTEX_WAIT_PRIVATE, 0, relative) != 0 && errno == ETIMEDOUT) timed_out = true;
    }
    _sleepers.fetch_sub(1, std::memory_order_relaxed);
    return !timed_out;
}

void futex_sem::acquire(std::uint32_t spin) noexcept {
    for (std::uint32_t i = 0; i < spin; ++i) {
        if (try_acquire()) return;
        cpu_relax();
    }
    while (!try_acquire()) wait_once(nullptr);
}

bool futex_sem::acquire_until(std::chrono::steady_clock::time_point deadline, std::uint32_t spin) noexcept {
    for (std::uint32_t i = 0; i < spin; ++i) {
        if (try_acquire()) return true;
        cpu_relax();
    }
    while (!try_acquire()) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return try_acquire();
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
        wait_once(&ts);
    }
    return true;
}

}  // namespace detail
LWBENCH_NS_END
