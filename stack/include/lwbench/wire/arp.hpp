// wire/arp.hpp — the ARP packet layout for Ethernet/IPv4 (RFC 826, 28 bytes): a
// checked view and the emitter. Header layout only; the cache is in etharp.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ethernet.hpp"

LWBENCH_NS_BEGIN
namespace wire {

inline constexpr std::uint16_t k_arp_hw_ethernet = 1;
inline constexpr std::uint16_t k_arp_op_request = 1;
inline constexpr std::uint16_t k_arp_op_reply = 2;

/// Why a buffer is not an Ethernet/IPv4 ARP packet.
enum class arp_check : std::uint8_t {
    ok,
    too_short,    ///< fewer than 28 bytes
    unsupported,  ///< hardware type, protocol type or address lengths other than Ethernet/IPv4
};

class arp_view {
public:
    static constexpr std::size_t size = 28;
    static arp_check check(std::span<const std::byte> b) noexcept {
        if (b.size() < size) return arp_check::too_short;
        if (load_be16(b.data()) != k_arp_hw_ethernet || load_be16(b.data() + 2) != k_ethertype_ipv4 ||
            std::to_integer<unsigned>(b[4]) != 6 || std::to_integer<unsigned>(b[5]) != 4)
            return arp_check::unsupported;
        return arp_check::ok;
    }
    /// The view, or nullopt if check() fails.
    static std::optional<arp_view> parse(std::span<const std::byte> b) noexcept {
        if (check(b) != arp_check::ok) return std::nullopt;
        return arp_view(b.data());
    }
    [[nodiscard]] std::uint16_t operation() const noexcept { return load_be16(_p + 6); }
    [[nodiscard]] mac_addr sender_mac() const noexcept { return load_mac(_p + 8); }
    [[nodiscard]] ip4_addr sender_ip() const noexcept { return load_addr(_p + 14); }
    [[nodiscard]] mac_addr target_mac() const noexcept { return load_mac(_p + 18); }
    [[nodiscard]] ip4_addr target_ip() const noexcept { return load_addr(_p + 24); }

private:
    explicit arp_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

struct arp_repr {
    std::uint16_t operation = k_arp_op_request;
    mac_addr sender_mac;
    ip4_addr sender_ip;
    mac_addr target_mac;
    ip4_addr target_ip;
};

inline void emit_arp(std::span<std::byte, arp_view::size> out, const arp_repr& r) noexcept {
    std::byte* p = out.data();
    store_be16(p, k_arp_hw_ethernet);
    store_be16(p + 2, k_ethertype_ipv4);
    p[4] = std::byte{6};
    p[5] = std::byte{4};
    store_be16(p + 6, r.operation);
    store_mac(p + 8, r.sender_mac);
    store_addr(p + 14, r.sender_ip);
    store_mac(p + 18, r.target_mac);
    store_addr(p + 24, r.target_ip);
}

}  // namespace wire
LWBENCH_NS_END
