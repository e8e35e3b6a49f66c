// test_combining_input.cpp — combining input (paired with the combining threading mode):
// driver threads hand received packets to stack::input at once; each packet is
// published like an API call and processed in core context by its driver or by the
// thread holding the core. Every packet is delivered and counted exactly once, and
// none goes through the tcpip mailbox.
#include <gtest/gtest.h>

#include <thread>

#include "unit_support.hpp"

namespace lwbench::test {
namespace {

class CombiningInput : public testing::TestWithParam<lock_kind> {};

TEST_P(CombiningInput, DriverThreadsPacketsAreDeliveredAndCountedOnce) {
    stack_config cfg;
    cfg.mode = threading_mode::combining;
    cfg.input = paired_input_mode(cfg.mode);
    ASSERT_EQ(cfg.input, input_mode::combining);
    cfg.lock = GetParam();
    cfg.spin_iterations = 2000;
    stack s(cfg);
    capture_netif cap;  // 10.0.0.1/24: the drivers' packets arrive on it
    recorder rec;
    udp_pcb* pcb = nullptr;
    in_core(s, [&] {
        ASSERT_EQ(netif_add(s, &cap.nif), err::ok);
        netif_set_up(&cap.nif);
        pcb = udp_new(s);
        ASSERT_EQ(udp_bind(pcb, ip4_addr::any(), 7), err::ok);
        udp_recv(pcb, &recorder::on_recv, &rec);
    });
    pkt_spec spec;
    spec.src = ip4_addr::from_octets(10, 0, 0, 2);
    spec.dst = ip4_addr::from_octets(10, 0, 0, 1);
    const bytes packet = build_udp(spec, pattern(32));
    constexpr int drivers = 3, packets = 400;
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int d = 0; d < drivers; ++d)
        pool.emplace_back([&] {
            for (int i = 0; i < packets; ++i) {
                pbuf* p = make_pbuf(s, packet);
                if (!p || s.input(p, &cap.nif) != err::ok) refused.fetch_add(1);
            }
        });
    for (auto& th : pool) th.join();
    constexpr auto total = static_cast<std::uint64_t>(drivers) * packets;
    EXPECT_EQ(refused.load(), 0);
    EXPECT_EQ(rec.count.load(), total) << "input() returns after its packet was processed";
    EXPECT_EQ(s.st().inputs_combined_self.get() + s.st().inputs_combined_other.get(), total)
        << "each packet counted once, by its driver or by another holder";
    EXPECT_EQ(s.st().tcpip_msgs_input.get(), 0u) << "nothing through the mailbox";
    EXPECT_EQ(s.st().dropped_total(), 0u);
    in_core(s, [&] {
        udp_remove(pcb);
        netif_remove(s, &cap.nif);
    });
    expect_no_leaks(s);
}

INSTANTIATE_TEST_SUITE_P(Locks, CombiningInput,
                         testing::Values(lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex),
                         [](const testing::TestParamInfo<lock_kind>& i) { return std::string(to_string(i.param)); });

}  // namespace
}  // namespace lwbench::test
