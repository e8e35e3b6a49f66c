// test_loopback.cpp — the zero-copy loopback netif end to end through the raw API:
// content, 0 payload copies (pool and stable ref pbufs), the volatile clone, the
// bounded queue, removal — under both threading modes and both input modes
// (loopback_netif/src/loopback_netif.cpp).
#include <gtest/gtest.h>

#include <thread>

#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);
constexpr std::uint16_t k_rx_port = 8000;

stack_config make_config(threading_mode m, input_mode i) {
    stack_config c;
    c.mode = m;
    c.input = i;
    c.spin_iterations = 2000;
    return c;
}

std::vector<stack_config> modes() {
    return {make_config(threading_mode::core_locking, input_mode::inline_),
            make_config(threading_mode::core_locking, input_mode::mailbox),
            make_config(threading_mode::message_passing, input_mode::inline_),
            make_config(threading_mode::message_passing, input_mode::mailbox),
            make_config(threading_mode::combining, input_mode::combining),
            make_config(threading_mode::combining, input_mode::mailbox)};
}

std::string mode_name(const ::testing::TestParamInfo<stack_config>& i) {
    return std::string(to_string(i.param.mode)) + "_" + to_string(i.param.input);
}

struct hook_count {
    std::atomic<int> calls{0};
    static void fn(void* arg, const void*) { static_cast<hook_count*>(arg)->calls.fetch_add(1); }
};

class Loopback : public ::testing::TestWithParam<stack_config> {
protected:
    Loopback() : s(GetParam()) {}
    virtual loopback_config lo_config() { return {}; }
    void SetUp() override {
        // Built here, not in the constructor, so that the derived lo_config() is used.
        lo_ptr = std::make_unique<loopback_netif>(s, lo_config());
        ASSERT_EQ(lo().status(), err::ok);
        in_core(s, [&] {
            rx = udp_new(s);
            tx = udp_new(s);
            ASSERT_EQ(udp_bind(rx, ip4_addr::any(), k_rx_port), err::ok);
            ASSERT_EQ(udp_bind(tx, ip4_addr::any(), 0), err::ok);
            udp_recv(rx, &recorder::on_recv, &r);
        });
    }
    void TearDown() override {
        r.release_held();
        in_core(s, [&] {
            udp_remove(rx);
            udp_remove(tx);
        });
        expect_no_leaks(s);
        lo_ptr.reset();
        expect_no_leaks(s);
    }
    loopback_netif& lo() { return *lo_ptr; }
    bool mailbox() const { return GetParam().input == input_mode::mailbox; }
    /// Waits until `n` datagrams arrived (synchronous with inline input; the tcpip
    /// thread delivers them later with mailbox input).
    void await(std::size_t n) {
        ASSERT_TRUE(wait_until([&] { return r.count.load(std::memory_order_acquire) >= n; }))
            << "only " << r.count.load() << " of " << n << " datagrams arrived";
        // With mailbox input the stats are written by the tcpip thread: wait until it
        // has also finished the message (it frees nothing after the callback).
        ASSERT_TRUE(wait_until([&] { return s.mailbox_depth() == 0; }));
    }
    err send_pool(const bytes& payload, const void** payload_at = nullptr) {
        pbuf* p = make_pbuf(s, payload, pbuf_layer::transport);
        if (!p) return err::mem;
        if (payload_at) *payload_at = p->payload;
        const err e = udp_sendto(tx, p, k_lo, k_rx_port);
        pbuf_free(p);
        return e;
    }

    stack s;
    std::unique_ptr<loopback_netif> lo_ptr;
    udp_pcb* rx = nullptr;
    udp_pcb* tx = nullptr;
    recorder r;
};

// Bytes received equal bytes sent, in order, for sizes from 0 to MTU - 28, with no
// payload copy anywhere (pool pbufs filled by the test directly).
TEST_P(Loopback, BytesReceivedEqualBytesSentWithoutCopies) {
    const std::size_t sizes[] = {0, 1, 2, 7, 64, 511, 1000, 1471, 1472};
    for (std::size_t i = 0; i < std::size(sizes); ++i)
        in_core(s, [&] { ASSERT_EQ(send_pool(pattern(sizes[i], static_cast<std::uint8_t>(i))), err::ok); });
    await(std::size(sizes));
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), std::size(sizes));
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
        EXPECT_EQ(got[i].data, pattern(sizes[i], static_cast<std::uint8_t>(i))) << "datagram " << i;
        EXPECT_EQ(got[i].src, k_lo);
        EXPECT_EQ(got[i].sport, tx->local_port);
    }
    EXPECT_EQ(s.st().payload_copies.get(), 0u);
    EXPECT_EQ(s.st().payload_copy_bytes.get(), 0u);
    EXPECT_EQ(lo().volatile_clones(), 0u);
    EXPECT_EQ(lo().transmitted(), std::size(sizes));
    EXPECT_EQ(lo().delivered(), std::size(sizes));
    EXPECT_EQ(s.st().dropped_total(), 0u);
    EXPECT_EQ(s.st().heap_alloc.get(), 0u);  // no heap fallback on the data path
}

