// fuzz_dhcp_input.cpp — libFuzzer target: arbitrary DHCP replies into a running DHCP
// client (stack/src/core/dhcp.cpp and the parser of wire/dhcp.hpp).
//
// A static stack (core locking, inline input) with a loopback netif that has no
// address and verifies no checksums. Each input restarts the client (a new discovery)
// and is read as up to 8 messages, each: one flag byte, a 2-byte length, then that many
// bytes of DHCP message. The harness wraps each in IPv4 and UDP headers (server port 67
// to client port 68, to 255.255.255.255) and hands it to stack::input. With flag bit 0
// set, it first writes the client's current transaction id, our hardware address and
// op BOOTREPLY into the message (where it is long enough), so the fuzzer can walk the
// client through OFFER, ACK and NAK instead of only being dropped as not ours.
// Whatever the client sends back loops to port 67, where nobody listens (udp_no_port).
//
// After each input the target aborts unless: every pbuf came back; the client's state
// and the netif agree (a leased state has its lease's address on the netif, any other
// state none); after dhcp_stop the netif has no address.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lwbench/dhcp.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/wire/dhcp.hpp"

namespace {

using namespace lwbench;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_dhcp_input: invariant violated: %s\n", what);
    std::abort();
}

constexpr wire::mac_addr k_hwaddr{{0x02, 0, 0, 0, 0, 0x44}};
constexpr std::size_t k_max_messages = 8;

loopback_config no_address() {
    loopback_config c;
    c.ip = {};
    c.netmask = {};
    return c;
}

struct world {
    stack s;  // default config: core locking + inline input
    loopback_netif lo{s, no_address()};
    dhcp_config cfg;

    world() {
        if (lo.status() != err::ok) fail("loopback setup");
        cfg.hwaddr = k_hwaddr;
        cfg.tick = std::chrono::milliseconds(1000);  // the fuzzer's inputs, not the clock, drive it
        core_guard g(s);
        lo.nif().caps.chksum_check_ip = false;
        lo.nif().caps.chksum_check_udp = false;
    }

    void check_no_leak() const {
        const auto& pools = s.pools();
        if (pools.pool_in_use() != 0) fail("pool pbuf leaked");
        if (pools.ref_in_use() != 0) fail("ref pbuf leaked");
        if (pools.heap_in_use() != 0) fail("heap pbuf leaked");
    }

    void check_consistent() {
        core_guard g(s);
        const dhcp_status st = dhcp_get(&lo.nif());
        const bool leased =
            st.state == dhcp_state::bound || st.state == dhcp_state::renewing || st.state == dhcp_state::rebinding;
        if (leased && (st.lease.ip.is_any() || lo.nif().ip != st.lease.ip)) fail("leased address not on the netif");
        if (!leased && !lo.nif().ip.is_any()) fail("an address without a lease");
    }

    /// Wraps one DHCP message in IPv4/UDP headers and hands it to the stack.
    void feed(std::uint8_t flags, const std::uint8_t* body, std::size_t len) {
        const std::size_t total = 20 + 8 + len;
        pbuf* p = pbuf_alloc(s, pbuf_layer::link, total, pbuf_type::pool);
        if (!p) fail("pool exhausted");
        std::uint8_t packet[20 + 8 + 1536];
        std::memset(packet, 0, 28);
        packet[0] = 0x45;
        packet[2] = static_cast<std::uint8_t>(total >> 8);
        packet[3] = static_cast<std::uint8_t>(total);
        packet[8] = 64;
        packet[9] = 17;
        std::memcpy(packet + 12, "\x0a\x00\x00\x01\xff\xff\xff\xff", 8);
        packet[20] = 0, packet[21] = 67, packet[22] = 0, packet[23] = 68;
        packet[24] = static_cast<std::uint8_t>((8 + len) >> 8);
        packet[25] = static_cast<std::uint8_t>(8 + len);
        std::memcpy(packet + 28, body, len);
        if ((flags & 1) && len >= wire::dhcp_view::chaddr_offset + 6) {
            std::uint32_t xid;
            {
                core_guard g(s);
                xid = dhcp_get(&lo.nif()).xid;
            }
            std::uint8_t* m = packet + 28;
            m[0] = wire::k_bootp_reply;
            for (int i = 0; i < 4; ++i) m[4 + i] = static_cast<std::uint8_t>(xid >> (24 - 8 * i));
            std::memcpy(m + wire::dhcp_view::chaddr_offset, k_hwaddr.bytes.data(), 6);
        }
        if (pbuf_take(p, packet, total) != err::ok) fail("pbuf_take");
        (void)s.input(p, &lo.nif());  // takes ownership on every outcome
    }
};

world& the_world() {
    static world w;
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    world& w = the_world();
    {
        core_guard g(w.s);
        if (dhcp_start(w.s, &w.lo.nif(), w.cfg) != err::ok) fail("dhcp_start");
    }
    std::size_t at = 0;
    for (std::size_t n = 0; n < k_max_messages && at + 3 <= size; ++n) {
        const std::uint8_t flags = data[at];
        std::size_t len = (std::size_t{data[at + 1]} << 8) | data[at + 2];
        at += 3;
        len = std::min({len, size - at, std::size_t{1400}});
        w.feed(flags, data + at, len);
        at += len;
        w.check_consistent();
    }
    {
        core_guard g(w.s);
        dhcp_stop(w.s, &w.lo.nif());
        if (!w.lo.nif().ip.is_any()) fail("address left after dhcp_stop");
    }
    w.check_no_leak();
    return 0;
}
