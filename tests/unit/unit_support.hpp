// unit_support.hpp — helpers shared by the unit tests: an independent checksum and
// packet builder (so the stack is never checked against itself), pbuf <-> bytes
// without going through the stack's counted copy functions, chain invariants, a
// recording receive callback, a fake capturing netif, and a bounded wait.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "lwbench/netif.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"
#include "stack_fixture.hpp"
#include "wait_until.hpp"  // the bounded wait

namespace lwbench::test {

using bytes = std::vector<std::uint8_t>;

inline bytes hex(std::string_view h) {
    bytes out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
}

// ---- an independent RFC 1071 checksum (big-endian words, byte at a time) -----------

/// Folded ones'-complement sum of big-endian 16-bit words, starting from `acc`.
inline std::uint32_t ref_sum(std::span<const std::uint8_t> b, std::uint32_t start = 0) {
    std::uint64_t acc = start;  // 64 bits: no overflow for any buffer length
    for (std::size_t i = 0; i < b.size(); i += 2) {
        acc += static_cast<std::uint64_t>(b[i]) << 8;
        if (i + 1 < b.size()) acc += b[i + 1];
    }
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint32_t>(acc);
}
/// The checksum as a number (big-endian on the wire: high byte first).
inline std::uint16_t ref_chksum(std::span<const std::uint8_t> b, std::uint32_t acc = 0) {
    return static_cast<std::uint16_t>(~ref_sum(b, acc) & 0xffff);
}
/// A value the stack produced in native order ("store as is") read as wire bytes.
inline std::uint16_t wire16(std::uint16_t native) {
    std::uint8_t b[2];
    std::memcpy(b, &native, 2);
    return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}
inline std::uint16_t be16(const bytes& b, std::size_t off) {
    return static_cast<std::uint16_t>((b[off] << 8) | b[off + 1]);
}
inline void put_be16(bytes& b, std::size_t off, std::uint16_t v) {
    b[off] = static_cast<std::uint8_t>(v >> 8);
    b[off + 1] = static_cast<std::uint8_t>(v);
}

// ---- an independent IPv4 + UDP packet builder --------------------------------------

struct pkt_spec {
    ip4_addr src = ip4_addr::from_octets(127, 0, 0, 1);
    ip4_addr dst = ip4_addr::from_octets(127, 0, 0, 1);
    std::uint16_t sport = 40000, dport = 7;
    std::uint16_t ident = 1;
    std::uint8_t ttl = 64, proto = 17;
    bool df = true;
    bool udp_checksum = true;  ///< false: UDP checksum field 0
};

inline void put_addr(bytes& b, std::size_t off, ip4_addr a) { std::memcpy(&b[off], &a.addr, 4); }

/// Recomputes the IPv4 header checksum of packet `b` (after a test mutated a field).
inline void fix_ip_checksum(bytes& b) {
    const std::size_t ihl = (b[0] & 0x0f) * 4u;
    put_be16(b, 10, 0);
    put_be16(b, 10, ref_chksum({b.data(), ihl}));
}

/// UDP checksum over pseudo header + the UDP packet at b[ihl..] (field must be 0).
inline std::uint16_t ref_udp_checksum(const bytes& b, std::size_t ihl, std::size_t udp_len) {
    bytes ph(b.begin() + 12, b.begin() + 20);  // src, dst
    ph.push_back(0);
    ph.push_back(17);
    ph.push_back(static_cast<std::uint8_t>(udp_len >> 8));
    ph.push_back(static_cast<std::uint8_t>(udp_len));
    std::uint16_t c = ref_chksum({b.data() + ihl, udp_len}, ref_sum(ph));
    return c == 0 ? 0xffff : c;
}

/// Recomputes the UDP checksum of a 20-byte-header packet `b`.
inline void fix_udp_checksum(bytes& b) {
    put_be16(b, 26, 0);
    put_be16(b, 26, ref_udp_checksum(b, 20, be16(b, 24)));
}

/// A valid IPv4/UDP packet (20-byte IP header), checksums computed independently.
inline bytes build_udp(const pkt_spec& s, std::span<const std::uint8_t> payload) {
    const std::size_t udp_len = 8 + payload.size();
    bytes b(20 + udp_len);
    b[0] = 0x45;
    put_be16(b, 2, static_cast<std::uint16_t>(20 + udp_len));
    put_be16(b, 4, s.ident);
    put_be16(b, 6, s.df ? 0x4000 : 0);
    b[8] = s.ttl;
    b[9] = s.proto;
    put_addr(b, 12, s.src);
    put_addr(b, 16, s.dst);
    put_be16(b, 20, s.sport);
    put_be16(b, 22, s.dport);
    put_be16(b, 24, static_cast<std::uint16_t>(udp_len));
    std::copy(payload.begin(), payload.end(), b.begin() + 28);
    if (s.udp_checksum) fix_udp_checksum(b);
    fix_ip_checksum(b);
    return b;
}

inline bytes pattern(std::size_t n, std::uint8_t seed = 1) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 8));
    return b;
}

