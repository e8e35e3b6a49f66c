// publication_slots.cpp — see detail/publication_slots.hpp.
#include "lwbench/detail/publication_slots.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "lwbench/detail/spin.hpp"
#include "lwbench/detail/wake_list.hpp"

LWBENCH_NS_BEGIN
namespace detail {

namespace {

/// Sleeps while *word == expected (the kernel checks atomically); returns on a wake-up,
/// a changed word or a signal: the caller re-checks.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

std::atomic<std::uint64_t> g_next_table_id{1};

}  // namespace

// ---- a slot -------------------------------------------------------------------------

void publication_slot::publish(err (*call)(void*), void* call_ctx, bool input) noexcept {
    fn = call;
    ctx = call_ctx;
    is_input = input;
    state.store(published, std::memory_order_seq_cst);
}

bool publication_slot::wait(std::uint32_t spin, std::uint32_t yields) noexcept {
    // Returns false after taking a nudge: nudged → published, so the slot stays
    // published while its owner tries the core (a claim may still beat the owner to it).
    const auto take_nudge = [this] {
        std::uint32_t expected = nudged;
        if (state.compare_exchange_strong(expected, published, std::memory_order_seq_cst)) return false;
        return wait(0, 0);  // claimed meanwhile (running or done): keep waiting for done
    };
    // Spinning, then yielding: the same checks between two pauses or two yields.
    for (std::uint32_t i = 0; i < spin + yields; ++i) {
        const std::uint32_t s = state.load(std::memory_order_acquire);
        if (s == done) return true;
        if (s == nudged) return take_nudge();
        if (i < spin) {
            cpu_relax();
        } else {
            sched_yield();
        }
    }
    for (;;) {
        // seq_cst pair with complete(): state then sleeping there, sleeping then state
        // here, so "the core holder saw no sleeper and the owner saw no done" cannot happen.
        sleeping.store(1, std::memory_order_seq_cst);
        const std::uint32_t s = state.load(std::memory_order_seq_cst);
        if (s == published || s == running) futex_wait(state, s);
        sleeping.store(0, std::memory_order_relaxed);
        const std::uint32_t now = state.load(std::memory_order_acquire);
        if (now == done) return true;
        if (now == nudged) return take_nudge();
    }
}

bool publication_slot::withdraw() noexcept {
    std::uint32_t s = state.load(std::memory_order_acquire);
    while (s == published || s == nudged)
        if (state.compare_exchange_weak(s, idle, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    return false;
}

bool publication_slot::claim() noexcept {
    std::uint32_t s = state.load(std::memory_order_acquire);
    while (s == published || s == nudged)
        if (state.compare_exchange_weak(s, running, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
    return false;
}

void publication_slot::complete(err r, wake_list& later) noexcept {
    result = r;
    state.store(done, std::memory_order_seq_cst);
    // The owner may already have taken the result and published again: a wake-up then
    // is spurious, and wait() re-checks after every wake-up.
    if (sleeping.load(std::memory_order_seq_cst) != 0) later.add(state, 1);
}

bool publication_slot::nudge() noexcept {
    std::uint32_t s = published;
    if (!state.compare_exchange_strong(s, nudged, std::memory_order_seq_cst)) return s == nudged;
    if (sleeping.load(std::memory_order_seq_cst) != 0) futex_wake(&state, 1);
    return true;
}

// ---- a table --------------------------------------------------------------------------

publication_slots::publication_slots(std::size_t capacity)
    : _capacity(capacity),
      _slots(std::make_unique<publication_slot[]>(capacity)),
      _used(std::make_unique<bool[]>(capacity)),
      _id(g_next_table_id.fetch_add(1, std::memory_order_relaxed)) {}

publication_slot* publication_slots::acquire() {
    std::lock_guard lk(_mutex);
    for (std::size_t i = 0; i < _capacity; ++i) {
        if (_used[i]) continue;
        _used[i] = true;
        if (i >= _scan_end.load(std::memory_order_relaxed)) _scan_end.store(i + 1, std::memory_order_release);
        return &_slots[i];
    }
    return nullptr;
}

void publication_slots::release(publication_slot* s) {
    std::lock_guard lk(_mutex);
    _used[static_cast<std::size_t>(s - _slots.get())] = false;
}

std::size_t publication_slots::in_use() const {
    std::lock_guard lk(_mutex);
    return static_cast<std::size_t>(std::count(_used.get(), _used.get() + _capacity, true));
}

// ---- a thread's registrations ---------------------------------------------------------

namespace {

struct registration {
    std::uint64_t table_id;
    std::weak_ptr<publication_slots> table;
    publication_slot* slot;
};

/// The calling thread's registrations; its destructor (thread exit) gives every slot
/// back to the tables still alive.
struct registrations {
    std::vector<registration> list;
    ~registrations() {
        for (auto& r : list)
            if (const auto table = r.table.lock()) table->release(r.slot);
    }
};

thread_local registrations t_registrations;

}  // namespace

publication_slot* thread_slot(const std::shared_ptr<publication_slots>& table) {
    auto& list = t_registrations.list;
    const std::uint64_t id = table->id();
    for (const auto& r : list)
        if (r.table_id == id) return r.slot;
    std::erase_if(list, [](const registration& r) { return r.table.expired(); });
    publication_slot* slot = table->acquire();
    if (slot) list.push_back({id, table, slot});
    return slot;
}

std::size_t thread_registrations() {
    auto& list = t_registrations.list;
    std::erase_if(list, [](const registration& r) { return r.table.expired(); });
    return list.size();
}

}  // namespace detail
LWBENCH_NS_END
