// alloc_probe.cpp — see alloc_probe.hpp. Linked as a source of the test executable,
// so these definitions replace the global operator new/delete and (without
// sanitizers) glibc's malloc entry points for the whole program.
#include "alloc_probe.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include <oneapi/tbb/cache_aligned_allocator.h>

#if !defined(LWBENCH_NO_MALLOC_HOOK)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
void __libc_free(void*);
}
#endif

namespace lwbench::alloc_probe {
namespace {

std::atomic<bool> g_armed{false};
enum class kind : std::uint8_t { op_new, malloc_family, tbb };
std::atomic<std::uint64_t> g_new{0}, g_malloc{0}, g_tbb{0};

constexpr int k_traces = 6, k_depth = 24;
struct trace {
    void* frames[k_depth];
    int depth;
    kind k;
    std::size_t size;
};
trace g_traces[k_traces];
std::atomic<int> g_ntraces{0};
thread_local bool t_in_probe = false;

void note(kind k, std::size_t size) noexcept {
    if (!g_armed.load(std::memory_order_relaxed)) return;
    (k == kind::op_new ? g_new : k == kind::tbb ? g_tbb : g_malloc).fetch_add(1, std::memory_order_relaxed);
    if (t_in_probe) return;  // backtrace() itself must not recurse into us
    t_in_probe = true;
    const int i = g_ntraces.fetch_add(1, std::memory_order_relaxed);
    if (i < k_traces) {
        g_traces[i].k = k;
        g_traces[i].size = size;
        g_traces[i].depth = backtrace(g_traces[i].frames, k_depth);
    }
    t_in_probe = false;
}

void* raw_malloc(std::size_t n) noexcept {
#if defined(LWBENCH_NO_MALLOC_HOOK)
    return std::malloc(n);
#else
    return __libc_malloc(n);
#endif
}

void* raw_aligned(std::size_t n, std::size_t al) noexcept {
#if defined(LWBENCH_NO_MALLOC_HOOK)
    return std::aligned_alloc(al, (n + al - 1) / al * al);
#else
    return __libc_memalign(al, n);
#endif
}

void raw_free(void* p) noexcept {
#if defined(LWBENCH_NO_MALLOC_HOOK)
    std::free(p);
#else
    __libc_free(p);
#endif
}

std::string demangle_line(const char* line) {
    // "binary(mangled+0x12) [0x...]" -> "binary(demangled+0x12) [0x...]"
    std::string s(line);
    const auto open = s.find('('), plus = s.find('+', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || plus == std::string::npos || plus <= open + 1) return s;
    const std::string mangled = s.substr(open + 1, plus - open - 1);
    int status = 0;
    char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    if (status == 0 && d) {
        s = s.substr(0, open + 1) + d + s.substr(plus);
        std::free(d);
    }
    return s;
}

}  // namespace

void arm() noexcept { g_armed.store(true, std::memory_order_seq_cst); }
void disarm() noexcept { g_armed.store(false, std::memory_order_seq_cst); }
void reset() noexcept {
    g_new.store(0);
    g_malloc.store(0);
    g_tbb.store(0);
    g_ntraces.store(0);
}
std::uint64_t new_calls() noexcept { return g_new.load(); }
std::uint64_t tbb_calls() noexcept { return g_tbb.load(); }
std::uint64_t malloc_calls() noexcept { return g_malloc.load(); }
bool malloc_hooked() noexcept {
#if defined(LWBENCH_NO_MALLOC_HOOK)
    return false;
#else
    return true;
#endif
}

using tbb_alloc_fn = void* (*)(std::size_t);
tbb_alloc_fn tbb_real_allocate() noexcept {
    static const auto real =
        reinterpret_cast<tbb_alloc_fn>(dlsym(RTLD_NEXT, "_ZN3tbb6detail2r122cache_aligned_allocateEm"));
    return real;
}

void prime() {
    void* frames[4];
    (void)backtrace(frames, 4);
    (void)tbb_real_allocate();  // dlsym may allocate: resolve before arming
}

std::string describe() {
    std::string out;
    const int n = std::min(g_ntraces.load(), k_traces);
    for (int i = 0; i < n; ++i) {
        const auto& t = g_traces[i];
        out += "allocation " + std::to_string(i + 1) + ": " + (t.k == kind::op_new ? "operator new" : t.k == kind::tbb ? "oneTBB cache_aligned_allocate" : "malloc family") + " of " +
               std::to_string(t.size) + " bytes\n";
        char** syms = backtrace_symbols(t.frames, t.depth);
        for (int f = 0; f < t.depth; ++f)
            out += "    " + (syms ? demangle_line(syms[f]) : std::string("?")) + "\n";
        std::free(syms);
    }
    return out;
}

// Interface for the replacements below (outside the anonymous namespace).
void* probe_new(std::size_t n) noexcept {
    note(kind::op_new, n);
    return raw_malloc(n ? n : 1);
}
void* probe_new_aligned(std::size_t n, std::size_t al) noexcept {
    note(kind::op_new, n);
    return raw_aligned(n ? n : 1, al);
}
void probe_delete(void* p) noexcept { raw_free(p); }

}  // namespace lwbench::alloc_probe

