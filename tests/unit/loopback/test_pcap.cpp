// test_pcap.cpp — the loopback's pcap capture: the file parses back (global header,
// one record per packet carried, bytes equal to the IP packets sent), and tshark
// reads it with checksum validation on (loopback_netif/src/pcap_writer.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lwbench/loopback_netif.hpp"
#include "lwbench/udp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {
namespace {

namespace fs = std::filesystem;
const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

/// A per-process, per-test file name in the temp directory (ctest may run in parallel).
fs::path temp_file(const char* tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return fs::temp_directory_path() /
           (std::string("lwbench_") + info->name() + "_" + tag + "_" + std::to_string(::getpid()) + ".pcap");
}

struct pcap_file {
    std::uint32_t magic = 0, thiszone = 0, sigfigs = 0, snaplen = 0, linktype = 0;
    std::uint16_t major = 0, minor = 0;
    struct record {
        std::uint32_t sec, usec, incl, orig;
        bytes data;
    };
    std::vector<record> records;
    bool truncated = false;
};

std::uint32_t rd32(const bytes& b, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, &b[off], 4);  // the writer's native order; the magic says which
    return v;
}
std::uint16_t rd16(const bytes& b, std::size_t off) {
    std::uint16_t v;
    std::memcpy(&v, &b[off], 2);
    return v;
}

pcap_file parse_pcap(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    pcap_file f;
    if (b.size() < 24) {
        f.truncated = true;
        return f;
    }
    f.magic = rd32(b, 0);
    f.major = rd16(b, 4);
    f.minor = rd16(b, 6);
    f.thiszone = rd32(b, 8);
    f.sigfigs = rd32(b, 12);
    f.snaplen = rd32(b, 16);
    f.linktype = rd32(b, 20);
    std::size_t off = 24;
    while (off < b.size()) {
        if (b.size() - off < 16) {
            f.truncated = true;
            break;
        }
        pcap_file::record r{rd32(b, off), rd32(b, off + 4), rd32(b, off + 8), rd32(b, off + 12), {}};
        off += 16;
        if (b.size() - off < r.incl) {
            f.truncated = true;
            break;
        }
        r.data.assign(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + r.incl));
        off += r.incl;
        f.records.push_back(std::move(r));
    }
    return f;
}

class Pcap : public ::testing::Test {
protected:
    void TearDown() override {
        expect_no_leaks(s);
        std::error_code ec;
        fs::remove(path, ec);
    }
    /// Sends 7 datagrams through a loopback capturing to `path` (pool pbufs of 0..1472
    /// bytes, odd lengths, a stable and a volatile ref pbuf), closes the capture, and
    /// returns the IP packets an independent builder makes for them (IP ident 1, 2, ...).
    std::vector<bytes> run_traffic(std::uint16_t rx_port = 9000) {
        std::vector<bytes> want;
        static const bytes ref_data = pattern(333, 77);
        loopback_config cfg;
        cfg.pcap_path = path.string();
        loopback_netif lo(s, cfg);
        EXPECT_EQ(lo.status(), err::ok);
        recorder r;
        in_core(s, [&] {
            udp_pcb* rx = udp_new(s);
            udp_pcb* tx = udp_new(s);
            EXPECT_EQ(udp_bind(rx, ip4_addr::any(), rx_port), err::ok);
            EXPECT_EQ(udp_bind(tx, ip4_addr::any(), 40001), err::ok);
            udp_recv(rx, &recorder::on_recv, &r);
            pkt_spec sp;
            sp.sport = 40001;
            sp.dport = rx_port;
            std::uint16_t ident = 1;
            auto expect = [&](const bytes& payload) {
                sp.ident = ident++;
                want.push_back(build_udp(sp, payload));
            };
            for (std::size_t n : {0u, 1u, 10u, 333u, 1472u}) {
                pbuf* p = make_pbuf(s, pattern(n, static_cast<std::uint8_t>(n)), pbuf_layer::transport);
                EXPECT_EQ(udp_sendto(tx, p, k_lo, rx_port), err::ok);
                pbuf_free(p);
                expect(pattern(n, static_cast<std::uint8_t>(n)));
            }
            for (bool stable : {true, false}) {
                pbuf* p = pbuf_alloc_ref(s, ref_data.data(), ref_data.size(), stable);
                EXPECT_EQ(udp_sendto(tx, p, k_lo, rx_port), err::ok);
                pbuf_free(p);
                expect(ref_data);
            }
            rx_pcb = rx;
            tx_pcb = tx;
        });  // delivered here, at the end of the core operation
        EXPECT_EQ(r.count.load(), want.size());
        in_core(s, [&] {
            udp_remove(rx_pcb);
            udp_remove(tx_pcb);
            lo.flush_pcap();
        });
        return want;
    }

