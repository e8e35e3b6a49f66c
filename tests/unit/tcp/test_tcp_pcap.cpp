// test_tcp_pcap.cpp — TCP traffic captured by the loopback and read by tshark with
// TCP sequence analysis and checksum validation on: no malformed packet, every IP and
// TCP checksum Good, and without faults no retransmission, lost or out-of-order
// segment. With 5 % loss injected in front of the capture, tshark does report
// retransmissions and unseen segments, so the clean result is not vacuous.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "lwbench/fault_injector.hpp"
#include "lwbench/loopback_netif.hpp"
#include "tcp_support.hpp"

namespace lwbench::test {
namespace {

namespace fs = std::filesystem;
const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

struct tshark_row {
    std::string frame, malformed, ip_checksum, tcp_checksum, retransmission, fast_retransmission, lost_segment,
        out_of_order, flags;
};

class TcpPcap : public ::testing::Test {
protected:
    void TearDown() override {
        expect_no_leaks(s);
        std::error_code ec;
        fs::remove(path, ec);
    }
    /// A connection over a capturing loopback (optionally with loss in front of it):
    /// 200 KB each way, then an orderly close by both. Returns the packets captured.
    void run_traffic(double loss) {
        loopback_config cfg;
        cfg.pcap_path = path.string();
        loopback_netif lo(s, cfg);
        ASSERT_EQ(lo.status(), err::ok);
        tcp_config tc;  // without loss: RFC 6298's 1 s RTO floor, so a stalled machine causes no resend
        tc.tick_ms = 2;
        tc.delack_ms = 4;
        tc.time_wait_ms = 10;
        if (loss > 0) {  // recover quickly
            tc.initial_rto_ms = 40;
            tc.min_rto_ms = 10;
            tc.max_rto_ms = 200;
        }
        in_core(s, [&] { ASSERT_EQ(tcp_configure(s, tc), err::ok); });
        fault_config fc;
        fc.drop = loss;
        fc.seed = 5;
        // The payloads outlive the injector: its destructor flushes held segments, and a
        // no-copy segment points into them.
        const bytes up = pattern(200000, 1), down = pattern(200000, 2);
        fault_injector inj(s, &lo.nif(), fc);
        tcp_server server;
        tcp_end client;
        const pcbs_freed_at_scope_end pcbs_freed{s};
        ASSERT_TRUE(open_connection(s, server, client, k_lo, 80));
        in_core(s, [&] {
            client.send(up.data(), up.size(), true, true);
            server.first()->send(down.data(), down.size(), false, true);
        });
        ASSERT_TRUE(wait_core(s, [&] { return client.eof && server.first()->eof; }));
        EXPECT_TRUE(server.first()->received == up);
        EXPECT_TRUE(client.received == down);
        in_core(s, [&] {
            EXPECT_EQ(tcp_close(client.pcb), err::ok);
            EXPECT_EQ(tcp_close(server.first()->pcb), err::ok);
            EXPECT_EQ(tcp_close(server.pcb), err::ok);
        });
        ASSERT_TRUE(wait_core(s, [&] { return tcp_pcbs_in_use(s) == 0; }));
        in_core(s, [&] { lo.flush_pcap(); });
    }
    std::vector<tshark_row> tshark() {
        std::vector<tshark_row> rows;
        for (auto& c : tshark_fields(path.string(),
                                     "-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"
                                     " -o tcp.analyze_sequence_numbers:TRUE",
                                     {"frame.number", "_ws.malformed", "ip.checksum.status", "tcp.checksum.status",
                                      "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
                                      "tcp.analysis.lost_segment", "tcp.analysis.out_of_order", "tcp.flags.str"}))
            rows.push_back({c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]});
        return rows;
    }

    stack s{inline_config(threading_mode::core_locking)};
    fs::path path = fs::temp_directory_path() /
                    (std::string("lwbench_tcp_") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                     std::to_string(::getpid()) + ".pcap");
};

TEST_F(TcpPcap, TsharkFindsNothingWrongWithoutFaults) {
    if (!on_path("tshark")) GTEST_SKIP() << "tshark is not installed (scripts/install-deps.sh installs it)";
    run_traffic(0.0);
    const auto rows = tshark();
    ASSERT_GT(rows.size(), 200u);  // 400 KB in 1460-byte segments, plus ACKs
    std::size_t syn = 0, fin = 0;
    for (const auto& r : rows) {
        SCOPED_TRACE("frame " + r.frame + " " + r.flags);
        EXPECT_EQ(r.malformed, "");
        EXPECT_EQ(r.ip_checksum, "1");   // Good
        EXPECT_EQ(r.tcp_checksum, "1");  // Good
        EXPECT_EQ(r.retransmission, "");
        EXPECT_EQ(r.fast_retransmission, "");
        EXPECT_EQ(r.lost_segment, "");
        EXPECT_EQ(r.out_of_order, "");
        if (r.flags.find('S') != std::string::npos) ++syn;
        if (r.flags.find('F') != std::string::npos) ++fin;
    }
    EXPECT_EQ(syn, 2u);  // SYN and SYN,ACK
    EXPECT_EQ(fin, 2u);  // one FIN each way
}

TEST_F(TcpPcap, TsharkSeesRecoveryUnderLoss) {
    if (!on_path("tshark")) GTEST_SKIP() << "tshark is not installed (scripts/install-deps.sh installs it)";
    run_traffic(0.05);
    const auto rows = tshark();
    std::size_t retransmissions = 0, unseen = 0;
    for (const auto& r : rows) {
        EXPECT_EQ(r.malformed, "") << r.frame;
        EXPECT_EQ(r.tcp_checksum, "1") << r.frame;
        if (!r.retransmission.empty() || !r.fast_retransmission.empty()) ++retransmissions;
        if (!r.lost_segment.empty()) ++unseen;
    }
    EXPECT_GT(retransmissions, 0u);
    EXPECT_GT(unseen, 0u);
}

}  // namespace
}  // namespace lwbench::test
