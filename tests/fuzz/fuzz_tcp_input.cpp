// fuzz_tcp_input.cpp — libFuzzer target: arbitrary TCP segments into tcp_input against
// a listening pcb and established connections (passive and active), in every state
// a segment can drive them to.
//
// A static stack (core locking, inline input) with a sink netif 10.0.0.1/24 whose
// output discards packets (no feedback loop) and whose IP and TCP checksum
// verification is OFF, so mutated segments reach the state machine (lwIP's test/fuzz
// does the same). Our ISN is fixed (1000) and the harness's peer uses 50000, so the
// seed corpus (corpus/tcp/, made by make_tcp_corpus.py) can carry in-window numbers.
//
// For each input the harness rebuilds, deterministically:
//  - a listener on :80 (backlog 2);
//  - a passive connection 10.0.0.2:5000 -> :80 (handshake injected, then accepted);
//  - an active connection :6000 -> 10.0.0.2:7000 (SYN answered with SYN,ACK) that has
//    3000 bytes queued, half of them sent;
// then wraps the input in an IPv4 header from 10.0.0.2 and feeds it twice (the second
// copy meets the state the first one left), calls tcp_output on every application
// pcb, frees everything, and aborts unless every pbuf came back and every delivered
// chain satisfied tot_len == len + next->tot_len with every byte readable (ASan).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lwbench/netif.hpp"
#include "lwbench/tcp.hpp"
#include "lwbench/tcpip.hpp"

namespace {

using namespace lwbench;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_tcp_input: invariant violated: %s\n", what);
    std::abort();
}

const ip4_addr k_us = ip4_addr::from_octets(10, 0, 0, 1);
const ip4_addr k_peer = ip4_addr::from_octets(10, 0, 0, 2);
constexpr std::uint32_t k_our_isn = 1000, k_peer_isn = 50000;

std::uint32_t fixed_isn(void*) { return k_our_isn; }
err sink_output(netif*, pbuf*, ip4_addr) { return err::ok; }

void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}

struct world {
    stack s;  // default config: core_locking + inline input
    netif sink;
    tcp_pcb* listener = nullptr;
    tcp_pcb* passive = nullptr;
    tcp_pcb* active = nullptr;
    std::uint8_t payload[3000] = {};
    volatile std::uint8_t reader = 0;

    world() {
        sink.name = "sink";
        sink.output = &sink_output;
        sink.caps.chksum_check_ip = false;
        sink.caps.chksum_check_tcp = false;
        netif_set_addr(&sink, k_us, ip4_addr::from_octets(255, 255, 255, 0), {});
        core_guard g(s);
        if (netif_add(s, &sink) != err::ok) fail("netif_add");
        netif_set_up(&sink);
        tcp_config c;
        c.isn = &fixed_isn;
        c.initial_rto_ms = c.min_rto_ms = c.max_rto_ms = 3600000;  // timers never fire during a run
        c.delack_ms = 3600000;
        c.max_pcbs = 16;
        if (tcp_configure(s, c) != err::ok) fail("tcp_configure");
        for (std::size_t i = 0; i < sizeof payload; ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
    }

    static err on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err) {
        auto* w = static_cast<world*>(arg);
        if (!p) return err::ok;
        std::uint8_t x = 0;
        std::uint32_t n = 0;
        for (const pbuf* q = p; q; q = q->next) {
            if (q->tot_len != q->len + (q->next ? q->next->tot_len : 0)) fail("chain tot_len");
            const auto* b = static_cast<const std::uint8_t*>(q->payload);
            for (std::size_t i = 0; i < q->len; ++i) x ^= b[i];
            n += q->len;
        }
        w->reader = x;
        pbuf_free(p);
        tcp_recved(pcb, n);
        return err::ok;
    }
    static err on_accept(void* arg, tcp_pcb* newpcb, err) {
        auto* w = static_cast<world*>(arg);
        if (!w->passive) {
            w->passive = newpcb;
            tcp_recv(newpcb, &on_recv);
            tcp_err(newpcb, &on_err_passive);
        } else {
            tcp_recv(newpcb, &on_recv);  // a second child: kept until tcp_free_all
        }
        return err::ok;
    }
    static void on_err_passive(void* arg, err) { static_cast<world*>(arg)->passive = nullptr; }
    static void on_err_active(void* arg, err) { static_cast<world*>(arg)->active = nullptr; }

