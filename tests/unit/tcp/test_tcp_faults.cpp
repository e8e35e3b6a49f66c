// test_tcp_faults.cpp — TCP recovery through the fault-injecting wrapper on the
// loopback: several MB each way under 1-10 % loss (plus corruption, duplication,
// reordering and delay) arrive byte-exact, in both threading modes with their paired
// input modes; retransmissions are counted (stack/src/core/tcp*.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <tuple>

#include "lwbench/fault_injector.hpp"
#include "lwbench/loopback_netif.hpp"
#include "tcp_fault_support.hpp"
#include "tcp_support.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);


class TcpFaults : public ::testing::TestWithParam<fault_param> {
protected:
    TcpFaults() : s(paired(std::get<0>(GetParam()))) {}
    void SetUp() override {
        ASSERT_EQ(lo.status(), err::ok);
        in_core(s, [&] { ASSERT_EQ(tcp_configure(s, fault_tcp_config()), err::ok); });
    }
    void TearDown() override {
        in_core(s, [&] { tcp_free_all(s); });
        EXPECT_TRUE(wait_until([&] { return s.pools().pool_in_use() == 0 && s.pools().ref_in_use() == 0; }));
        expect_no_leaks(s);
    }
    stack s;
    loopback_netif lo{s};
};

INSTANTIATE_TEST_SUITE_P(Loss, TcpFaults,
                         ::testing::Combine(::testing::ValuesIn(k_threading_modes),
                                            ::testing::Values(0.01, 0.05, 0.10)),
                         fault_name);

// 3 MB each way at once, copy one way and no copy the other, under loss plus a little
// of every other fault; then an orderly close. Everything arrives byte-exact.
TEST_P(TcpFaults, BulkBothWaysArrivesExact) {
    const double loss = std::get<1>(GetParam());
    // The payloads outlive the injector: its destructor flushes held segments (in any
    // mode), and the no-copy direction's segments point into `down`.
    const bytes up = pattern(3u << 20, 21), down = pattern(3u << 20, 33);
    fault_injector inj(s, &lo.nif(), lossy_faults(loss));
    ASSERT_EQ(inj.status(), err::ok);

    tcp_server server;
    tcp_end client;
    const pcbs_freed_at_scope_end pcbs_freed{s};
    ASSERT_TRUE(open_connection(s, server, client, k_lo, 80));
    tcp_end& peer = *server.first();
    in_core(s, [&] {
        client.send(up.data(), up.size(), true, true);  // then FIN
        peer.send(down.data(), down.size(), false);
    });
    const bool done = wait_core(
        s, [&] { return peer.received.size() == up.size() && client.received.size() == down.size() && peer.eof; },
        std::chrono::seconds(std::getenv("LWBENCH_TCP_DEBUG") ? 10 : 240));
    if (!done)
        in_core(s, [&] {
            ADD_FAILURE() << "up " << peer.received.size() << " down " << client.received.size() << " dropped "
                          << inj.dropped() << " rexmit " << s.st().tcp_rexmit.get() << " errors "
                          << (client.error ? err_name(*client.error) : "-") << "/"
                          << (peer.error ? err_name(*peer.error) : "-") << "\n client "
                          << describe(client.pcb) << "\n server " << describe(peer.pcb) << "\n pools "
                          << s.pools().pool_in_use() << "/" << s.pools().ref_in_use() << " drops "
                          << ::testing::PrintToString(s.st().drops_by_name());
        });
    ASSERT_TRUE(done);
    EXPECT_TRUE(peer.received == up);
    EXPECT_TRUE(client.received == down);
    EXPECT_FALSE(peer.error);
    EXPECT_GT(inj.dropped(), 0u);
    EXPECT_GT(s.st().tcp_rexmit.get(), 0u);
    EXPECT_GT(s.st().tcp_fast_rexmit.get() + s.st().tcp_rto.get(), 0u);
    in_core(s, [&] {
        ASSERT_EQ(tcp_close(peer.pcb), err::ok);
        ASSERT_EQ(tcp_close(client.pcb), err::ok);
    });
    // Both ends finish the close (the FINs may be lost and resent too).
    ASSERT_TRUE(wait_core(s, [&] { return tcp_pcbs_in_use(s) == 1; }, std::chrono::seconds(60)));
}

}  // namespace
}  // namespace lwbench::test
