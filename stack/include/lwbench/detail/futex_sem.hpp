// detail/futex_sem.hpp — a counting semaphore on a Linux futex, with optional
// spinning before sleeping and a deadline.
//
// Why not std::counting_semaphore: libstdc++'s implementation spins a fixed,
// undocumented amount before its futex wait and has no way to say "spin N times,
// then sleep". The spin-then-block mailbox kind is a measurement dimension, so the
// spin budget must be explicit. This is the completion semaphore of an API message
// (one per application thread, lwIP's LWIP_NETCONN_SEM_PER_THREAD) and the item
// count of our queues.
//
// post() is release, a successful acquire is acquire: what the poster wrote before
// post() is visible to the thread that acquires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "lwbench/config.hpp"
#include "lwbench/detail/wake_list.hpp"

LWBENCH_NS_BEGIN
namespace detail {

class futex_sem {
public:
    explicit futex_sem(std::uint32_t initial = 0) noexcept : _count(initial) {}

    /// Adds one unit and wakes one sleeper if there is one (no syscall otherwise).
    void post() noexcept;
    /// Adds one unit now; the wake-up of a sleeper, if there is one, goes onto `later`
    /// (core context: see wake_list.hpp).
    void post(wake_list& later) noexcept;
    /// Takes a unit if one is available right now.
    bool try_acquire() noexcept;
    /// Spins up to `spin` times, then sleeps until a unit is available.
    void acquire(std::uint32_t spin = 0) noexcept;
    /// As acquire, but gives up at `deadline`; false on time-out.
    bool acquire_until(std::chrono::steady_clock::time_point deadline, std::uint32_t spin = 0) noexcept;
    [[nodiscard]] std::uint32_t value() const noexcept { return _count.load(std::memory_order_relaxed); }

private:
    bool wait_once(const struct timespec* relative) noexcept;
    std::atomic<std::uint32_t> _count;
    std::atomic<std::uint32_t> _sleepers{0};
};

}  // namespace detail
LWBENCH_NS_END
