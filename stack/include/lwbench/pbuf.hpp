// pbuf.hpp — packet buffers: chains, reference counts, layer headroom, pools and
// reference pbufs over caller memory.
//
// Rationale. A packet is a chain of pbufs (`next`), each holding `len` bytes at
// `payload`; `tot_len` of a pbuf is its `len` plus the `tot_len` of the rest of the
// chain. Buffers are reference-counted so that the zero-copy loopback can hand the
// very pbuf the sender built to the receiver: output takes a reference, the sender
// drops its own, and the receiver frees the last one. Headers are prepended by
// moving `payload` back into headroom reserved at allocation (`pbuf_layer`), so no
// layer ever copies the payload to make room for its header.
//
// Invariants (checked in tests):
//  - p->tot_len == p->len + (p->next ? p->next->tot_len : 0) for every pbuf of a chain.
//  - A pbuf is freed (returned to its pool / memory) exactly when `ref` drops to 0;
//    a chain link (`next`) holds one reference on the pbuf it points to.
//  - `ref` is atomic: a pbuf may be freed on a different thread from the one that
//    allocated it (the receiver frees what the sender built).
//  - After a pbuf has been handed to an output function it may be shared with a
//    receiver: the sender must not write to it any more, only free it.
//
// Context: every function here may run on any thread, core context included (the
// pools are thread-safe; allocate from a stack with pbuf_alloc / pbuf_alloc_ref in
// tcpip.hpp). A pbuf chain is used by one thread at a time — its owner — except for
// the atomic reference count, which any holder may drop.
//
// Types:
//  - pool: fixed-size element from the stack's pbuf pool (headroom + payload in one
//    block; a large request is a chain of pool elements). No heap allocation.
//  - ram:  one heap block (counted in stats.heap_alloc): the explicit fallback.
//  - ref:  header-only pbuf from the ref pool pointing at caller memory (zero-copy).
//          The caller states whether that memory is *stable* (valid until the free
//          hook runs) or *volatile* (valid only until the call returns): a volatile
//          pbuf is copied by whoever must keep it beyond the call (the loopback).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"
#include "lwbench/stats.hpp"

LWBENCH_NS_BEGIN

/// Headroom reserved in front of the payload, by the layer that allocates.
enum class pbuf_layer : std::uint16_t {
    transport = k_link_hlen + k_ip4_hlen + k_udp_hlen,  ///< room for UDP + IP + link headers
    ip = k_link_hlen + k_ip4_hlen,                      ///< room for IP + link headers
    link = k_link_hlen,                                 ///< room for the link header
    raw = 0,                                            ///< no headroom
};

enum class pbuf_type : std::uint8_t { pool, ram, ref };

/// Called when a ref pbuf is freed, so the owner of the referenced memory knows
/// the stack no longer uses it. Runs on whichever thread frees the last reference.
using pbuf_free_fn = void (*)(void* arg, const void* payload);

class pbuf_pools;

struct pbuf {
    pbuf* next = nullptr;       ///< next pbuf of the chain (holds one reference on it)
    void* payload = nullptr;    ///< first byte of this pbuf's data
    std::uint16_t len = 0;      ///< bytes in this pbuf
    std::uint16_t tot_len = 0;  ///< bytes in this pbuf and the rest of the chain
    pbuf_type type = pbuf_type::pool;
    std::uint8_t flags = 0;            ///< pbuf_flags
    std::atomic<std::uint16_t> ref{1};  ///< reference count; freed at 0
    pbuf_pools* owner = nullptr;       ///< pools (and stats) this pbuf came from
    std::byte* buf_start = nullptr;    ///< lowest address payload may move back to (headroom limit)
    pbuf_free_fn free_fn = nullptr;    ///< ref pbufs: release hook (may be null)
    void* free_arg = nullptr;

    [[nodiscard]] std::byte* bytes() const noexcept { return static_cast<std::byte*>(payload); }
};

namespace pbuf_flags {
inline constexpr std::uint8_t volatile_payload = 0x01;  ///< ref memory valid only during the call
}

/// The stack's pbuf memory: a pool of full-size buffers and a pool of header-only
/// pbufs for references. Thread-safe (a short spin lock per pool).
class pbuf_pools {
public:
    pbuf_pools(stats& st, std::size_t pool_count, std::size_t ref_count);
    ~pbuf_pools();
    pbuf_pools(const pbuf_pools&) = delete;
    pbuf_pools& operator=(const pbuf_pools&) = delete;

    /// Allocates a pbuf (chain) for `len` payload bytes with headroom for `layer`.
    /// pool: from the pool, chained over several elements if `len` does not fit one;
    ///       nullptr (stats.pool_exhausted counted) if the pool runs out.
    /// ram:  one heap block (stats.heap_alloc counted).
    /// ref:  a header-only pbuf with payload == nullptr; use alloc_ref instead.
    /// The returned pbuf has ref == 1 and belongs to the caller.
    pbuf* alloc(pbuf_layer layer, std::size_t len, pbuf_type type);

