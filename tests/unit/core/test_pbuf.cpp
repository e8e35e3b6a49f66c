// test_pbuf.cpp — pbuf reference counts, chains, headroom, reference pbufs, pool
// exhaustion, copies and cross-thread frees (stack/src/core/pbuf.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "lwbench/pbuf.hpp"
#include "lwbench/tcpip.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

constexpr std::size_t k_pool = 48;  // >= 41: one 65535-byte chain fits
constexpr std::size_t k_refs = 16;

class Pbuf : public ::testing::Test {
protected:
    static stack_config small_pools() {
        stack_config c;
        c.pbuf_pool_size = k_pool;
        c.pbuf_ref_pool_size = k_refs;
        return c;
    }
    void TearDown() override { expect_no_leaks(s); }
    pbuf* alloc(std::size_t len, pbuf_layer layer = pbuf_layer::raw) {
        return pbuf_alloc(s, layer, len, pbuf_type::pool);
    }
    stats& st() { return s.st(); }

    stack s{small_pools()};
};

// ---- reference counts ---------------------------------------------------------------

// pbuf_free returns how many pbufs it released: 0 while references remain, 1 at the last.
TEST_F(Pbuf, RefCountFreesOnlyAtZero) {
    pbuf* p = alloc(100);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->ref.load(), 1);
    pbuf_ref(p);
    pbuf_ref(p);
    EXPECT_EQ(p->ref.load(), 3);
    EXPECT_EQ(pbuf_free(p), 0);
    EXPECT_EQ(pbuf_free(p), 0);
    EXPECT_EQ(s.pools().pool_in_use(), 1u);
    EXPECT_EQ(pbuf_free(p), 1);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
    EXPECT_EQ(st().pool_alloc.get(), 1u);
    EXPECT_EQ(st().pool_free.get(), 1u);
    EXPECT_EQ(pbuf_free(nullptr), 0);
}

// Freeing a chain walks it until a pbuf that is still referenced elsewhere.
TEST_F(Pbuf, FreeChainStopsAtSharedPbuf) {
    pbuf* a = alloc(10);
    pbuf* b = alloc(20);
    pbuf* c = alloc(30);
    pbuf_cat(a, b);
    pbuf_cat(a, c);
    pbuf_ref(b);  // someone else holds b (and through it, c)
    EXPECT_EQ(pbuf_free(a), 1);  // only a
    EXPECT_EQ(b->ref.load(), 1);
    EXPECT_EQ(b->tot_len, 50);
    EXPECT_EQ(pbuf_free(b), 2);  // b and c
}

// ---- chains ---------------------------------------------------------------------------

// A request larger than one pool element becomes a chain; headroom only in the first.
TEST_F(Pbuf, LargeAllocationIsChainedOverPoolElements) {
    const std::size_t first = pbuf_pools::pool_payload(pbuf_layer::transport);
    ASSERT_EQ(first, k_pool_bufsize - 42);
    const std::size_t len = first + k_pool_bufsize + 100;
    pbuf* p = alloc(len, pbuf_layer::transport);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(pbuf_clen(p), 3u);
    EXPECT_TRUE(chain_ok(p));
    EXPECT_EQ(p->tot_len, len);
    EXPECT_EQ(p->len, first);
    EXPECT_EQ(p->next->len, k_pool_bufsize);
    EXPECT_EQ(p->next->next->len, 100u);
    EXPECT_EQ(p->bytes() - p->buf_start, 42);
    EXPECT_EQ(p->next->bytes() - p->next->buf_start, 0);
    EXPECT_EQ(s.pools().pool_in_use(), 3u);
    EXPECT_EQ(pbuf_free(p), 3);
}

// Exactly one element when the payload fits after the headroom; a chain at one byte more.
TEST_F(Pbuf, ElementBoundaryAtHeadroom) {
    const std::size_t fit = pbuf_pools::pool_payload(pbuf_layer::ip);
    pbuf* a = alloc(fit, pbuf_layer::ip);
    pbuf* b = alloc(fit + 1, pbuf_layer::ip);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(pbuf_clen(a), 1u);
    EXPECT_EQ(pbuf_clen(b), 2u);
    EXPECT_EQ(b->next->len, 1u);
    EXPECT_TRUE(chain_ok(b));
    pbuf_free(a);
    pbuf_free(b);
}

