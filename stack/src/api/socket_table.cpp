// socket_table.cpp — the process-wide descriptor table and each stack's socket state
// (see detail/socket_table.hpp).
#include "lwbench/detail/socket_table.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/detail/wake_list.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

// Slot state word (one atomic, so every transition is a single CAS):
//   bits 63..32 generation | bits 31..3 reference count | bit 2 dying | bit 1 open | bit 0 allocated
// Free: allocated=0, generation = the last one issued. open() takes a free slot
// (generation+1), publishes the socket, then sets open. acquire() adds a reference
// only while open and the generation matches the descriptor. close() clears open
// while holding a reference; whoever drops the last reference of a closed slot sets
// dying, frees the socket and returns the slot (or retires it after its last generation).

namespace {
constexpr std::uint64_t k_alloc = 1, k_open = 2, k_dying = 4, k_ref = 8;
constexpr std::uint64_t k_refs_mask = 0xfffffff8ull;
constexpr std::uint64_t k_slot_mask = (std::uint64_t{1} << socket_table::k_slot_bits) - 1;

std::uint32_t gen_of(std::uint64_t s) { return static_cast<std::uint32_t>(s >> 32); }
std::uint64_t refs_of(std::uint64_t s) { return (s & k_refs_mask) / k_ref; }

long futex(std::atomic<std::uint32_t>* a, int op, std::uint32_t v, const timespec* ts) {
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(a), op, v, ts, nullptr, 0);
}

void futex_wait_ms(std::atomic<std::uint32_t>* a, std::uint32_t seen, int timeout_ms) {
    timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
    futex(a, FUTEX_WAIT_PRIVATE, seen, timeout_ms < 0 ? nullptr : &ts);
}
}  // namespace

struct socket_table::slot {
    std::atomic<std::uint64_t> state{0};
    std::atomic<stack_sockets*> owner{nullptr};  // written before `open` is published
    netconn* conn = nullptr;                     // written before `open` is published, read under a reference
};

// ---- stack_sockets -----------------------------------------------------------------

