// detail/bounded_queue.hpp — a bounded multi-producer multi-consumer FIFO on a
// spin-locked ring, with futex-backed blocking (optionally spinning first), pop
// deadlines and close().
//
// Used as the spin-then-block tcpip mailbox and as every netconn's receive mailbox.
// The ring lock is held for a handful of instructions only; waiting happens on the
// semaphores, never under the lock. close() wakes every blocked popper and pusher:
// the woken thread finds the ring empty (or closed) and passes the wake-up on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/detail/spin.hpp"

LWBENCH_NS_BEGIN
namespace detail {

enum class pop_status { ok, empty, timeout, closed };

template <class T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity, std::uint32_t spin = 0)
        : _ring(capacity), _spin(spin), _limit(capacity), _items(0),
          _spaces(static_cast<std::uint32_t>(capacity)) {}

    /// Never blocks. false if full (size >= limit) or closed; `v` is untouched then.
    /// With `later` (core context), a blocked popper's wake-up is deferred onto it.
    bool try_push(const T& v, wake_list* later = nullptr) noexcept {
        if (_closed.load(std::memory_order_acquire) || !_spaces.try_acquire()) return false;
        {
            spin_guard g(_lock);
            if (_size >= _limit) {
                _spaces.post();
                return false;
            }
            put(v);
        }
        if (later) {
            _items.post(*later);
        } else {
            _items.post();
        }
        return true;
    }

    /// Blocks while full. false if the queue is (or becomes) closed.
    bool push(const T& v) noexcept {
        for (;;) {
            if (_closed.load(std::memory_order_acquire)) return false;
            _spaces.acquire(_spin);
            spin_guard g(_lock);
            if (_closed.load(std::memory_order_relaxed)) {
                _spaces.post();  // pass the close wake-up on
                return false;
            }
            put(v);
            break;
        }
        _items.post();
        return true;
    }

    /// Takes the oldest item. `nonblocking`: returns empty at once if there is none.
    /// `deadline`: gives up then (timeout). Returns closed once closed and drained.
    pop_status pop(T& out, bool nonblocking = false,
                   std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) noexcept {
        for (;;) {
            bool got;
            if (nonblocking) {
                got = _items.try_acquire();
                if (!got) return _closed.load(std::memory_order_acquire) ? pop_status::closed : pop_status::empty;
            } else if (deadline) {
                got = _items.acquire_until(*deadline, _spin);
                if (!got) return _closed.load(std::memory_order_acquire) ? pop_status::closed : pop_status::timeout;
            } else {
                _items.acquire(_spin);
            }
            spin_guard g(_lock);
            if (_size == 0) {
                // Only close() posts a unit without an item: pass it on to the next waiter.
                _items.post();
                return pop_status::closed;
            }
            out = _ring[_head];
            _head = (_head + 1) % _ring.size();
            --_size;
            break;
        }
        _spaces.post();
        return pop_status::ok;
    }

    /// Marks the queue closed and wakes all waiters. Items already queued can still
    /// be popped (drained); pushes fail from now on.
    void close() noexcept {
        _closed.store(true, std::memory_order_release);
        _items.post();
        _spaces.post();
    }

    /// Copies the oldest item into `out` without taking it; false if empty.
    bool peek(T& out) const noexcept {
        spin_guard g(_lock);
        if (_size == 0) return false;
        out = _ring[_head];
        return true;
    }

    [[nodiscard]] bool closed() const noexcept { return _closed.load(std::memory_order_acquire); }
    [[nodiscard]] std::size_t size() const noexcept {
        spin_guard g(_lock);
        return _size;
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return _ring.size(); }
    /// Lowers (or restores) how many items try_push accepts. false (nothing changed)
    /// unless 1 <= limit <= capacity.
    bool set_limit(std::size_t limit) noexcept {
        if (limit < 1 || limit > _ring.size()) return false;
        spin_guard g(_lock);
        _limit = limit;
        return true;
    }
    [[nodiscard]] std::size_t limit() const noexcept {
        spin_guard g(_lock);
        return _limit;
    }

private:
    void put(const T& v) noexcept {
        _ring[(_head + _size) % _ring.size()] = v;
        ++_size;
    }
    // Layout: a pusher and a popper on different CPUs each write the ring state and
    // one semaphore and poll the other semaphore while they wait. Each of those three
    // has a cache line of its own (k_cache_line), so a waiter's polling never steals
    // the line its partner is writing; the rest is read-mostly.
    std::vector<T> _ring;  // the buffer is written under _lock
    std::uint32_t _spin;
    std::atomic<bool> _closed{false};
    alignas(k_cache_line) mutable std::atomic_flag _lock = ATOMIC_FLAG_INIT;
    std::size_t _head = 0, _size = 0, _limit;  // guarded by _lock
    alignas(k_cache_line) futex_sem _items;   // posted by pushers, polled and taken by poppers
    alignas(k_cache_line) futex_sem _spaces;  // posted by poppers, polled and taken by pushers
};

}  // namespace detail
LWBENCH_NS_END