// ---- pbufs <-> bytes without the stack's (counted) copy functions ------------------

/// A pool pbuf (chain) holding `b`, headroom for `layer`, filled by plain memcpy.
inline pbuf* make_pbuf(stack& s, std::span<const std::uint8_t> b, pbuf_layer layer = pbuf_layer::raw) {
    pbuf* p = pbuf_alloc(s, layer, b.size(), pbuf_type::pool);
    if (!p) return nullptr;
    std::size_t off = 0;
    for (pbuf* q = p; q; q = q->next) {
        if (q->len) std::memcpy(q->payload, b.data() + off, q->len);
        off += q->len;
    }
    return p;
}

/// The chain's bytes (plain reads, no copy counted).
inline bytes chain_bytes(const pbuf* p) {
    bytes out;
    for (; p; p = p->next) {
        const auto* d = static_cast<const std::uint8_t*>(p->payload);
        out.insert(out.end(), d, d + p->len);
    }
    return out;
}

/// The documented invariant, on every pbuf of the chain: tot_len == len + next->tot_len.
inline ::testing::AssertionResult chain_ok(const pbuf* p) {
    std::size_t i = 0;
    for (const pbuf* q = p; q; q = q->next, ++i) {
        const unsigned want = q->len + (q->next ? q->next->tot_len : 0u);
        if (q->tot_len != want)
            return ::testing::AssertionFailure() << "pbuf #" << i << ": tot_len " << q->tot_len << " != len " << q->len
                                                 << " + next tot_len = " << want;
    }
    return ::testing::AssertionSuccess();
}

// ---- a receiver that records every datagram -----------------------------------------

struct datagram {
    bytes data;
    ip4_addr src;
    std::uint16_t sport = 0;
    const void* payload = nullptr;  ///< first pbuf's payload pointer (zero-copy proof)
    std::size_t pbufs = 0;
    std::thread::id thread;
};

/// udp_recv target: records the datagram and frees the pbuf. Thread-safe (mailbox
/// input delivers on the tcpip thread while the test thread reads).
struct recorder {
    mutable std::mutex m;
    std::vector<datagram> got;
    std::atomic<std::size_t> count{0};
    bool keep = false;            ///< keep the pbufs instead of freeing them (see held)
    std::vector<pbuf*> held;

    static void on_recv(void* arg, udp_pcb*, pbuf* p, ip4_addr src, std::uint16_t sport) {
        auto* self = static_cast<recorder*>(arg);
        datagram d{chain_bytes(p), src, sport, p->payload, pbuf_clen(p), std::this_thread::get_id()};
        EXPECT_TRUE(chain_ok(p));
        {
            std::lock_guard lk(self->m);
            self->got.push_back(std::move(d));
            if (self->keep) self->held.push_back(p);
        }
        if (!self->keep) pbuf_free(p);
        self->count.fetch_add(1, std::memory_order_release);
    }
    std::vector<datagram> snapshot() const {
        std::lock_guard lk(m);
        return got;
    }
    void release_held() {
        std::lock_guard lk(m);
        for (pbuf* p : held) pbuf_free(p);
        held.clear();
    }
};