// ---- global operator new/delete --------------------------------------------------------------
using lwbench::alloc_probe::probe_delete;
using lwbench::alloc_probe::probe_new;
using lwbench::alloc_probe::probe_new_aligned;

void* operator new(std::size_t n) {
    if (void* p = probe_new(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = probe_new(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return probe_new(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return probe_new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = probe_new_aligned(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    if (void* p = probe_new_aligned(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return probe_new_aligned(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return probe_new_aligned(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { probe_delete(p); }
void operator delete[](void* p) noexcept { probe_delete(p); }
void operator delete(void* p, std::size_t) noexcept { probe_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { probe_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { probe_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { probe_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { probe_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { probe_delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { probe_delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { probe_delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { probe_delete(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { probe_delete(p); }

// ---- oneTBB's allocator entry (cache_aligned_allocator<T>::allocate calls it) ----------------
// Defined in the executable, so the stack's calls bind here; forwards to libtbb's.
namespace tbb::detail::r1 {
void* __TBB_EXPORTED_FUNC cache_aligned_allocate(std::size_t size) {
    lwbench::alloc_probe::note(lwbench::alloc_probe::kind::tbb, size);
    const auto real = lwbench::alloc_probe::tbb_real_allocate();
    if (!real) throw std::bad_alloc();
    return real(size);
}
}  // namespace tbb::detail::r1

// ---- glibc malloc interposition (not with sanitizers, which interpose it themselves) ---------
#if !defined(LWBENCH_NO_MALLOC_HOOK)
using lwbench::alloc_probe::kind;
using lwbench::alloc_probe::note;

extern "C" {
void* malloc(std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t m) noexcept {
    note(kind::malloc_family, n * m);
    return __libc_calloc(n, m);
}
void* realloc(void* p, std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_realloc(p, n);
}
void free(void* p) noexcept { __libc_free(p); }
void* memalign(std::size_t al, std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_memalign(al, n);
}
void* aligned_alloc(std::size_t al, std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_memalign(al, n);
}
int posix_memalign(void** out, std::size_t al, std::size_t n) noexcept {
    note(kind::malloc_family, n);
    if (al < sizeof(void*) || (al & (al - 1)) != 0) return 22;  // EINVAL
    void* p = __libc_memalign(al, n);
    if (!p) return 12;  // ENOMEM
    *out = p;
    return 0;
}
void* valloc(std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_valloc(n);
}
void* pvalloc(std::size_t n) noexcept {
    note(kind::malloc_family, n);
    return __libc_pvalloc(n);
}
}
#endif
