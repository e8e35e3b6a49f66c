// alloc_probe.hpp — counts real heap allocations of the whole process while armed:
// every global operator new (replaced in alloc_probe.cpp) and, outside sanitizer
// builds, every malloc/calloc/realloc/memalign family call (glibc malloc interposed,
// forwarding to __libc_malloc & co). The first few allocations seen while armed are
// recorded with a backtrace, so a failing steady-state test says exactly what allocated.
//
// oneTBB's cache_aligned_allocator (e.g. the pages of concurrent_bounded_queue) bypasses
// both when libtbbmalloc is installed (scalable_malloc); its entry point
// tbb::detail::r1::cache_aligned_allocate is interposed too and counted separately.
// Not covered: direct mmap, and libtbbmalloc calls that do not go through that entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lwbench::alloc_probe {

void arm() noexcept;
void disarm() noexcept;
/// Clears the counts and the recorded backtraces.
void reset() noexcept;
/// Allocation calls while armed (all threads).
std::uint64_t new_calls() noexcept;
std::uint64_t malloc_calls() noexcept;
/// oneTBB cache_aligned_allocate calls while armed (all threads).
std::uint64_t tbb_calls() noexcept;
/// True when malloc & co. are interposed (not in sanitizer builds).
bool malloc_hooked() noexcept;
/// Human-readable backtraces of the first allocations recorded while armed.
std::string describe();
/// Call once before arming: the first backtrace() loads libgcc_s (which allocates).
void prime();

}  // namespace lwbench::alloc_probe