// The receiver gets the sender's very pool buffer (same payload address).
TEST_P(Loopback, PoolPbufZeroCopy) {
    const void* sent_at = nullptr;
    in_core(s, [&] { ASSERT_EQ(send_pool(pattern(300), &sent_at), err::ok); });
    await(1);
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload, sent_at);
    EXPECT_EQ(got[0].pbufs, 1u);
    EXPECT_EQ(s.st().payload_copies.get(), 0u);
}

// A stable ref pbuf: the receiver's payload IS the caller's memory (zero copy), and
// the free hook runs exactly once, when the receiver frees it.
TEST_P(Loopback, StableRefPbufReachesReceiverUncopied) {
    static const bytes user = pattern(1000, 42);
    hook_count hook;
    r.keep = true;  // hold the received pbuf to see who releases the memory
    in_core(s, [&] {
        pbuf* p = pbuf_alloc_ref(s, user.data(), user.size(), true, &hook_count::fn, &hook);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(udp_sendto(tx, p, k_lo, k_rx_port), err::ok);
        pbuf_free(p);
    });
    await(1);
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload, user.data()) << "the receiver must see the sender's memory";
    EXPECT_EQ(got[0].pbufs, 1u);  // the chained header pbuf is gone
    EXPECT_EQ(got[0].data, user);
    EXPECT_EQ(hook.calls.load(), 0) << "memory released while the receiver still holds it";
    r.release_held();
    EXPECT_EQ(hook.calls.load(), 1);
    EXPECT_EQ(s.st().payload_copies.get(), 0u);
    EXPECT_EQ(lo().volatile_clones(), 0u);
}

// A volatile ref pbuf is cloned once by the loopback (counted): the caller may reuse
// its memory as soon as udp_sendto returns.
TEST_P(Loopback, VolatileRefPbufIsClonedOnce) {
    bytes user = pattern(700, 9);
    const bytes original = user;
    hook_count hook;
    in_core(s, [&] {
        pbuf* p = pbuf_alloc_ref(s, user.data(), user.size(), false, &hook_count::fn, &hook);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(udp_sendto(tx, p, k_lo, k_rx_port), err::ok);
        pbuf_free(p);
        EXPECT_EQ(hook.calls.load(), 1);  // the stack kept no reference on the memory
        std::fill(user.begin(), user.end(), 0xee);  // reuse before delivery
    });
    await(1);
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, original);
    EXPECT_NE(got[0].payload, user.data());
    EXPECT_EQ(s.st().payload_copies.get(), 1u);
    EXPECT_EQ(s.st().payload_copy_bytes.get(), 8u + 20u + 700u);  // the whole IP packet
    EXPECT_EQ(lo().volatile_clones(), 1u);
}

class LoopbackSmallQueue : public Loopback {
protected:
    loopback_config lo_config() override {
        loopback_config c;
        c.queue_len = 4;
        return c;
    }
};

// Queue overflow: 10 sends in ONE core operation with a 4-deep queue -> 4 delivered,
// 6 dropped (netif_queue_full) with err::mem returned; the caller's pbufs are freed.
TEST_P(LoopbackSmallQueue, OverflowDropsAndCounts) {
    std::vector<err> results;
    in_core(s, [&] {
        for (int i = 0; i < 10; ++i) results.push_back(send_pool(pattern(50, static_cast<std::uint8_t>(i))));
        EXPECT_EQ(r.count.load(), 0u);  // nothing delivered before the operation ends
    });
    for (int i = 0; i < 10; ++i) EXPECT_EQ(results[i], i < 4 ? err::ok : err::mem) << "send " << i;
    await(4);
    EXPECT_EQ(r.count.load(), 4u);
    const auto got = r.snapshot();
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i].data, pattern(50, static_cast<std::uint8_t>(i)));
    EXPECT_EQ(s.st().dropped(drop_reason::netif_queue_full), 6u);
    EXPECT_EQ(s.st().dropped_total(), 6u);
    EXPECT_EQ(lo().queue_drops(), 6u);
    EXPECT_EQ(lo().transmitted(), 4u);
    EXPECT_EQ(lo().delivered(), 4u);
    EXPECT_EQ(s.st().udp_xmit.get(), 4u);
    // The queue drains: the next operation can send 4 again.
    in_core(s, [&] {
        for (int i = 0; i < 4; ++i) EXPECT_EQ(send_pool(pattern(5)), err::ok);
    });
    await(8);
    EXPECT_EQ(s.st().dropped(drop_reason::netif_queue_full), 6u);
}

