// detail/core_lock.hpp — the global core lock, three interchangeable kinds:
// std::mutex (futex, sleeps when contended), tbb::spin_mutex (spins), and
// tbb::queuing_mutex (fair FIFO hand-off; each acquisition needs a queue node,
// kept in the caller's lock_token).
#pragma once

#include <mutex>

#include <oneapi/tbb/queuing_mutex.h>
#include <oneapi/tbb/spin_mutex.h>

#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

/// Per-acquisition state (the queuing_mutex node); lives on the locker's stack.
struct lock_token {
    alignas(64) unsigned char storage[64];
};
static_assert(sizeof(tbb::queuing_mutex::scoped_lock) <= sizeof(lock_token::storage));

class core_lock {
public:
    explicit core_lock(lock_kind k) : _kind(k) {}
    void lock(lock_token& t) {
        switch (_kind) {
            case lock_kind::std_mutex: _mutex.lock(); break;
            case lock_kind::tbb_spin_mutex: _spin.lock(); break;
            case lock_kind::tbb_queuing_mutex:
                (new (t.storage) tbb::queuing_mutex::scoped_lock())->acquire(_queuing);
                break;
        }
    }
    /// Takes the lock if it is free right now. Never fails spuriously while the lock is
    /// free (glibc's pthread_mutex_trylock and TBB's try-locks do not): the combining
    /// mode relies on a failed try meaning "another thread holds the core".
    bool try_lock(lock_token& t) {
        switch (_kind) {
            case lock_kind::std_mutex: return _mutex.try_lock();
            case lock_kind::tbb_spin_mutex: return _spin.try_lock();
            case lock_kind::tbb_queuing_mutex: {
                auto* sl = new (t.storage) tbb::queuing_mutex::scoped_lock();
                if (sl->try_acquire(_queuing)) return true;
                sl->~scoped_lock();
                return false;
            }
        }
        return false;
    }
    void unlock(lock_token& t) {
        switch (_kind) {
            case lock_kind::std_mutex: _mutex.unlock(); break;
            case lock_kind::tbb_spin_mutex: _spin.unlock(); break;
            case lock_kind::tbb_queuing_mutex: {
                auto* sl = std::launder(reinterpret_cast<tbb::queuing_mutex::scoped_lock*>(t.storage));
                sl->release();
                sl->~scoped_lock();
                break;
            }
        }
    }
    [[nodiscard]] lock_kind kind() const noexcept { return _kind; }

private:
    lock_kind _kind;
    std::mutex _mutex;
    tbb::spin_mutex _spin;
    tbb::queuing_mutex _queuing;
};

}  // namespace detail
LWBENCH_NS_END