    /// A ref pbuf over caller memory `data[0..len)`. `stable`: the memory stays valid
    /// until `on_free` runs (zero-copy end to end); otherwise it is valid only until
    /// the current call returns and is copied by anything that keeps it longer.
    /// nullptr if the ref pool is exhausted or len > 65535.
    pbuf* alloc_ref(const void* data, std::size_t len, bool stable, pbuf_free_fn on_free = nullptr,
                    void* arg = nullptr);

    [[nodiscard]] std::size_t pool_in_use() const noexcept;
    [[nodiscard]] std::size_t ref_in_use() const noexcept;
    [[nodiscard]] std::size_t heap_in_use() const noexcept;
    [[nodiscard]] std::size_t pool_capacity() const noexcept { return _pool.count; }
    [[nodiscard]] std::size_t ref_capacity() const noexcept { return _refs.count; }
    /// Payload bytes one pool element carries after `layer`'s headroom.
    static constexpr std::size_t pool_payload(pbuf_layer layer) {
        return k_pool_bufsize - static_cast<std::size_t>(layer);
    }
    stats& st() noexcept { return _stats; }

private:
    friend std::uint8_t pbuf_free(pbuf* p);
    /// One pool: a free list and its counts, all changed only under `lock` (so the
    /// counts are plain load+store increments, readable from any thread).
    struct fixed_pool {
        std::unique_ptr<std::byte[]> memory;
        std::size_t element = 0, count = 0;
        pbuf* free_list = nullptr;
        std::atomic_flag lock = ATOMIC_FLAG_INIT;
        std::atomic<std::size_t> in_use{0};
        core_counter* allocs = nullptr;     ///< the stats counters of this pool
        core_counter* frees = nullptr;
        core_counter* exhausted = nullptr;
        pbuf* take() noexcept;              ///< nullptr (exhausted counted) when empty
        void give(pbuf* p) noexcept;
    };
    void release(pbuf* p) noexcept;  // returns one pbuf (ref already 0) to its memory
    stats& _stats;
    fixed_pool _pool, _refs;
    std::atomic<std::size_t> _heap_in_use{0};
};

/// Takes one more reference on p (thread-safe).
void pbuf_ref(pbuf* p) noexcept;

/// Drops one reference on p; frees it at zero and then does the same along the chain.
/// Returns how many pbufs were freed. Null is allowed (returns 0).
std::uint8_t pbuf_free(pbuf* p);

/// Moves payload back by n bytes into the headroom (first pbuf only). false (nothing
/// changed) if it is a ref pbuf or the headroom is too small.
[[nodiscard]] bool pbuf_add_header(pbuf* p, std::size_t n) noexcept;
/// Moves payload forward by n bytes (n <= p->len). false (nothing changed) otherwise.
[[nodiscard]] bool pbuf_remove_header(pbuf* p, std::size_t n) noexcept;
/// Removes n bytes from the front of the chain, freeing pbufs that become empty.
/// Takes over the caller's reference on p; returns the new head (or nullptr).
pbuf* pbuf_free_header(pbuf* p, std::size_t n);

/// Shrinks the chain to new_len bytes (new_len <= tot_len), freeing pbufs past the
/// end. Used to trim link padding. No-op if new_len >= tot_len.
void pbuf_realloc(pbuf* p, std::size_t new_len);

/// Appends t to h. The caller's reference on t passes to the chain (t is not ref'ed).
void pbuf_cat(pbuf* h, pbuf* t) noexcept;
/// Appends t to h and takes a new reference on t (the caller keeps its own).
void pbuf_chain(pbuf* h, pbuf* t) noexcept;
/// Number of pbufs in the chain.
std::size_t pbuf_clen(const pbuf* p) noexcept;
/// True if any pbuf of the chain references volatile memory.
bool pbuf_is_volatile(const pbuf* p) noexcept;

/// Copies up to `len` bytes from offset `offset` of the chain into dst. Counts one
/// payload copy. Returns the bytes copied.
std::size_t pbuf_copy_partial(const pbuf* p, void* dst, std::size_t len, std::size_t offset);
/// Copies `len` bytes from src into the chain (which must be at least len long).
/// Counts one payload copy. err::arg if the chain is too short.
err pbuf_take(pbuf* p, const void* src, std::size_t len);
/// A new pool chain with the same bytes as p (one counted copy), headroom for
/// `layer`. nullptr if the pool is exhausted.
pbuf* pbuf_clone(pbuf_layer layer, const pbuf* p);

LWBENCH_NS_END