// 65535 bytes is the largest pbuf; one byte more is refused (tot_len is 16 bits).
TEST_F(Pbuf, LengthLimit) {
    EXPECT_EQ(alloc(65536), nullptr);
    EXPECT_EQ(pbuf_alloc_ref(s, "x", 65536, true), nullptr);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
    EXPECT_EQ(s.pools().ref_in_use(), 0u);
    pbuf* p = alloc(65535);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->tot_len, 65535);
    EXPECT_EQ(pbuf_clen(p), (65535 + k_pool_bufsize - 1) / k_pool_bufsize);
    EXPECT_TRUE(chain_ok(p));
    pbuf_free(p);
}

// pbuf_cat: the chain takes over the caller's reference (no new ref); invariant holds.
TEST_F(Pbuf, CatKeepsInvariantAndTakesReference) {
    pbuf* h = alloc(100);
    pbuf* t = alloc(k_pool_bufsize + 50);  // itself a 2-element chain
    ASSERT_TRUE(h && t);
    pbuf_cat(h, t);
    EXPECT_EQ(t->ref.load(), 1);
    EXPECT_EQ(pbuf_clen(h), 3u);
    EXPECT_EQ(h->tot_len, 100 + k_pool_bufsize + 50);
    EXPECT_TRUE(chain_ok(h));
    EXPECT_EQ(pbuf_free(h), 3);
}

// pbuf_chain: the chain takes a NEW reference; the caller still owns its own.
TEST_F(Pbuf, ChainTakesNewReference) {
    pbuf* h = alloc(10);
    pbuf* m = alloc(11);
    pbuf* t = alloc(12);
    pbuf_chain(h, m);
    pbuf_chain(h, t);  // appended after m: h -> m -> t
    EXPECT_EQ(m->ref.load(), 2);
    EXPECT_EQ(t->ref.load(), 2);
    EXPECT_EQ(h->tot_len, 33);
    EXPECT_EQ(m->tot_len, 23);
    EXPECT_EQ(m->next, t);
    EXPECT_TRUE(chain_ok(h));
    EXPECT_EQ(pbuf_free(h), 1);  // h; m: 2 -> 1 (the caller's), walk stops
    EXPECT_EQ(m->ref.load(), 1);
    EXPECT_EQ(pbuf_free(m), 1);  // m; t: 2 -> 1, walk stops
    EXPECT_EQ(t->ref.load(), 1);
    EXPECT_EQ(pbuf_free(t), 1);
}

// pbuf_realloc trims the chain, frees the pbufs past the new end, keeps the invariant.
TEST_F(Pbuf, ReallocTrimsChain) {
    const std::size_t first = pbuf_pools::pool_payload(pbuf_layer::raw);
    pbuf* p = alloc(3 * first);
    ASSERT_EQ(pbuf_clen(p), 3u);
    pbuf_realloc(p, first + 10);  // into the second element
    EXPECT_EQ(pbuf_clen(p), 2u);
    EXPECT_EQ(p->tot_len, first + 10);
    EXPECT_EQ(p->next->len, 10u);
    EXPECT_TRUE(chain_ok(p));
    EXPECT_EQ(s.pools().pool_in_use(), 2u);
    pbuf_realloc(p, 5000);  // larger: no-op
    EXPECT_EQ(p->tot_len, first + 10);
    pbuf_realloc(p, first);  // exactly the first element
    EXPECT_EQ(pbuf_clen(p), 1u);
    EXPECT_EQ(p->len, first);
    EXPECT_EQ(p->tot_len, first);
    pbuf_realloc(p, 0);
    EXPECT_EQ(p->len, 0u);
    EXPECT_EQ(p->tot_len, 0u);
    EXPECT_EQ(pbuf_free(p), 1);
}

// pbuf_free_header drops whole pbufs that become empty and trims into the next one.
TEST_F(Pbuf, FreeHeaderAcrossPbufs) {
    pbuf* a = alloc(10);
    pbuf* b = alloc(20);
    pbuf* c = alloc(30);
    pbuf_cat(a, b);
    pbuf_cat(a, c);
    const void* b_payload = b->payload;
    pbuf* q = pbuf_free_header(a, 15);  // a gone, 5 bytes off b
    ASSERT_EQ(q, b);
    EXPECT_EQ(q->payload, static_cast<const std::byte*>(b_payload) + 5);
    EXPECT_EQ(q->len, 15u);
    EXPECT_EQ(q->tot_len, 45u);
    EXPECT_TRUE(chain_ok(q));
    EXPECT_EQ(s.pools().pool_in_use(), 2u);
    q = pbuf_free_header(q, 15);  // exactly b
    ASSERT_EQ(q, c);
    EXPECT_EQ(q->tot_len, 30u);
    EXPECT_EQ(pbuf_free_header(q, 30), nullptr);  // everything
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
}