    stack s;
    fs::path path = temp_file("cap");
    udp_pcb* rx_pcb = nullptr;
    udp_pcb* tx_pcb = nullptr;
};

// The file parses back: magic a1b2c3d4 (microseconds), version 2.4, LINKTYPE_IPV4
// (228), one record per packet whose bytes are exactly the IP packet sent.
TEST_F(Pcap, FileReadsBack) {
    const auto want = run_traffic();
    const pcap_file f = parse_pcap(path);
    EXPECT_FALSE(f.truncated);
    EXPECT_EQ(f.magic, 0xa1b2c3d4u);
    EXPECT_EQ(f.major, 2);
    EXPECT_EQ(f.minor, 4);
    EXPECT_EQ(f.thiszone, 0u);
    EXPECT_EQ(f.sigfigs, 0u);
    EXPECT_GE(f.snaplen, 1500u);
    EXPECT_EQ(f.linktype, 228u);
    ASSERT_EQ(f.records.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(f.records[i].incl, want[i].size());
        EXPECT_EQ(f.records[i].orig, want[i].size());
        EXPECT_LT(f.records[i].usec, 1000000u);
        EXPECT_EQ(f.records[i].data, want[i]);
    }
    EXPECT_LE(f.records.front().sec, f.records.back().sec);
}

// Packets dropped at the full queue are not in the capture.
TEST_F(Pcap, DroppedPacketsNotCaptured) {
    {
        loopback_config cfg;
        cfg.pcap_path = path.string();
        cfg.queue_len = 2;
        loopback_netif lo(s, cfg);
        in_core(s, [&] {
            udp_pcb* tx = udp_new(s);
            for (int i = 0; i < 3; ++i) {
                pbuf* p = make_pbuf(s, pattern(4), pbuf_layer::transport);
                EXPECT_EQ(udp_sendto(tx, p, k_lo, 9), i < 2 ? err::ok : err::mem);
                pbuf_free(p);
            }
            udp_remove(tx);
        });
    }  // the loopback (and its writer) is gone: the file is closed
    const pcap_file f = parse_pcap(path);
    EXPECT_FALSE(f.truncated);
    EXPECT_EQ(f.records.size(), 2u);
}

// An unwritable pcap path is reported by status(), and the loopback still works.
TEST_F(Pcap, UnwritablePathReported) {
    loopback_config cfg;
    cfg.pcap_path = "/nonexistent-dir/x.pcap";
    loopback_netif lo(s, cfg);
    EXPECT_EQ(lo.status(), err::val);
    EXPECT_TRUE(lo.nif().is_up());
}

// ---- tshark -----------------------------------------------------------------------------

// tshark, with IPv4 and UDP checksum validation on, finds no malformed packet, no
// expert info, and every checksum Good (status 1 in tshark 4.0: 0 Bad, 1 Good,
// 2 Unverified, 3 Not present).
TEST_F(Pcap, TsharkValidatesChecksums) {
    if (!on_path("tshark")) GTEST_SKIP() << "tshark is not installed (setup installs it)";
    const auto want = run_traffic();
    const auto rows = tshark_fields(path.string(), "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE",
                                    {"frame.number", "_ws.malformed", "_ws.expert", "ip.checksum.status",
                                     "udp.checksum.status", "udp.length"});
    ASSERT_EQ(rows.size(), want.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        SCOPED_TRACE("frame " + rows[i][0]);
        EXPECT_EQ(rows[i][0], std::to_string(i + 1));
        EXPECT_EQ(rows[i][1], "") << "malformed";
        EXPECT_EQ(rows[i][2], "") << "expert info";
        EXPECT_EQ(rows[i][3], "1") << "IP checksum status";
        EXPECT_EQ(rows[i][4], "1") << "UDP checksum status";
        EXPECT_EQ(rows[i][5], std::to_string(want[i].size() - 20));
    }
}

}  // namespace
}  // namespace lwbench::test