// ---- a fake netif that captures what the stack sends --------------------------------

/// Records every packet handed to output (bytes copied by the test, not the stack).
/// Address 10.0.0.1/24 by default. Add/remove it under a core_guard.
struct capture_netif {
    netif nif;
    std::vector<bytes> sent;
    err result = err::ok;  ///< what output returns

    capture_netif() {
        nif.name = "cap";
        nif.output = &capture_netif::output;
        nif.state = this;
        netif_set_addr(&nif, ip4_addr::from_octets(10, 0, 0, 1), ip4_addr::from_octets(255, 255, 255, 0), {});
    }
    static err output(netif* n, pbuf* p, ip4_addr) {
        auto* self = static_cast<capture_netif*>(n->state);
        self->sent.push_back(chain_bytes(p));
        return self->result;
    }
};

// ---- threading modes ------------------------------------------------------------------

/// Every threading mode, each with inline input: raw-API calls under a core_guard and
/// stack::input stay synchronous, so core tests need no waiting in any mode.
inline std::vector<threading_mode> threading_modes() { return {std::begin(k_threading_modes), std::end(k_threading_modes)}; }
inline stack_config inline_config(threading_mode m) {
    stack_config c;
    c.mode = m;
    c.input = input_mode::inline_;
    c.spin_iterations = 2000;
    return c;
}
inline std::string mode_param_name(const ::testing::TestParamInfo<threading_mode>& i) { return to_string(i.param); }

// ---- external tools ---------------------------------------------------------------------

/// True if an executable `exe` is on PATH.
inline bool on_path(const std::string& exe) {
    const char* path = std::getenv("PATH");
    if (!path) return false;
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
        if (!dir.empty() && ::access((std::filesystem::path(dir) / exe).c_str(), X_OK) == 0) return true;
    return false;
}

/// Runs a shell command, returns (exit status, stdout).
inline std::pair<int, std::string> run_command(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return {-1, out};
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    return {::pclose(f), out};
}

/// Runs tshark over a capture with `options` (e.g. "-o tcp.check_checksum:TRUE") and
/// prints `fields` (-T fields, tab-separated, first occurrence): one row of columns per
/// packet, each row padded to fields.size(). Adds a test failure (with tshark's stderr)
/// if tshark exits non-zero.
inline std::vector<std::vector<std::string>> tshark_fields(const std::string& pcap, const std::string& options,
                                                           const std::vector<std::string>& fields) {
    const auto err_file = std::filesystem::temp_directory_path() /
                          ("lwbench_tshark_stderr_" + std::to_string(::getpid()));
    std::string cmd = "tshark -n -r '" + pcap + "' " + options + " -T fields -E separator=/t -E occurrence=f";
    for (const auto& f : fields) cmd += " -e " + f;
    cmd += " 2>'" + err_file.string() + "'";
    const auto [status, out] = run_command(cmd);
    std::string errors;
    if (FILE* f = std::fopen(err_file.c_str(), "r")) {
        char buf[1024];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) errors.append(buf, n);
        std::fclose(f);
    }
    std::error_code ec;
    std::filesystem::remove(err_file, ec);
    EXPECT_EQ(status, 0) << cmd << "\n" << errors;
    std::vector<std::vector<std::string>> rows;
    std::stringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> cols;
        std::stringstream cs(line);
        for (std::string c; std::getline(cs, c, '\t');) cols.push_back(c);
        cols.resize(fields.size());
        rows.push_back(std::move(cols));
    }
    return rows;
}

/// Runs f() inside a core_guard (raw API calls need core context).
template <class F>
auto in_core(stack& s, F&& f) {
    core_guard g(s);
    return f();
}

}  // namespace lwbench::test