// ---- headroom -------------------------------------------------------------------------

// Headers go into the reserved headroom; beyond it add_header fails and changes nothing.
TEST_F(Pbuf, HeadroomPushPop) {
    pbuf* p = alloc(10, pbuf_layer::transport);
    void* const orig = p->payload;
    ASSERT_TRUE(pbuf_add_header(p, k_udp_hlen));
    ASSERT_TRUE(pbuf_add_header(p, k_ip4_hlen));
    ASSERT_TRUE(pbuf_add_header(p, k_link_hlen));
    EXPECT_EQ(p->len, 52u);
    EXPECT_EQ(p->tot_len, 52u);
    EXPECT_EQ(p->bytes(), static_cast<std::byte*>(orig) - 42);
    void* const full = p->payload;
    EXPECT_FALSE(pbuf_add_header(p, 1));  // headroom used up
    EXPECT_EQ(p->payload, full);
    EXPECT_EQ(p->len, 52u);
    EXPECT_EQ(p->tot_len, 52u);
    ASSERT_TRUE(pbuf_remove_header(p, 42));
    EXPECT_EQ(p->payload, orig);
    EXPECT_EQ(p->len, 10u);
    EXPECT_FALSE(pbuf_remove_header(p, 11));  // more than len
    EXPECT_EQ(p->len, 10u);
    EXPECT_TRUE(pbuf_remove_header(p, 10));
    EXPECT_EQ(p->len, 0u);
    pbuf_free(p);
}

// Asking for more than the headroom in one step fails as a whole (no partial move).
TEST_F(Pbuf, HeadroomOvershootChangesNothing) {
    pbuf* p = alloc(10, pbuf_layer::ip);  // 34 bytes of headroom
    void* const orig = p->payload;
    EXPECT_FALSE(pbuf_add_header(p, 35));
    EXPECT_EQ(p->payload, orig);
    EXPECT_EQ(p->tot_len, 10u);
    EXPECT_TRUE(pbuf_add_header(p, 34));
    pbuf* raw = alloc(10, pbuf_layer::raw);
    EXPECT_FALSE(pbuf_add_header(raw, 1));
    EXPECT_EQ(raw->len, 10u);
    pbuf_free(p);
    pbuf_free(raw);
}

// add_header on the head of a chain updates its tot_len only, invariant kept.
TEST_F(Pbuf, HeaderOnChainKeepsInvariant) {
    pbuf* p = alloc(2 * k_pool_bufsize, pbuf_layer::transport);
    ASSERT_GE(pbuf_clen(p), 2u);
    ASSERT_TRUE(pbuf_add_header(p, 28));
    EXPECT_EQ(p->tot_len, 2 * k_pool_bufsize + 28);
    EXPECT_TRUE(chain_ok(p));
    pbuf_free(p);
}

// A reference pbuf never gets a header (its memory belongs to the caller).
TEST_F(Pbuf, AddHeaderRefusedOnRefPbuf) {
    static const char data[] = "0123456789abcdef";
    pbuf* p = pbuf_alloc_ref(s, data + 8, 8, true);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(pbuf_add_header(p, 1));
    EXPECT_EQ(p->payload, data + 8);  // memory in front exists, yet untouched
    EXPECT_EQ(p->len, 8u);
    pbuf_free(p);
}

// ---- reference pbufs -----------------------------------------------------------------

struct hook_log {
    std::atomic<int> calls{0};
    std::atomic<const void*> last{nullptr};
    static void fn(void* arg, const void* payload) {
        auto* h = static_cast<hook_log*>(arg);
        h->last.store(payload);
        h->calls.fetch_add(1);
    }
};

