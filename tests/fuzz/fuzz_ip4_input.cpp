// fuzz_ip4_input.cpp — libFuzzer target: arbitrary bytes into the IPv4 input path
// (stack::input -> ip4_input -> udp_input -> demux -> recv callback).
//
// A static stack (core locking, inline input: every input is processed before
// stack::input returns) with a loopback netif whose checksum verification is OFF,
// so mutated packets get past the checksums and reach UDP and the demux (lwIP's
// test/fuzz does the same). Two pcbs: one bound to *:7, one bound to *:8 and
// connected to 127.0.0.1:9.
//
// Each input is fed twice: as one contiguous pool pbuf chain, and as two stable ref
// pbufs over the fuzzer's (const) buffer, split at an input-derived offset — the
// stack must never write into received packet memory (libFuzzer reports a target
// that modifies its input). After each feed the target aborts unless:
//  - every pbuf came back (pool, ref and heap in-use counts are 0): no leak;
//  - exactly one outcome was counted for the packet and for each packet the stack
//    sent back through the loopback (TCP answers a stray segment with RST): one
//    drop reason, or one delivery, each;
//  - every delivered chain satisfies tot_len == len + next->tot_len, its length
//    matches the UDP header's length field, and every byte is readable (ASan).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"

namespace {

using namespace lwbench;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_ip4_input: invariant violated: %s\n", what);
    std::abort();
}

struct world {
    stack s;  // default config: core_locking + inline input
    loopback_netif lo{s};
    udp_pcb* bound = nullptr;
    udp_pcb* connected = nullptr;
    std::uint64_t callbacks = 0;
    volatile std::uint8_t sink = 0;

    world() {
        if (lo.status() != err::ok) fail("loopback setup");
        core_guard g(s);
        lo.nif().caps.chksum_check_ip = false;
        lo.nif().caps.chksum_check_udp = false;
        bound = udp_new(s);
        connected = udp_new(s);
        if (udp_bind(bound, ip4_addr::any(), 7) != err::ok) fail("bind 7");
        if (udp_bind(connected, ip4_addr::any(), 8) != err::ok) fail("bind 8");
        if (udp_connect(connected, ip4_addr::from_octets(127, 0, 0, 1), 9) != err::ok) fail("connect");
        udp_recv(bound, &world::on_recv, this);
        udp_recv(connected, &world::on_recv, this);
    }

    static void on_recv(void* arg, udp_pcb*, pbuf* p, ip4_addr, std::uint16_t) {
        auto* w = static_cast<world*>(arg);
        ++w->callbacks;
        std::uint8_t x = 0;
        for (const pbuf* q = p; q; q = q->next) {
            if (q->tot_len != q->len + (q->next ? q->next->tot_len : 0)) fail("chain tot_len");
            const auto* b = static_cast<const std::uint8_t*>(q->payload);
            for (std::size_t i = 0; i < q->len; ++i) x ^= b[i];  // ASan: all readable
        }
        w->sink = x;
        pbuf_free(p);
    }

    void check_no_leak() const {
        const auto& pools = s.pools();
        if (pools.pool_in_use() != 0) fail("pool pbuf leaked");
        if (pools.ref_in_use() != 0) fail("ref pbuf leaked");
        if (pools.heap_in_use() != 0) fail("heap pbuf leaked");
    }

    /// Feeds p and checks the invariants. Takes ownership of p.
    void feed(pbuf* p) {
        const auto& st = s.st();
        const std::uint64_t drops0 = st.dropped_total(), deliv0 = st.udp_delivered.get(), cb0 = callbacks;
        const std::uint64_t replies0 = lo.transmitted();
        s.input(p, &lo.nif());
        const std::uint64_t drops = st.dropped_total() - drops0, deliv = st.udp_delivered.get() - deliv0;
        if (drops + deliv != 1 + (lo.transmitted() - replies0))
            fail("not exactly one outcome (drop or delivery) counted per packet");
        if (callbacks - cb0 != deliv) fail("delivery counted without callback (or the reverse)");
        check_no_leak();
    }
};

world& the_world() {
    static world w;
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 0xffff) return -1;  // larger than any pbuf chain: not an input (reject from corpus)
    world& w = the_world();
    stack& s = w.s;

    // 1. Contiguous: a pool chain (one element up to ~1.6 KB, then chained).
    pbuf* p = pbuf_alloc(s, pbuf_layer::raw, size, pbuf_type::pool);
    if (!p) fail("pool alloc");
    std::size_t off = 0;
    for (pbuf* q = p; q; q = q->next) {
        if (q->len) std::memcpy(q->payload, data + off, q->len);
        off += q->len;
    }
    w.feed(p);

    // 2. Split into two ref pbufs over the fuzzer's own buffer.
    const std::size_t split = size ? (data[size - 1] * 7u + size / 2) % (size + 1) : 0;
    pbuf* a = pbuf_alloc_ref(s, data, split, true);
    pbuf* b = pbuf_alloc_ref(s, data + split, size - split, true);
    if (!a || !b) fail("ref alloc");
    pbuf_cat(a, b);
    w.feed(a);
    return 0;
}
