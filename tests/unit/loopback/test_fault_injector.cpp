// test_fault_injector.cpp — the seeded fault-injecting netif wrapper on the loopback,
// with UDP datagrams as probes: each fault kind alone, seeded reproducibility, held
// packets passed on by the timer and at removal, bad configurations, and every pbuf
// returned (loopback_netif/src/fault_injector.cpp).
#include <gtest/gtest.h>

#include "lwbench/fault_injector.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

class FaultInjector : public ::testing::TestWithParam<threading_mode> {
protected:
    FaultInjector() : s(inline_config(GetParam())) {}
    void SetUp() override {
        ASSERT_EQ(lo.status(), err::ok);
        in_core(s, [&] {
            rx = udp_new(s);
            tx = udp_new(s);
            ASSERT_EQ(udp_bind(rx, k_lo, 7), err::ok);
            udp_recv(rx, &recorder::on_recv, &rec);
        });
    }
    void TearDown() override {
        in_core(s, [&] {
            udp_remove(rx);
            udp_remove(tx);
        });
        EXPECT_TRUE(wait_until([&] { return s.pools().pool_in_use() == 0 && s.pools().ref_in_use() == 0; }));
        expect_no_leaks(s);
    }
    /// Sends n datagrams whose first byte is their index. Returns how many sends failed.
    int send(int n) {
        int failed = 0;
        for (int i = 0; i < n; ++i)
            in_core(s, [&] {
                const bytes payload = {static_cast<std::uint8_t>(i), 1, 2, 3};
                pbuf* p = make_pbuf(s, payload, pbuf_layer::transport);
                if (udp_sendto(tx, p, k_lo, 7) != err::ok) ++failed;
                pbuf_free(p);
            });
        return failed;
    }
    std::vector<int> order() {
        std::vector<int> out;
        for (const auto& d : rec.snapshot()) out.push_back(d.data.at(0));
        return out;
    }

    stack s;
    loopback_netif lo{s};
    recorder rec;
    udp_pcb *rx = nullptr, *tx = nullptr;
};
INSTANTIATE_TEST_SUITE_P(Modes, FaultInjector, ::testing::ValuesIn(threading_modes()), mode_param_name);

TEST_P(FaultInjector, NoFaultsPassesEverythingInOrder) {
    fault_injector inj(s, &lo.nif(), {});
    ASSERT_EQ(inj.status(), err::ok);
    EXPECT_EQ(send(50), 0);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() == 50; }));
    std::vector<int> want(50);
    for (int i = 0; i < 50; ++i) want[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(order(), want);
    EXPECT_EQ(inj.passed(), 50u);
}

TEST_P(FaultInjector, DropAllLosesSilently) {
    fault_config c;
    c.drop = 1.0;
    fault_injector inj(s, &lo.nif(), c);
    EXPECT_EQ(send(20), 0);  // the sender sees success, as on a real wire
    EXPECT_EQ(inj.dropped(), 20u);
    EXPECT_EQ(rec.count.load(), 0u);
    EXPECT_EQ(lo.transmitted(), 0u);
}

// Loss at 30%: every datagram is either delivered or dropped, and the count is in a
// wide binomial range (1000 trials: mean 300, sd 14.5; the bounds are > 6 sd away).
TEST_P(FaultInjector, DropFractionMatchesProbability) {
    fault_config c;
    c.drop = 0.3;
    c.seed = 42;
    fault_injector inj(s, &lo.nif(), c);
    EXPECT_EQ(send(1000), 0);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() + inj.dropped() == 1000; }));
    EXPECT_GT(inj.dropped(), 200u);
    EXPECT_LT(inj.dropped(), 400u);
}

