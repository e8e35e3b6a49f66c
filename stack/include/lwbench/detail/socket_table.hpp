// detail/socket_table.hpp — the descriptor table behind the socket API (internal).
//
// One table serves every stack of the process, so a descriptor names exactly one
// socket of one stack: a call with another stack's descriptor fails with EBADF.
//
// A descriptor is (generation << k_slot_bits | slot), a positive int. Each time a
// slot is reused its generation grows by one, so a descriptor that was closed never
// matches again. Generations never wrap: a slot whose last generation has been used
// is retired for the rest of the process instead of being reused, so a stale holder
// can never reach a later socket, however long the process runs. The price is a
// finite number of sockets per process: k_slots × (2^gen_bits - 1), about 2^31;
// after that lwip_socket fails with ENFILE. Free slots are reused oldest first, so
// generations are spent evenly across slots.
//
// Lifetime: every call holds a reference on its socket while it runs; close() marks
// the socket closed and wakes blocked receivers and pollers; whoever drops the last
// reference frees it (netconn_delete) and then returns the slot. A stack's
// stack_sockets counts its sockets and the pollers inside lwip_poll, and the stack's
// destructor waits (shutdown) until both are zero, so no thread is still returning
// through the stack when it is freed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

class stack;
class netconn;

namespace detail {

class socket_table;
class wake_list;

/// The socket layer's state of one stack: its socket count (max_sockets), the
/// sequence pollers wait on, and the users the destructor waits for. Thread-safe.
class stack_sockets {
public:
    stack_sockets(stack& s, std::size_t max_sockets) : _s(s), _max(max_sockets) {}
    stack_sockets(const stack_sockets&) = delete;
    stack_sockets& operator=(const stack_sockets&) = delete;

    [[nodiscard]] stack& owner() const noexcept { return _s; }
    /// Teardown (the stack's destructor; not core context): refuses new sockets,
    /// closes this stack's open sockets (waking blocked receivers and pollers), then
    /// waits until every socket is freed and every poller has left.
    void shutdown();
    [[nodiscard]] bool closing() const noexcept { return _closing.load(std::memory_order_seq_cst); }

    /// poll() support: pollers wait for the sequence to change; bumped on delivery and close.
    /// With `later` (core context), the pollers' wake-up is deferred onto it.
    void notify(wake_list* later = nullptr) noexcept;
    [[nodiscard]] std::uint32_t wait_seq() const noexcept { return _seq.load(std::memory_order_seq_cst); }
    /// Waits until the sequence differs from `seen` or timeout_ms passes (<0: no limit).
    void wait_change(std::uint32_t seen, int timeout_ms) noexcept;
    /// A poller enters (true) — or is refused because the stack is being destroyed
    /// (false; then it must not call leave_poll).
    bool enter_poll() noexcept;
    void leave_poll() noexcept;

private:
    friend class socket_table;
    bool reserve() noexcept;     ///< one more socket, if under max_sockets and not closing
    void unreserve() noexcept;   ///< a reserved socket was not opened after all
    void socket_freed() noexcept;
    void user_left() noexcept;   ///< the last touch of this object by a socket or poller

    stack& _s;
    std::size_t _max;
    std::atomic<std::size_t> _open{0};    ///< sockets counted against max_sockets
    std::atomic<std::uint32_t> _users{0};  ///< sockets not yet freed + pollers inside
    std::atomic<bool> _closing{false};
    std::atomic<std::uint32_t> _seq{0};
    std::atomic<std::uint32_t> _pollers{0};
};

/// The descriptor table. instance() is the process's table (immortal); tests may
/// build small ones to reach the end of the generations quickly.
class socket_table {
public:
    static constexpr int k_slot_bits = 12;
    static constexpr std::size_t k_slots = std::size_t{1} << k_slot_bits;
    /// Largest generation: keeps descriptors positive ints.
    static constexpr std::uint32_t k_max_generation = (1u << (31 - k_slot_bits)) - 1;

    /// `slots` <= k_slots; `max_generation` <= k_max_generation.
    socket_table(std::size_t slots, std::uint32_t max_generation);
    ~socket_table();
    socket_table(const socket_table&) = delete;
    socket_table& operator=(const socket_table&) = delete;
    /// The table every stack's socket API uses.
    static socket_table& instance();

    /// A held reference on an open socket (released on destruction).
    class ref {
    public:
        ref() = default;
        ref(socket_table* t, std::size_t idx, netconn* c) : _t(t), _idx(idx), _conn(c) {}
        ref(ref&& o) noexcept : _t(o._t), _idx(o._idx), _conn(o._conn) { o._conn = nullptr; }
        ref& operator=(ref&&) = delete;
        ~ref();
        [[nodiscard]] netconn* conn() const noexcept { return _conn; }
        explicit operator bool() const noexcept { return _conn != nullptr; }

    private:
        socket_table* _t = nullptr;
        std::size_t _idx = 0;
        netconn* _conn = nullptr;
    };

    /// Opens a socket for conn (the table owns conn from now on, on success). Returns
    /// the descriptor, or -1 with errno EMFILE (owner's max_sockets reached, or the
    /// stack is being destroyed) or ENFILE (no slot free in the process). On failure
    /// conn is left to the caller.
    int open(stack_sockets& owner, netconn* conn);
    /// A reference on owner's open socket fd; empty (EBADF) if fd is not an open
    /// socket of owner (closed, stale, never issued, or another stack's).
    ref acquire(const stack_sockets& owner, int fd);
    /// 0, or -1 (EBADF) as acquire.
    int close(const stack_sockets& owner, int fd);
    /// Closes every open socket of owner.
    void close_all(const stack_sockets& owner);

    /// Waits until `seen` differs from the freed sequence (bumped whenever a stack's
    /// user leaves), at most `timeout_ms`.
    [[nodiscard]] std::uint32_t freed_seq() const noexcept { return _freed_seq.load(std::memory_order_seq_cst); }
    void wait_freed(std::uint32_t seen, int timeout_ms) noexcept;
    void bump_freed() noexcept;

private:
    struct slot;
    void release(std::size_t idx) noexcept;
    void put_free(std::size_t idx) noexcept;

    std::unique_ptr<slot[]> _slots;
    std::size_t _n;
    std::uint32_t _max_gen;
    std::mutex _free_mutex;  ///< guards the free ring (open and free only, never per call)
    std::unique_ptr<std::uint32_t[]> _free_ring;
    std::size_t _free_head = 0, _free_count = 0;
    std::atomic<std::uint32_t> _freed_seq{0};
    std::atomic<std::uint32_t> _freed_waiters{0};
};

}  // namespace detail
LWBENCH_NS_END
