// pbuf.cpp — pbuf pools, reference counting, header moves, chains and copies.
#include "lwbench/pbuf.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include "lwbench/detail/spin.hpp"

LWBENCH_NS_BEGIN

namespace {
constexpr std::size_t k_align = 64;
constexpr std::size_t round_up(std::size_t n) { return (n + k_align - 1) / k_align * k_align; }
constexpr std::size_t k_hdr = round_up(sizeof(pbuf));
}  // namespace

// The counts change under the pool's lock: plain load+store (one locked instruction,
// the lock's own, per take or give).
pbuf* pbuf_pools::fixed_pool::take() noexcept {
    detail::spin_guard g(lock);
    pbuf* p = free_list;
    if (!p) {
        exhausted->inc();
        return nullptr;
    }
    free_list = p->next;
    in_use.store(in_use.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    allocs->inc();
    return p;
}

void pbuf_pools::fixed_pool::give(pbuf* p) noexcept {
    detail::spin_guard g(lock);
    p->next = free_list;
    free_list = p;
    in_use.store(in_use.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    frees->inc();
}

pbuf_pools::pbuf_pools(stats& st, std::size_t pool_count, std::size_t ref_count) : _stats(st) {
    const auto init = [this](fixed_pool& fp, std::size_t count, std::size_t element) {
        fp.element = element;
        fp.count = count;
        const bool pool = &fp == &_pool;
        fp.allocs = pool ? &_stats.pool_alloc : &_stats.ref_alloc;
        fp.frees = pool ? &_stats.pool_free : &_stats.ref_free;
        fp.exhausted = pool ? &_stats.pool_exhausted : &_stats.ref_exhausted;
        fp.memory.reset(new (std::align_val_t{k_align}) std::byte[element * count]);
        for (std::size_t i = count; i-- > 0;) {
            auto* p = new (fp.memory.get() + i * element) pbuf{};
            p->owner = this;
            p->next = fp.free_list;
            fp.free_list = p;
        }
    };
    init(_pool, pool_count, k_hdr + round_up(k_pool_bufsize));
    init(_refs, ref_count, k_hdr);
}

pbuf_pools::~pbuf_pools() {
    // Outstanding pbufs at this point are a leak in the caller (tests check in_use == 0).
    // The memory goes away with the pools either way; pbuf is trivially destructible
    // apart from its atomic, so nothing needs to run.
    for (auto* fp : {&_pool, &_refs}) {
        auto* mem = fp->memory.release();
        ::operator delete[](mem, std::align_val_t{k_align});
    }
}

std::size_t pbuf_pools::pool_in_use() const noexcept { return _pool.in_use.load(std::memory_order_relaxed); }
std::size_t pbuf_pools::ref_in_use() const noexcept { return _refs.in_use.load(std::memory_order_relaxed); }
std::size_t pbuf_pools::heap_in_use() const noexcept { return _heap_in_use.load(std::memory_order_relaxed); }

namespace {
void init_pbuf(pbuf* p, pbuf_type type, std::byte* buf, std::size_t offset, std::size_t len) {
    p->next = nullptr;
    p->type = type;
    p->flags = 0;
    p->ref.store(1, std::memory_order_relaxed);
    p->buf_start = buf;
    p->payload = buf ? buf + offset : nullptr;
    p->len = static_cast<std::uint16_t>(len);
    p->tot_len = static_cast<std::uint16_t>(len);
    p->free_fn = nullptr;
    p->free_arg = nullptr;
}
}  // namespace

pbuf* pbuf_pools::alloc(pbuf_layer layer, std::size_t len, pbuf_type type) {
    const auto offset = static_cast<std::size_t>(layer);
    if (len > 0xffff) return nullptr;
    switch (type) {
        case pbuf_type::pool: {
            pbuf* head = nullptr;
            pbuf* tail = nullptr;
            std::size_t left = len;
            std::size_t off = offset;
            do {
                pbuf* p = _pool.take();
                if (!p) {
                    if (head) pbuf_free(head);
                    return nullptr;
                }
                auto* buf = reinterpret_cast<std::byte*>(p) + k_hdr;
                const std::size_t here = std::min(left, k_pool_bufsize - off);
                init_pbuf(p, pbuf_type::pool, buf, off, here);
                p->tot_len = static_cast<std::uint16_t>(left);
                if (tail) {
                    tail->next = p;  // the chain holds the new pbuf's only reference
                } else {
                    head = p;
                }
                tail = p;
                left -= here;
                off = 0;  // only the first element reserves headroom
            } while (left > 0);
            return head;
        }
        case pbuf_type::ram: {
            auto* block = static_cast<std::byte*>(::operator new(k_hdr + offset + len, std::align_val_t{k_align}));
            auto* p = new (block) pbuf{};
            p->owner = this;
            init_pbuf(p, pbuf_type::ram, block + k_hdr, offset, len);
            _stats.heap_alloc.inc();
            _heap_in_use.fetch_add(1, std::memory_order_relaxed);
            return p;
        }
        case pbuf_type::ref: {
            pbuf* p = _refs.take();
            if (!p) return nullptr;
            init_pbuf(p, pbuf_type::ref, nullptr, 0, len);
            return p;
        }
    }
    return nullptr;
}

pbuf* pbuf_pools::alloc_ref(const void* data, std::size_t len, bool stable, pbuf_free_fn on_free, void* arg) {
    if (len > 0xffff) return nullptr;
    pbuf* p = alloc(pbuf_layer::raw, len, pbuf_type::ref);
    if (!p) return nullptr;
    p->payload = const_cast<void*>(data);  // the stack never writes through a ref pbuf
    p->free_fn = on_free;
    p->free_arg = arg;
    if (!stable) p->flags |= pbuf_flags::volatile_payload;
    return p;
}

void pbuf_pools::release(pbuf* p) noexcept {
    switch (p->type) {
        case pbuf_type::pool:
            _pool.give(p);
            break;
        case pbuf_type::ref:
            if (p->free_fn) p->free_fn(p->free_arg, p->payload);
            _refs.give(p);
            break;
        case pbuf_type::ram:
            _stats.heap_free.inc();
            _heap_in_use.fetch_sub(1, std::memory_order_relaxed);
            p->~pbuf();
            ::operator delete(static_cast<void*>(p), std::align_val_t{k_align});
            break;
    }
}

void pbuf_ref(pbuf* p) noexcept {
    assert(p && p->ref.load(std::memory_order_relaxed) > 0);
    p->ref.fetch_add(1, std::memory_order_relaxed);
}

std::uint8_t pbuf_free(pbuf* p) {
    std::uint8_t freed = 0;
    while (p) {
        // acq_rel / acquire: the thread that frees must see every write made to the
        // pbuf by the threads that dropped their references before it. The sole
        // holder (ref == 1) needs no atomic decrement: no other thread holds a
        // reference, so none may take or drop one concurrently (pbuf_ref requires a
        // reference). It stores 0 so that a double free still trips the assertion.
        if (p->ref.load(std::memory_order_acquire) == 1) {
            p->ref.store(0, std::memory_order_relaxed);
        } else {
            const auto before = p->ref.fetch_sub(1, std::memory_order_acq_rel);
            assert(before > 0 && "pbuf_free on a freed pbuf");
            if (before != 1) break;  // still referenced: the rest of the chain stays too
        }
        pbuf* next = p->next;
        p->owner->release(p);
        ++freed;
        p = next;
    }
    return freed;
}

bool pbuf_add_header(pbuf* p, std::size_t n) noexcept {
    if (!p || p->type == pbuf_type::ref || n > std::size_t{0xffff} - p->tot_len) return false;
    auto* np = p->bytes() - n;
    if (np < p->buf_start) return false;
    p->payload = np;
    p->len = static_cast<std::uint16_t>(p->len + n);
    p->tot_len = static_cast<std::uint16_t>(p->tot_len + n);
    return true;
}

bool pbuf_remove_header(pbuf* p, std::size_t n) noexcept {
    if (!p || n > p->len) return false;
    p->payload = p->bytes() + n;
    p->len = static_cast<std::uint16_t>(p->len - n);
    p->tot_len = static_cast<std::uint16_t>(p->tot_len - n);
    return true;
}

pbuf* pbuf_free_header(pbuf* p, std::size_t n) {
    while (p && n > 0) {
        if (n >= p->len) {
            n -= p->len;
            pbuf* next = p->next;
            p->next = nullptr;  // `next` keeps the chain's reference, now ours
            pbuf_free(p);
            p = next;
        } else {
            (void)pbuf_remove_header(p, n);
            n = 0;
        }
    }
    return p;
}

void pbuf_realloc(pbuf* p, std::size_t new_len) {
    if (!p || new_len >= p->tot_len) return;
    const std::size_t shrink = p->tot_len - new_len;
    std::size_t left = new_len;
    pbuf* q = p;
    while (left > q->len) {  // pbufs kept whole: their tot_len loses `shrink`
        left -= q->len;
        q->tot_len = static_cast<std::uint16_t>(q->tot_len - shrink);
        q = q->next;
    }
    // q is the last pbuf kept; it holds `left` bytes.
    q->len = static_cast<std::uint16_t>(left);
    q->tot_len = static_cast<std::uint16_t>(left);
    if (q->next) {
        pbuf* rest = q->next;
        q->next = nullptr;  // the chain's reference on `rest` is dropped here
        pbuf_free(rest);
    }
}

void pbuf_cat(pbuf* h, pbuf* t) noexcept {
    assert(h && t && h != t);
    pbuf* last = h;
    for (;; last = last->next) {
        last->tot_len = static_cast<std::uint16_t>(last->tot_len + t->tot_len);
        if (!last->next) break;
    }
    last->next = t;
}

void pbuf_chain(pbuf* h, pbuf* t) noexcept {
    pbuf_cat(h, t);
    pbuf_ref(t);
}

std::size_t pbuf_clen(const pbuf* p) noexcept {
    std::size_t n = 0;
    for (; p; p = p->next) ++n;
    return n;
}

bool pbuf_is_volatile(const pbuf* p) noexcept {
    for (; p; p = p->next)
        if (p->flags & pbuf_flags::volatile_payload) return true;
    return false;
}

namespace {
std::size_t copy_out(const pbuf* p, void* dst, std::size_t len, std::size_t offset) {
    auto* out = static_cast<std::byte*>(dst);
    std::size_t copied = 0;
    for (; p && copied < len; p = p->next) {
        if (offset >= p->len) {
            offset -= p->len;
            continue;
        }
        const std::size_t n = std::min<std::size_t>(p->len - offset, len - copied);
        std::memcpy(out + copied, p->bytes() + offset, n);
        copied += n;
        offset = 0;
    }
    return copied;
}
void count_copy(const pbuf* p, std::size_t bytes) {
    p->owner->st().payload_copies.inc();
    p->owner->st().payload_copy_bytes.inc(bytes);
}
}  // namespace

std::size_t pbuf_copy_partial(const pbuf* p, void* dst, std::size_t len, std::size_t offset) {
    if (!p) return 0;
    const std::size_t copied = copy_out(p, dst, len, offset);
    if (copied) count_copy(p, copied);
    return copied;
}

err pbuf_take(pbuf* p, const void* src, std::size_t len) {
    if (!p || p->tot_len < len) return err::arg;
    auto* in = static_cast<const std::byte*>(src);
    count_copy(p, len);
    std::size_t done = 0;
    for (; p && done < len; p = p->next) {
        const std::size_t n = std::min<std::size_t>(p->len, len - done);
        std::memcpy(p->payload, in + done, n);
        done += n;
    }
    return err::ok;
}

pbuf* pbuf_clone(pbuf_layer layer, const pbuf* p) {
    pbuf* q = p->owner->alloc(layer, p->tot_len, pbuf_type::pool);
    if (!q) return nullptr;
    std::size_t off = 0;
    for (pbuf* d = q; d; d = d->next) off += copy_out(p, d->payload, d->len, off);
    count_copy(p, p->tot_len);
    return q;
}

void stats::drop(drop_reason r, pbuf* p) {
    drop(r);
    pbuf_free(p);
}

LWBENCH_NS_END
