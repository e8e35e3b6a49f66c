// ethernet_support.hpp — test support for the Ethernet, ARP and ICMP unit tests: a fake
// Ethernet netif that captures every frame, fixed addresses from 192.0.2.0/24, a
// stack fixture with that netif added and its ARP timer started, and frame builders
// written independently of the stack (byte by byte).
#pragma once

#include "lwbench/etharp.hpp"
#include "lwbench/ethernet.hpp"
#include "lwbench/ip4.hpp"
#include "unit_support.hpp"

namespace lwbench::test {

inline constexpr wire::mac_addr k_our_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
inline constexpr wire::mac_addr k_peer_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
inline const ip4_addr k_our_ip = ip4_addr::from_octets(192, 0, 2, 2);
inline const ip4_addr k_peer_ip = ip4_addr::from_octets(192, 0, 2, 1);
inline const ip4_addr k_netmask = ip4_addr::from_octets(255, 255, 255, 0);

/// An Ethernet netif whose link_output records the frames (bytes copied by the test).
struct capture_ethernet {
    netif nif;
    ethernet_link link;
    std::vector<bytes> frames;
    err result = err::ok;  ///< what link_output returns

    capture_ethernet() {
        nif.name = "eth";
        nif.output = etharp_output;
        nif.eth = &link;
        nif.state = this;
        nif.on_remove = [](netif* n) { etharp_stop(*n->owner, n); };
        link.hwaddr = k_our_mac;
        link.link_output = [](netif* n, pbuf* p) {
            auto* self = static_cast<capture_ethernet*>(n->state);
            self->frames.push_back(chain_bytes(p));
            return self->result;
        };
        netif_set_addr(&nif, k_our_ip, k_netmask, {});
    }
};

/// A stack (inline input) with a capture_ethernet added, up, and its ARP timer started.
/// Teardown removes the netif and checks that every pbuf came back.
class EthernetTest : public ::testing::TestWithParam<threading_mode> {
protected:
    EthernetTest() : s(inline_config(GetParam())) {}
    void SetUp() override {
        in_core(s, [&] {
            ASSERT_EQ(netif_add(s, &eth.nif), err::ok);
            ASSERT_EQ(etharp_start(s, &eth.nif), err::ok);
            netif_set_up(&eth.nif);
        });
    }
    void TearDown() override {
        in_core(s, [&] { EXPECT_EQ(netif_remove(s, &eth.nif), err::ok); });
        expect_no_leaks(s);
    }
    /// Hands `frame` to the stack as the driver would (inline input: synchronous).
    void receive(const bytes& frame) {
        pbuf* p = make_pbuf(s, frame);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(s.input(p, &eth.nif), err::ok);
    }
    /// Sends a 16-byte IPv4 payload (protocol 253, experimental) to dst.
    err send_ip(ip4_addr dst) {
        return in_core(s, [&] {
            pbuf* p = make_pbuf(s, pattern(16), pbuf_layer::transport);
            const err e = ip4_output_if(s, p, ip4_addr::any(), dst, 64, 0, 253, &eth.nif);
            pbuf_free(p);
            return e;
        });
    }
    std::uint64_t dropped(drop_reason r) const { return s.st().dropped(r); }

    stack s;
    capture_ethernet eth;
};

inline void put_mac(bytes& b, std::size_t off, const wire::mac_addr& m) {
    std::copy(m.bytes.begin(), m.bytes.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
}

/// dst, src, type, then the payload.
inline bytes ethernet_frame(const wire::mac_addr& dst, const wire::mac_addr& src, std::uint16_t type,
                            std::span<const std::uint8_t> payload) {
    bytes b(14 + payload.size());
    put_mac(b, 0, dst);
    put_mac(b, 6, src);
    put_be16(b, 12, type);
    std::copy(payload.begin(), payload.end(), b.begin() + 14);
    return b;
}

/// A 28-byte Ethernet/IPv4 ARP packet.
inline bytes arp_packet(std::uint16_t op, const wire::mac_addr& sha, ip4_addr spa, const wire::mac_addr& tha,
                        ip4_addr tpa) {
    bytes b = hex("0001080006040000");
    b.resize(28);
    put_be16(b, 6, op);
    put_mac(b, 8, sha);
    put_addr(b, 14, spa);
    put_mac(b, 18, tha);
    put_addr(b, 24, tpa);
    return b;
}

}  // namespace lwbench::test
