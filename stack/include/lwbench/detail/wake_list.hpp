// detail/wake_list.hpp — wake-ups the core decided, issued after the core is released.
//
// Why: a thread woken while the waker still holds the core runs, finds the core locked
// when it calls into the stack (core locking), blocks on it and must be woken a second
// time: a round trip on one CPU then costs ~4 context switches instead of 2. So code
// in core context never wakes an application thread itself: it makes the waited-for
// state visible at once (a semaphore unit, a sequence number) and records here the
// futex word whose sleepers need waking; the stack's unlock issues the wake-ups right
// after releasing the core (stack::unlock_core, tcpip.cpp), in every threading mode.
//
// Fixed capacity, no allocation. A full list wakes at once (still correct; only the
// extra switches come back).
//
// Lifetime: a recorded word may belong to a netconn that another thread deletes right
// after the core is released and before the wake-up is issued. issue() therefore only
// passes the address to FUTEX_WAKE and never reads the memory: the kernel treats a
// stale address as an unmapped (EFAULT) or unrelated futex, and a stray wake-up is a
// spurious wake-up, which every futex waiter in the process (ours, glibc's, TBB's)
// re-checks its condition after.
//
// Core context only (the list belongs to the core holder), except issue() on a copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN
namespace detail {

/// FUTEX_WAKE: wakes up to `count` threads sleeping on `word`. Reads no memory.
void futex_wake(const std::atomic<std::uint32_t>* word, int count) noexcept;

class wake_list {
public:
    static constexpr std::size_t capacity = 16;
    static constexpr int all = 0x7fffffff;

    /// Records that up to `count` sleepers on `word` must be woken after the core is
    /// released. The same word twice is merged (counts add up, saturating at `all`).
    void add(const std::atomic<std::uint32_t>& word, int count) noexcept;
    /// Adds every recorded wake-up to `out` (merging as add does) and empties this list.
    void move_to(wake_list& out) noexcept;
    /// Issues the recorded wake-ups and empties the list.
    void issue() noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return _size; }

private:
    struct entry {
        const std::atomic<std::uint32_t>* word;
        int count;
    };
    entry _entries[capacity];
    std::size_t _size = 0;
};

}  // namespace detail
LWBENCH_NS_END