// A ref pbuf points at the caller's memory; the free hook runs once, at the last free.
TEST_F(Pbuf, RefPbufFreeHookRunsExactlyOnce) {
    static const std::uint8_t data[64] = {1, 2, 3};
    hook_log h;
    pbuf* p = pbuf_alloc_ref(s, data, sizeof data, true, &hook_log::fn, &h);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->type, pbuf_type::ref);
    EXPECT_EQ(p->payload, data);
    EXPECT_EQ(p->len, 64u);
    EXPECT_EQ(p->flags & pbuf_flags::volatile_payload, 0);
    EXPECT_FALSE(pbuf_is_volatile(p));
    EXPECT_EQ(s.pools().ref_in_use(), 1u);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);  // header-only: no pool element
    pbuf_ref(p);
    EXPECT_EQ(pbuf_free(p), 0);
    EXPECT_EQ(h.calls.load(), 0);
    EXPECT_EQ(pbuf_free(p), 1);
    EXPECT_EQ(h.calls.load(), 1);
    EXPECT_EQ(h.last.load(), data);
    EXPECT_EQ(st().ref_alloc.get(), 1u);
    EXPECT_EQ(st().ref_free.get(), 1u);
}

// Volatile memory is flagged, and a chain containing it is volatile as a whole.
TEST_F(Pbuf, VolatileFlagPropagatesToChain) {
    const std::uint8_t data[8] = {};
    pbuf* head = alloc(20);
    pbuf* v = pbuf_alloc_ref(s, data, sizeof data, false);
    ASSERT_NE(v, nullptr);
    EXPECT_NE(v->flags & pbuf_flags::volatile_payload, 0);
    EXPECT_FALSE(pbuf_is_volatile(head));
    pbuf_cat(head, v);
    EXPECT_TRUE(pbuf_is_volatile(head));
    EXPECT_EQ(pbuf_free(head), 2);
}

// The ref pool is bounded: exhaustion returns nullptr and is counted.
TEST_F(Pbuf, RefPoolExhaustion) {
    const char c = 'x';
    std::vector<pbuf*> v;
    for (std::size_t i = 0; i < k_refs; ++i) {
        v.push_back(pbuf_alloc_ref(s, &c, 1, true));
        ASSERT_NE(v.back(), nullptr);
    }
    EXPECT_EQ(pbuf_alloc_ref(s, &c, 1, true), nullptr);
    EXPECT_EQ(st().ref_exhausted.get(), 1u);
    for (pbuf* p : v) pbuf_free(p);
}

// ---- pools ------------------------------------------------------------------------------

// Pool exhaustion: nullptr, counted, and a partly built chain goes back to the pool.
TEST_F(Pbuf, PoolExhaustionFreesPartialChain) {
    std::vector<pbuf*> v;
    for (std::size_t i = 0; i < k_pool - 3; ++i) v.push_back(alloc(1));
    EXPECT_EQ(s.pools().pool_in_use(), k_pool - 3);
    // Needs 5 elements, 3 are left: the 3 taken are given back.
    EXPECT_EQ(alloc(5 * k_pool_bufsize), nullptr);
    EXPECT_EQ(st().pool_exhausted.get(), 1u);
    EXPECT_EQ(s.pools().pool_in_use(), k_pool - 3);
    EXPECT_EQ(st().pool_alloc.get() - st().pool_free.get(), k_pool - 3);
    // The 3 are really free again: a 3-element chain fits.
    pbuf* p = alloc(3 * k_pool_bufsize);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(alloc(1), nullptr);
    EXPECT_EQ(st().pool_exhausted.get(), 2u);
    pbuf_free(p);
    for (pbuf* q : v) pbuf_free(q);
}

// type ram: one heap block, counted as a heap fallback.
TEST_F(Pbuf, RamPbufIsCountedHeapFallback) {
    pbuf* p = pbuf_alloc(s, pbuf_layer::transport, 3000, pbuf_type::ram);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(pbuf_clen(p), 1u);
    EXPECT_EQ(p->len, 3000u);
    EXPECT_EQ(st().heap_alloc.get(), 1u);
    EXPECT_EQ(s.pools().heap_in_use(), 1u);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
    EXPECT_TRUE(pbuf_add_header(p, 42));
    EXPECT_FALSE(pbuf_add_header(p, 1));
    std::memset(p->payload, 0xab, p->len);  // the whole block is writable (ASan checks)
    EXPECT_EQ(pbuf_free(p), 1);
    EXPECT_EQ(st().heap_free.get(), 1u);
}

