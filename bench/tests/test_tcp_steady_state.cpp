// test_tcp_steady_state.cpp — issue 14's target, asserted: "No payload copy inside the
// stack on the no-copy write path; 0 heap allocations per segment in steady state."
// A TCP bulk transfer over the zero-copy loopback with the raw API, in both threading
// modes (input mode paired as lwIP's builds): after a warm-up megabyte, 8 MB more with
// the allocation probe armed must cause 0 operator new calls, 0 malloc-family calls
// (when interposed), 0 stats.heap_alloc and — with no-copy writes — 0 payload copies.
// Copy writes are checked against their own contract: one counted copy per write.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "alloc_probe.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/tcp.hpp"

namespace {

using namespace lwbench;

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);
constexpr std::size_t k_chunk = 16384;  // bytes per tcp_write
constexpr std::size_t k_warmup = 1u << 20, k_measured = 8u << 20;

/// Both ends of one connection, all state touched in core context only.
struct bulk {
    std::vector<std::uint8_t> source = std::vector<std::uint8_t>(k_chunk, 0x5a);
    tcp_pcb* client = nullptr;
    tcp_pcb* server = nullptr;
    bool copy = false;
    std::size_t to_send = 0;  ///< bytes still to write
    std::size_t received = 0;
    std::uint32_t checksum = 0;

    static err on_accept(void* arg, tcp_pcb* p, err) {
        auto* b = static_cast<bulk*>(arg);
        b->server = p;
        tcp_arg(p, b);
        tcp_recv(p, &on_recv);
        return err::ok;
    }
    static err on_recv(void* arg, tcp_pcb* p, pbuf* data, err) {
        auto* b = static_cast<bulk*>(arg);
        if (!data) return err::ok;
        std::uint32_t n = 0;
        for (const pbuf* q = data; q; q = q->next) {
            const auto* bytes = static_cast<const std::uint8_t*>(q->payload);
            for (std::size_t i = 0; i < q->len; ++i) b->checksum += bytes[i];
            n += q->len;
        }
        b->received += n;
        pbuf_free(data);
        tcp_recved(p, n);
        return err::ok;
    }
    static err on_sent(void* arg, tcp_pcb*, std::uint32_t) {
        static_cast<bulk*>(arg)->pump();
        return err::ok;
    }
    void pump() {
        while (to_send > 0 && tcp_sndbuf(client) >= k_chunk) {
            if (tcp_write(client, source.data(), k_chunk, copy ? tcp_write_flags::copy : 0) != err::ok) break;
            to_send -= k_chunk;
        }
        (void)tcp_output(client);
    }
};

/// Runs `bytes` through the connection and waits (bounded) until all arrived.
bool transfer(stack& s, bulk& b, std::size_t bytes) {
    const std::size_t target = b.received + bytes;
    {
        core_guard g(s);
        b.to_send = bytes;
        b.pump();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        {
            core_guard g(s);
            if (b.received == target) return true;
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
}

class TcpSteadyState : public ::testing::TestWithParam<std::tuple<threading_mode, bool>> {};

TEST_P(TcpSteadyState, BulkTransferAllocatesNothing) {
    const auto [mode, copy] = GetParam();
    stack_config cfg;
    cfg.mode = mode;
    cfg.input = paired_input_mode(mode);
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    bulk b;
    b.copy = copy;
    {
        core_guard g(s);
        tcp_pcb* l = tcp_new(s);
        ASSERT_EQ(tcp_bind(l, k_lo, 80), err::ok);
        ASSERT_EQ(tcp_listen(l, 1), err::ok);
        tcp_arg(l, &b);
        tcp_accept(l, &bulk::on_accept);
        b.client = tcp_new(s);
        tcp_arg(b.client, &b);
        tcp_sent(b.client, &bulk::on_sent);
        ASSERT_EQ(tcp_connect(b.client, k_lo, 80, nullptr), err::ok);
    }
    ASSERT_TRUE(transfer(s, b, k_warmup));
    alloc_probe::prime();
    const auto heap0 = s.st().heap_alloc.get(), copies0 = s.st().payload_copies.get();
    const auto segments0 = s.st().tcp_xmit.get();
    alloc_probe::reset();
    alloc_probe::arm();
    const bool done = transfer(s, b, k_measured);
    alloc_probe::disarm();
    ASSERT_TRUE(done);
    EXPECT_EQ(b.checksum, 0x5au * static_cast<std::uint32_t>(k_warmup + k_measured));
    const auto segments = s.st().tcp_xmit.get() - segments0;
    EXPECT_GT(segments, k_measured / 1460);
    EXPECT_EQ(alloc_probe::new_calls(), 0u) << alloc_probe::describe();
    if (alloc_probe::malloc_hooked()) {  // bench/ is not built under sanitizers: always hooked here
        EXPECT_EQ(alloc_probe::malloc_calls(), 0u) << alloc_probe::describe();
    }
    EXPECT_EQ(alloc_probe::tbb_calls(), 0u) << alloc_probe::describe();
    EXPECT_EQ(s.st().heap_alloc.get() - heap0, 0u);
    EXPECT_EQ(s.st().payload_copies.get() - copies0, copy ? k_measured / k_chunk : 0u);
    EXPECT_EQ(s.st().tcp_rexmit.get(), 0u);
    core_guard g(s);
    tcp_free_all(s);
}

INSTANTIATE_TEST_SUITE_P(Modes, TcpSteadyState,
                         ::testing::Combine(::testing::Values(threading_mode::core_locking,
                                                              threading_mode::message_passing),
                                            ::testing::Bool()),
                         [](const auto& param_info) {
                             return std::string(to_string(std::get<0>(param_info.param))) +
                                    (std::get<1>(param_info.param) ? "_copy" : "_no_copy");
                         });

}  // namespace
