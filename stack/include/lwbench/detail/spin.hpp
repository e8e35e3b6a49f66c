// detail/spin.hpp — cpu_relax, the cache line size data shared between threads is laid
// out for, and a minimal test-and-test-and-set spin lock guard, for critical sections
// of a few instructions (pool free lists, queue rings).
#pragma once

#include <atomic>
#include <cstddef>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN
namespace detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

/// The cache line size we lay out for (x86-64 and most AArch64 cores). Data written by
/// different threads goes on different lines (alignas), so that one thread polling its
/// line never takes away a line another thread is writing: across CPUs every such
/// steal is one more cache-line transfer (~0.1-0.3 µs) on the hand-off's path.
/// (std::hardware_destructive_interference_size is not stable across GCC versions.)
inline constexpr std::size_t k_cache_line = 64;

class spin_guard {
public:
    explicit spin_guard(std::atomic_flag& f) noexcept : _f(f) {
        while (_f.test_and_set(std::memory_order_acquire))
            while (_f.test(std::memory_order_relaxed)) cpu_relax();
    }
    ~spin_guard() { _f.clear(std::memory_order_release); }
    spin_guard(const spin_guard&) = delete;
    spin_guard& operator=(const spin_guard&) = delete;

private:
    std::atomic_flag& _f;
};

}  // namespace detail
LWBENCH_NS_END