// ---- copies ---------------------------------------------------------------------------

// pbuf_take fills a chain and counts exactly one payload copy (of len bytes).
TEST_F(Pbuf, TakeCountsOneCopy) {
    const bytes src = pattern(2000);
    pbuf* p = alloc(2000);
    ASSERT_EQ(pbuf_clen(p), 2u);
    EXPECT_EQ(pbuf_take(p, src.data(), src.size()), err::ok);
    EXPECT_EQ(chain_bytes(p), src);
    EXPECT_EQ(st().payload_copies.get(), 1u);
    EXPECT_EQ(st().payload_copy_bytes.get(), 2000u);
    EXPECT_EQ(pbuf_take(p, src.data(), 2001), err::arg);  // chain too short: nothing copied
    EXPECT_EQ(st().payload_copies.get(), 1u);
    pbuf_free(p);
}

// pbuf_copy_partial copies across pbuf boundaries from an offset; one counted copy.
TEST_F(Pbuf, CopyPartialAcrossBoundaries) {
    const bytes src = pattern(2000, 9);
    pbuf* p = make_pbuf(s, src);  // not counted
    ASSERT_EQ(pbuf_clen(p), 2u);
    EXPECT_EQ(st().payload_copies.get(), 0u);
    bytes out(500);
    EXPECT_EQ(pbuf_copy_partial(p, out.data(), 500, k_pool_bufsize - 100), 500u);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), src.begin() + (k_pool_bufsize - 100)));
    EXPECT_EQ(st().payload_copies.get(), 1u);
    EXPECT_EQ(st().payload_copy_bytes.get(), 500u);
    EXPECT_EQ(pbuf_copy_partial(p, out.data(), 500, 1900), 100u);  // only 100 left
    EXPECT_EQ(pbuf_copy_partial(p, out.data(), 500, 2000), 0u);    // nothing: not counted
    EXPECT_EQ(st().payload_copies.get(), 2u);
    pbuf_free(p);
}

// pbuf_clone: an independent pool chain with the same bytes, headroom, one copy counted.
TEST_F(Pbuf, CloneCopiesOnceIntoPoolChain) {
    static const bytes src = pattern(700, 3);
    pbuf* a = pbuf_alloc_ref(s, src.data(), 300, true);
    pbuf* b = pbuf_alloc_ref(s, src.data() + 300, 400, false);
    pbuf_cat(a, b);
    pbuf* c = pbuf_clone(pbuf_layer::transport, a);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->type, pbuf_type::pool);
    EXPECT_FALSE(pbuf_is_volatile(c));
    EXPECT_EQ(chain_bytes(c), src);
    EXPECT_NE(c->payload, src.data());
    EXPECT_EQ(c->bytes() - c->buf_start, 42);
    EXPECT_TRUE(chain_ok(c));
    EXPECT_EQ(st().payload_copies.get(), 1u);
    EXPECT_EQ(st().payload_copy_bytes.get(), 700u);
    EXPECT_EQ(pbuf_free(a), 2);
    EXPECT_EQ(pbuf_free(c), 1);
}

// ---- threads --------------------------------------------------------------------------

/// Runs body(index) on `threads` threads that start together; returns when all are joined.
template <class F>
void run_together(int threads, F&& body) {
    std::atomic<int> go{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            go.fetch_add(1);
            while (go.load() < threads) std::this_thread::yield();
            body(t);
        });
    for (auto& th : ts) th.join();
}