// The same seed and traffic give the same faults.
TEST_P(FaultInjector, SeededRunsRepeat) {
    std::vector<int> first;
    for (int run = 0; run < 2; ++run) {
        fault_config c;
        c.drop = 0.25;
        c.duplicate = 0.2;
        c.seed = 7;
        std::size_t before = rec.count.load();
        {
            fault_injector inj(s, &lo.nif(), c);
            send(200);
        }
        ASSERT_TRUE(wait_until([&] { return s.pools().pool_in_use() == 0; }));
        auto all = order();
        std::vector<int> got(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
        if (run == 0) {
            first = got;
        } else {
            EXPECT_EQ(got, first);
        }
    }
    EXPECT_FALSE(first.empty());
}

// Corruption: every copy fails a checksum (IP header or UDP) and is dropped and counted.
TEST_P(FaultInjector, CorruptAllIsCaughtByChecksums) {
    fault_config c;
    c.corrupt = 1.0;
    const auto drops0 = s.st().dropped_total();
    const auto copies0 = s.st().payload_copies.get();
    fault_injector inj(s, &lo.nif(), c);
    EXPECT_EQ(send(100), 0);
    ASSERT_TRUE(wait_until([&] { return s.st().dropped_total() - drops0 == 100; }));
    EXPECT_EQ(inj.corrupted(), 100u);
    EXPECT_EQ(rec.count.load(), 0u);
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 100u);  // one counted copy each
}

TEST_P(FaultInjector, DuplicateAllDeliversTwice) {
    fault_config c;
    c.duplicate = 1.0;
    fault_injector inj(s, &lo.nif(), c);
    EXPECT_EQ(send(10), 0);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() == 20; }));
    EXPECT_EQ(inj.duplicated(), 10u);
    const auto got = order();
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(got[2 * static_cast<std::size_t>(i)], i);
        EXPECT_EQ(got[2 * static_cast<std::size_t>(i) + 1], i);
    }
}

// With room to hold one packet, each held packet follows the next one: pairs swap.
TEST_P(FaultInjector, ReorderSwapsWithTheNextPacket) {
    fault_config c;
    c.reorder = 1.0;
    c.max_held = 1;
    c.delay_time = std::chrono::milliseconds(60000);  // only the next packet releases it
    fault_injector inj(s, &lo.nif(), c);
    EXPECT_EQ(send(4), 0);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() == 4; }));
    EXPECT_EQ(order(), (std::vector<int>{1, 0, 3, 2}));
    EXPECT_EQ(inj.reordered(), 2u);
}

// Delayed packets are held at least delay_time, then passed on by the timer.
TEST_P(FaultInjector, DelayHoldsThenDelivers) {
    fault_config c;
    c.delay = 1.0;
    c.delay_time = std::chrono::milliseconds(30);
    fault_injector inj(s, &lo.nif(), c);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(send(3), 0);
    EXPECT_EQ(inj.delayed(), 3u);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() == 3; }));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, c.delay_time);
    EXPECT_EQ(order(), (std::vector<int>{0, 1, 2}));
}

// Removing the injector passes on what it holds and restores the netif's own output.
TEST_P(FaultInjector, RemovalFlushesAndUnwraps) {
    fault_config c;
    c.delay = 1.0;
    c.delay_time = std::chrono::milliseconds(60000);
    const netif_output_fn original = lo.nif().output;
    {
        fault_injector inj(s, &lo.nif(), c);
        EXPECT_NE(lo.nif().output, original);
        EXPECT_EQ(send(5), 0);
        EXPECT_EQ(rec.count.load(), 0u);
    }
    EXPECT_EQ(lo.nif().output, original);
    ASSERT_TRUE(wait_until([&] { return rec.count.load() == 5; }));
}

TEST_P(FaultInjector, BadConfigurationsAreRejected) {
    fault_config c;
    c.drop = 1.5;
    EXPECT_EQ(fault_injector(s, &lo.nif(), c).status(), err::val);
    c.drop = -0.1;
    EXPECT_EQ(fault_injector(s, &lo.nif(), c).status(), err::val);
    EXPECT_EQ(fault_injector(s, nullptr, {}).status(), err::arg);
    fault_injector first(s, &lo.nif(), {});
    EXPECT_EQ(first.status(), err::ok);
    EXPECT_EQ(fault_injector(s, &lo.nif(), {}).status(), err::arg);  // already wrapped
}

}  // namespace
}  // namespace lwbench::test
