// detail/spin.hpp — cpu_relax and a minimal test-and-test-and-set spin lock guard,
// for critical sections of a few instructions (pool free lists, queue rings).
#pragma once

#include <atomic>

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
