// detail/publication_slots.hpp — the publication slots of the combining threading
// mode (flat combining / delegation): each application thread publishes its core call
// in its own slot, and whoever holds the core runs every published call before it
// releases the core (the protocol itself lives in the dispatcher, stack/src/api/tcpip.cpp).
//
// A slot's life: the owner thread publishes (idle → published); the thread in core
// context claims it (published|nudged → running), runs the call, stores the result and
// marks it done (running → done, the owner's wake-up going onto the core's wake_list so
// it is issued after the core is released); the owner takes the result (done → idle).
// A thread that releases the core while calls are still published (they arrived after
// its last scan) nudges one of their owners (published → nudged): that owner stops
// waiting and tries to take the core itself, so a published call never waits for a
// core holder that will not come. An owner may withdraw a call nobody has claimed yet
// (published|nudged → idle), which a live mode switch needs.
//
// Memory: a stack owns one table (a fixed number of slots, k_publication_slots); a
// thread takes a slot the first time it calls into that stack in combining mode and
// gives it back when the thread exits. Registrations hold the table weakly, so a
// stack destroyed first frees its table as soon as no exiting thread is returning a
// slot to it, and a thread's list of registrations is pruned of dead tables whenever
// it registers: nothing leaks, nothing grows without bound. When every slot is taken,
// thread_slot returns nullptr and the caller runs its call itself under the core lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"
#include "lwbench/detail/spin.hpp"

LWBENCH_NS_BEGIN
namespace detail {

class wake_list;

/// Slots in one stack's table: application threads that can be combining at once.
/// More threads than this still work; they run their calls themselves under the lock.
inline constexpr std::size_t k_publication_slots = 64;

/// One thread's published call. The owner writes fn/ctx/is_input before publishing
/// and reads result after done; the core holder reads fn/ctx after claiming and writes
/// result before done. `state` is the futex word the owner sleeps on.
struct alignas(k_cache_line) publication_slot {
    enum : std::uint32_t { idle, published, nudged, running, done };
    std::atomic<std::uint32_t> state{idle};
    std::atomic<std::uint32_t> sleeping{0};  ///< the owner is (about to be) in FUTEX_WAIT
    err (*fn)(void*) = nullptr;
    void* ctx = nullptr;
    err result = err::ok;
    bool is_input = false;  ///< counted as an input rather than an API call

    // ---- owner side (the thread the slot belongs to) ----
    /// idle → published (seq_cst: ordered before the owner's try of the core lock).
    void publish(err (*call)(void*), void* call_ctx, bool input) noexcept;
    /// Waits until the call is done (true) or the owner is nudged (false: it must try to
    /// take the core; the slot is published again): spins up to `spin` times, then gives
    /// its CPU away (sched_yield) up to `yields` times, then sleeps on `state`.
    /// Why yield before sleeping: a sleeping owner costs the core holder a FUTEX_WAKE per
    /// call it ran and wakes up onto a CPU that another thread (often the receiver of
    /// the traffic) was using; a spinning owner keeps that CPU busy for nothing. A
    /// yielding owner needs no wake-up and lets any runnable thread of its CPU — the
    /// core holder itself, if it was preempted — run first.
    bool wait(std::uint32_t spin, std::uint32_t yields) noexcept;
    /// published|nudged → idle if nobody has claimed the call: true. false once a core
    /// holder has claimed it (then wait for done).
    bool withdraw() noexcept;
    /// done → idle: the slot may be published again.
    void reset() noexcept { state.store(idle, std::memory_order_relaxed); }

    // ---- core side (the thread in core context) ----
    /// published|nudged → running: true if this thread now runs the call.
    bool claim() noexcept;
    /// running → done with `r`; the owner's wake-up, if it sleeps, goes onto `later`.
    void complete(err r, wake_list& later) noexcept;
    /// published → nudged, waking the owner at once (the core is already released).
    /// true if this nudge took effect, or the owner was already nudged.
    bool nudge() noexcept;
};

/// A stack's publication slots. Thread-safe.
class publication_slots {
public:
    explicit publication_slots(std::size_t capacity = k_publication_slots);

    /// A free slot (registration), or nullptr if every slot is taken.
    publication_slot* acquire();
    /// Gives a slot back (its owner thread exits). The slot must be idle.
    void release(publication_slot* s);

    /// Slots ever handed out: scanning [0, scan_end()) sees every registered slot.
    [[nodiscard]] std::size_t scan_end() const noexcept { return _scan_end.load(std::memory_order_acquire); }
    publication_slot& operator[](std::size_t i) noexcept { return _slots[i]; }
    [[nodiscard]] std::size_t capacity() const noexcept { return _capacity; }
    /// Slots registered right now (for tests).
    [[nodiscard]] std::size_t in_use() const;
    /// Unique for the life of the process (tables may reuse an address; ids never repeat).
    [[nodiscard]] std::uint64_t id() const noexcept { return _id; }

    /// Calls published and not yet claimed or withdrawn. Owners add 1 when they
    /// publish (seq_cst), core holders subtract what they claimed, withdrawals 1. On a
    /// cache line of its own: every publication and every release writes it, and the
    /// fields below are read by every scan.
    alignas(k_cache_line) std::atomic<std::uint32_t> pending{0};

private:
    alignas(k_cache_line) std::size_t _capacity;
    std::unique_ptr<publication_slot[]> _slots;
    std::unique_ptr<bool[]> _used;  // guarded by _mutex
    mutable std::mutex _mutex;
    std::atomic<std::size_t> _scan_end{0};
    std::uint64_t _id;
};

/// The calling thread's slot in `table`: registered on the first call (per thread,
/// per table), given back when the thread exits. nullptr if the table is full (the
/// next call tries again). Any thread.
publication_slot* thread_slot(const std::shared_ptr<publication_slots>& table);
/// Tables the calling thread holds a registration in (dead ones pruned), for tests.
std::size_t thread_registrations();

}  // namespace detail
LWBENCH_NS_END