// Pbufs allocated on one thread and freed on another all return to the pool.
TEST_F(Pbuf, CrossThreadFree) {
    constexpr int n = 5000;
    std::mutex m;
    std::deque<pbuf*> q;
    std::atomic<bool> done{false};
    std::atomic<bool> failed{false};
    std::thread consumer([&] {
        int freed = 0;
        while (freed < n && !failed.load()) {
            pbuf* p = nullptr;
            {
                std::lock_guard lk(m);
                if (!q.empty()) {
                    p = q.front();
                    q.pop_front();
                }
            }
            if (p) {
                if (std::to_integer<int>(p->bytes()[0]) != (freed & 0xff)) failed = true;
                pbuf_free(p);
                ++freed;
            } else {
                std::this_thread::yield();
            }
        }
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < n && !failed.load(); ++i) {
        pbuf* p;
        while (!(p = alloc(64))) {  // the consumer recycles: the pool is only 48 deep
            if (std::chrono::steady_clock::now() > deadline) {
                failed = true;
                break;
            }
            std::this_thread::yield();
        }
        if (!p) break;
        p->bytes()[0] = std::byte(i & 0xff);
        std::lock_guard lk(m);
        q.push_back(p);
    }
    consumer.join();
    ASSERT_FALSE(failed.load()) << "timed out or data mismatch";
    EXPECT_TRUE(done.load());
    EXPECT_EQ(st().pool_alloc.get(), std::uint64_t{n});
    EXPECT_EQ(st().pool_free.get(), std::uint64_t{n});
}

// Threads racing to drop the last references: exactly one of them frees (hook once).
TEST_F(Pbuf, ConcurrentLastFreeReleasesOnce) {
    constexpr int threads = 4, rounds = 300;
    static const char data[16] = {};
    for (int r = 0; r < rounds; ++r) {
        hook_log h;
        pbuf* p = pbuf_alloc_ref(s, data, sizeof data, true, &hook_log::fn, &h);
        ASSERT_NE(p, nullptr);
        for (int i = 1; i < threads; ++i) pbuf_ref(p);
        std::atomic<int> released{0};
        run_together(threads, [&](int) { released.fetch_add(pbuf_free(p)); });
        ASSERT_EQ(released.load(), 1) << "round " << r;
        ASSERT_EQ(h.calls.load(), 1) << "round " << r;
    }
    EXPECT_EQ(st().ref_free.get(), std::uint64_t{rounds});
}

// Many threads taking and dropping references on one pbuf at once: no update is lost
// (the count reaches 0 exactly once, at the very end).
TEST_F(Pbuf, ConcurrentRefAndFreeLoseNoUpdate) {
    constexpr int threads = 4, iterations = 20000;
    static const char data[16] = {};
    hook_log h;
    pbuf* p = pbuf_alloc_ref(s, data, sizeof data, true, &hook_log::fn, &h);
    ASSERT_NE(p, nullptr);
    for (int i = 1; i < threads; ++i) pbuf_ref(p);  // one reference per thread
    std::atomic<int> released{0}, early{0};
    run_together(threads, [&](int) {
        for (int i = 0; i < iterations; ++i) {
            pbuf_ref(p);
            if (pbuf_free(p) != 0) early.fetch_add(1);
        }
        released.fetch_add(pbuf_free(p));
    });
    EXPECT_EQ(early.load(), 0) << "freed while references were still held";
    EXPECT_EQ(released.load(), 1);
    EXPECT_EQ(h.calls.load(), 1);
}

// Threads allocating and freeing from both pools at once: the pools' counts, which
// change under each pool's lock as plain increments, lose no update, and every pbuf
// comes back.
TEST_F(Pbuf, ConcurrentAllocFreeCountsExactly) {
    constexpr int threads = 4, iterations = 20000;
    static const char data[16] = {};
    std::atomic<long> pool_ok{0}, ref_ok{0};
    run_together(threads, [&](int) {
        for (int i = 0; i < iterations; ++i) {
            // The pools hold k_pool / k_refs elements: one at a time per thread always fits.
            if (pbuf* p = alloc(64)) {
                pbuf_free(p);
                pool_ok.fetch_add(1);
            }
            if (pbuf* r = pbuf_alloc_ref(s, data, sizeof data, true)) {
                pbuf_free(r);
                ref_ok.fetch_add(1);
            }
        }
    });
    EXPECT_EQ(pool_ok.load(), long{threads} * iterations);
    EXPECT_EQ(ref_ok.load(), long{threads} * iterations);
    EXPECT_EQ(st().pool_alloc.get(), std::uint64_t{threads} * iterations);
    EXPECT_EQ(st().pool_free.get(), std::uint64_t{threads} * iterations);
    EXPECT_EQ(st().ref_alloc.get(), std::uint64_t{threads} * iterations);
    EXPECT_EQ(st().ref_free.get(), std::uint64_t{threads} * iterations);
    EXPECT_EQ(st().pool_exhausted.get(), 0u);
    EXPECT_EQ(st().ref_exhausted.get(), 0u);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
    EXPECT_EQ(s.pools().ref_in_use(), 0u);
}

}  // namespace
}  // namespace lwbench::test