    /// IPv4 header (no options) from the peer around `seg`, into a pool pbuf; fed.
    void feed(const std::uint8_t* seg, std::size_t len) {
        pbuf* p = pbuf_alloc(s, pbuf_layer::raw, 20 + len, pbuf_type::pool);
        if (!p) fail("pool alloc");
        std::uint8_t ip[20] = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6};
        put16(ip + 2, static_cast<std::uint16_t>(20 + len));
        std::memcpy(ip + 12, &k_peer.addr, 4);
        std::memcpy(ip + 16, &k_us.addr, 4);
        std::size_t off = 0;
        for (pbuf* q = p; q; q = q->next) {  // header then segment, across the chain
            for (std::size_t i = 0; i < q->len; ++i, ++off)
                static_cast<std::uint8_t*>(q->payload)[i] = off < 20 ? ip[off] : seg[off - 20];
        }
        s.input(p, &sink);
    }
    /// A segment from the harness's peer (header only).
    void feed_header(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                     std::uint8_t flags) {
        std::uint8_t h[20] = {};
        put16(h, sport);
        put16(h + 2, dport);
        put32(h + 4, seq);
        put32(h + 8, ack);
        h[12] = 0x50;
        h[13] = flags;
        put16(h + 14, 8192);
        feed(h, sizeof h);
    }

    void setup() {
        {
            core_guard g(s);
            listener = tcp_new(s);
            if (!listener || tcp_bind(listener, k_us, 80) != err::ok || tcp_listen(listener, 2) != err::ok)
                fail("listener");
            tcp_arg(listener, this);
            tcp_accept(listener, &on_accept);
            active = tcp_new(s);
            if (!active || tcp_bind(active, k_us, 6000) != err::ok) fail("active bind");
            tcp_arg(active, this);
            tcp_recv(active, &on_recv);
            tcp_err(active, &on_err_active);
            if (tcp_connect(active, k_peer, 7000, nullptr) != err::ok) fail("connect");
        }
        feed_header(5000, 80, k_peer_isn, 0, 0x02);                  // SYN
        feed_header(5000, 80, k_peer_isn + 1, k_our_isn + 1, 0x10);  // ACK: accepted
        feed_header(7000, 6000, k_peer_isn, k_our_isn + 1, 0x12);    // SYN,ACK
        core_guard g(s);
        if (!passive || !active || active->state != tcp_state::established) fail("setup handshakes");
        tcp_nagle_disable(active);
        if (tcp_write(active, payload, 1500, tcp_write_flags::copy) != err::ok) fail("write copy");
        (void)tcp_output(active);
        if (tcp_write(active, payload + 1500, 1500, 0) != err::ok) fail("write ref");
    }

    void teardown() {
        core_guard g(s);
        for (tcp_pcb* p : {passive, active})
            if (p) (void)tcp_output(p);
        tcp_free_all(s);
        passive = active = listener = nullptr;
        if (tcp_pcbs_in_use(s) != 0) fail("pcb leaked");
        const auto& pools = s.pools();
        if (pools.pool_in_use() != 0) fail("pool pbuf leaked");
        if (pools.ref_in_use() != 0) fail("ref pbuf leaked");
        if (pools.heap_in_use() != 0) fail("heap pbuf leaked");
    }
};

world& the_world() {
    static world w;
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 1400) return -1;  // one pool pbuf with the IP header: not an interesting limit
    world& w = the_world();
    w.setup();
    w.feed(data, size);
    w.feed(data, size);
    w.teardown();
    return 0;
}