bool stack_sockets::reserve() noexcept {
    std::size_t n = _open.load(std::memory_order_relaxed);
    do {
        if (n >= _max) return false;
    } while (!_open.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    _users.fetch_add(1, std::memory_order_seq_cst);
    if (closing()) {  // the destructor has begun: do not add a socket it would not close
        unreserve();
        return false;
    }
    return true;
}

void stack_sockets::unreserve() noexcept {
    _open.fetch_sub(1, std::memory_order_relaxed);
    user_left();
}

void stack_sockets::socket_freed() noexcept {
    _open.fetch_sub(1, std::memory_order_relaxed);
    user_left();
}

void stack_sockets::user_left() noexcept {
    // After this decrement the stack may be freed by its destructor: the wake-up goes
    // through the (immortal) process table, never through this object.
    _users.fetch_sub(1, std::memory_order_seq_cst);
    socket_table::instance().bump_freed();
}

void stack_sockets::notify(wake_list* later) noexcept {
    _seq.fetch_add(1, std::memory_order_seq_cst);
    if (_pollers.load(std::memory_order_seq_cst) == 0) return;
    if (later) {
        later->add(_seq, wake_list::all);
    } else {
        futex_wake(&_seq, wake_list::all);
    }
}

void stack_sockets::wait_change(std::uint32_t seen, int timeout_ms) noexcept { futex_wait_ms(&_seq, seen, timeout_ms); }

bool stack_sockets::enter_poll() noexcept {
    _users.fetch_add(1, std::memory_order_seq_cst);
    _pollers.fetch_add(1, std::memory_order_seq_cst);
    if (closing()) {
        leave_poll();
        return false;
    }
    return true;
}

void stack_sockets::leave_poll() noexcept {
    _pollers.fetch_sub(1, std::memory_order_seq_cst);
    user_left();
}

void stack_sockets::shutdown() {
    _closing.store(true, std::memory_order_seq_cst);
    auto& table = socket_table::instance();
    table.close_all(*this);
    notify();  // pollers that watch no socket of ours also look again and leave
    for (;;) {
        const std::uint32_t seen = table.freed_seq();
        if (_users.load(std::memory_order_seq_cst) == 0) break;
        // Woken by every user that leaves; the timeout only bounds a lost race with a
        // poller that entered after close_all (it sees `closing` and leaves at once).
        table.wait_freed(seen, 100);
        notify();
    }
}

// ---- socket_table ------------------------------------------------------------------

socket_table::socket_table(std::size_t slots, std::uint32_t max_generation)
    : _slots(new slot[slots]), _n(slots), _max_gen(max_generation), _free_ring(new std::uint32_t[slots]) {
    for (std::size_t i = 0; i < slots; ++i) _free_ring[i] = static_cast<std::uint32_t>(i);
    _free_count = slots;
}

socket_table::~socket_table() = default;

socket_table& socket_table::instance() {
    // Immortal: threads may return through it during static destruction.
    static auto* t = new socket_table(k_slots, k_max_generation);
    return *t;
}

socket_table::ref::~ref() {
    if (_conn) _t->release(_idx);
}

void socket_table::put_free(std::size_t idx) noexcept {
    std::lock_guard lk(_free_mutex);
    _free_ring[(_free_head + _free_count) % _n] = static_cast<std::uint32_t>(idx);
    ++_free_count;
}

int socket_table::open(stack_sockets& owner, netconn* conn) {
    if (!owner.reserve()) {
        errno = EMFILE;
        return -1;
    }
    std::size_t idx;
    {
        std::lock_guard lk(_free_mutex);
        if (_free_count == 0) {
            owner.unreserve();
            errno = ENFILE;
            return -1;
        }
        idx = _free_ring[_free_head];
        _free_head = (_free_head + 1) % _n;
        --_free_count;
    }
    auto& sl = _slots[idx];
    // A slot in the free ring is free and has a generation left (see release).
    const std::uint32_t gen = gen_of(sl.state.load(std::memory_order_acquire)) + 1;
    const std::uint64_t reserved = (std::uint64_t{gen} << 32) | k_alloc;
    sl.conn = conn;
    sl.owner.store(&owner, std::memory_order_relaxed);
    // An accepted TCP netconn already has this hook (set in core context, where its
    // events run): writing it again would race them, so only a new netconn gets it.
    const netconn_event_fn hook = [](netconn*, void* o) {  // core context: the pollers wake after the core is released
        auto* sockets = static_cast<stack_sockets*>(o);
        sockets->notify(&stack_access::wakes(sockets->owner()));
    };
    if (conn->event != hook || conn->event_arg != &owner) {
        conn->event = hook;
        conn->event_arg = &owner;
    }
    sl.state.store(reserved | k_open, std::memory_order_release);
    return static_cast<int>((std::uint64_t{gen} << k_slot_bits) | idx);
}

socket_table::ref socket_table::acquire(const stack_sockets& owner, int fd) {
    if (fd <= 0) return {};
    const auto idx = static_cast<std::size_t>(static_cast<std::uint64_t>(fd) & k_slot_mask);
    const auto gen = static_cast<std::uint32_t>(static_cast<std::uint64_t>(fd) >> k_slot_bits);
    if (idx >= _n) return {};
    auto& sl = _slots[idx];
    std::uint64_t st = sl.state.load(std::memory_order_acquire);
    for (;;) {
        if (!(st & k_open) || gen_of(st) != gen) return {};
        if (sl.state.compare_exchange_weak(st, st + k_ref, std::memory_order_acquire)) break;
    }
    ref r(this, idx, sl.conn);
    if (sl.owner.load(std::memory_order_relaxed) != &owner) return {};  // another stack's: r releases
    return r;
}

void socket_table::release(std::size_t idx) noexcept {
    auto& sl = _slots[idx];
    std::uint64_t st = sl.state.fetch_sub(k_ref, std::memory_order_acq_rel) - k_ref;
    if (refs_of(st) != 0 || (st & k_open) || (st & k_dying)) return;
    // Last reference of a closed socket: exactly one thread wins the dying bit.
    if (!sl.state.compare_exchange_strong(st, st | k_dying, std::memory_order_acq_rel)) return;
    netconn* conn = sl.conn;
    stack_sockets* owner = sl.owner.load(std::memory_order_relaxed);
    sl.conn = nullptr;
    sl.owner.store(nullptr, std::memory_order_relaxed);
    netconn_delete(conn);
    const std::uint32_t gen = gen_of(st);
    sl.state.store(std::uint64_t{gen} << 32, std::memory_order_release);  // free
    if (gen < _max_gen) put_free(idx);  // else retired: its descriptors are never issued again
    owner->socket_freed();              // last: the owner's stack may go once it is told
}

int socket_table::close(const stack_sockets& owner, int fd) {
    ref r = acquire(owner, fd);
    if (!r) return -1;
    auto& sl = _slots[static_cast<std::size_t>(static_cast<std::uint64_t>(fd) & k_slot_mask)];
    std::uint64_t st = sl.state.load(std::memory_order_acquire);
    for (;;) {
        if (!(st & k_open)) return -1;  // another close won
        if (sl.state.compare_exchange_weak(st, st & ~k_open, std::memory_order_acq_rel)) break;
    }
    // No new reference can be taken now. Shut down: blocked receivers wake (EBADF).
    netconn_close(r.conn());
    const_cast<stack_sockets&>(owner).notify();
    return 0;  // r's release (or a later one) frees the socket
}

void socket_table::close_all(const stack_sockets& owner) {
    for (std::size_t i = 0; i < _n; ++i) {
        const std::uint64_t st = _slots[i].state.load(std::memory_order_acquire);
        if (!(st & k_open) || _slots[i].owner.load(std::memory_order_relaxed) != &owner) continue;
        close(owner, static_cast<int>((std::uint64_t{gen_of(st)} << k_slot_bits) | i));
    }
}

void socket_table::bump_freed() noexcept {
    _freed_seq.fetch_add(1, std::memory_order_seq_cst);
    if (_freed_waiters.load(std::memory_order_seq_cst) != 0)
        futex_wake(&_freed_seq, wake_list::all);
}

void socket_table::wait_freed(std::uint32_t seen, int timeout_ms) noexcept {
    _freed_waiters.fetch_add(1, std::memory_order_seq_cst);
    if (_freed_seq.load(std::memory_order_seq_cst) == seen) futex_wait_ms(&_freed_seq, seen, timeout_ms);
    _freed_waiters.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace detail
LWBENCH_NS_END