// Where delivery runs: on the sending thread at guard release (inline input), or on
// the tcpip thread (mailbox input).
TEST_P(Loopback, DeliveryThreadFollowsInputMode) {
    in_core(s, [&] { ASSERT_EQ(send_pool(pattern(3)), err::ok); });
    await(1);
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), 1u);
    if (mailbox()) {
        EXPECT_EQ(got[0].thread, s.tcpip_thread_id());
        EXPECT_GE(s.st().tcpip_msgs_input.get(), 1u);
    } else {
        EXPECT_EQ(got[0].thread, std::this_thread::get_id());
        EXPECT_EQ(s.st().tcpip_msgs_input.get(), 0u);
    }
}

// Removing the netif with packets still queued frees them (netif_removed), no leak.
TEST_P(Loopback, RemovalFreesQueuedPackets) {
    in_core(s, [&] {
        for (int i = 0; i < 3; ++i) ASSERT_EQ(send_pool(pattern(10)), err::ok);
        ASSERT_EQ(netif_remove(s, &lo().nif()), err::ok);
    });
    EXPECT_EQ(s.st().dropped(drop_reason::netif_removed), 3u);
    EXPECT_EQ(r.count.load(), 0u);
    EXPECT_EQ(lo().delivered(), 0u);
    EXPECT_EQ(s.pools().pool_in_use(), 0u);
}

class LoopbackJumbo : public Loopback {
protected:
    loopback_config lo_config() override {
        loopback_config c;
        c.mtu = 9000;
        return c;
    }
};

// With a 9000-byte MTU a datagram spans several pool elements: the chain crosses the
// loopback intact (checksums over the chain, content), still without a copy.
TEST_P(LoopbackJumbo, ChainedDatagramCrossesIntact) {
    const std::size_t sizes[] = {1601, 3333, 8972};
    for (std::size_t i = 0; i < std::size(sizes); ++i)
        in_core(s, [&] { ASSERT_EQ(send_pool(pattern(sizes[i], static_cast<std::uint8_t>(i + 100))), err::ok); });
    in_core(s, [&] { EXPECT_EQ(send_pool(pattern(8973)), err::msgsize); });
    await(std::size(sizes));
    const auto got = r.snapshot();
    ASSERT_EQ(got.size(), std::size(sizes));
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
        EXPECT_EQ(got[i].data, pattern(sizes[i], static_cast<std::uint8_t>(i + 100))) << "datagram " << i;
        EXPECT_GE(got[i].pbufs, 2u);
    }
    EXPECT_EQ(s.st().payload_copies.get(), 0u);
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

class LoopbackTinyPool : public Loopback {};

// The volatile clone needs a pool element: when there is none, udp_sendto fails with
// err::mem, nothing is queued or delivered, the exhaustion is counted, nothing leaks.
TEST_P(LoopbackTinyPool, VolatileCloneWithoutPoolFailsCleanly) {
    const bytes user = pattern(100);
    std::vector<pbuf*> hog;
    while (s.pools().pool_in_use() + 1 < s.pools().pool_capacity())
        hog.push_back(pbuf_alloc(s, pbuf_layer::raw, 1, pbuf_type::pool));  // leave one element
    in_core(s, [&] {
        pbuf* p = pbuf_alloc_ref(s, user.data(), user.size(), false);
        // The header pbuf takes the last element; the clone finds none.
        EXPECT_EQ(udp_sendto(tx, p, k_lo, k_rx_port), err::mem);
        pbuf_free(p);
    });
    for (pbuf* q : hog) pbuf_free(q);
    EXPECT_EQ(s.st().pool_exhausted.get(), 1u);
    EXPECT_EQ(lo().transmitted(), 0u);
    EXPECT_EQ(lo().volatile_clones(), 0u);
    EXPECT_EQ(r.count.load(), 0u);
    EXPECT_EQ(s.st().udp_xmit.get(), 0u);
}

std::vector<stack_config> tiny_pool_modes() {
    auto v = modes();
    for (auto& c : v) c.pbuf_pool_size = 8;
    return v;
}

INSTANTIATE_TEST_SUITE_P(Modes, Loopback, ::testing::ValuesIn(modes()), mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, LoopbackSmallQueue, ::testing::ValuesIn(modes()), mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, LoopbackJumbo, ::testing::ValuesIn(modes()), mode_name);
INSTANTIATE_TEST_SUITE_P(Modes, LoopbackTinyPool, ::testing::ValuesIn(tiny_pool_modes()), mode_name);

}  // namespace
}  // namespace lwbench::test
