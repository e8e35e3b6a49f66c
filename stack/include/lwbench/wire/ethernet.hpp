// wire/ethernet.hpp — the Ethernet II header layout (14 bytes): MAC addresses, a
// checked view and the emitter. Header layout only; the protocol is in ethernet.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ipv4.hpp"

LWBENCH_NS_BEGIN
namespace wire {

/// A 48-bit MAC address, in wire order.
struct mac_addr {
    std::array<std::uint8_t, 6> bytes{};

    static constexpr mac_addr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    [[nodiscard]] constexpr bool is_broadcast() const { return *this == broadcast(); }
    /// The group bit (first octet's least significant bit): multicast or broadcast.
    [[nodiscard]] constexpr bool is_group() const { return (bytes[0] & 0x01) != 0; }
    [[nodiscard]] constexpr bool is_zero() const { return *this == mac_addr{}; }
    friend constexpr bool operator==(const mac_addr&, const mac_addr&) = default;
};

inline mac_addr load_mac(const std::byte* p) noexcept {
    mac_addr m;
    __builtin_memcpy(m.bytes.data(), p, 6);
    return m;
}
inline void store_mac(std::byte* p, const mac_addr& m) noexcept { __builtin_memcpy(p, m.bytes.data(), 6); }

inline constexpr std::uint16_t k_ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t k_ethertype_arp = 0x0806;
inline constexpr std::size_t k_ethernet_hlen = 14;

class ethernet_view {
public:
    static constexpr std::size_t size = k_ethernet_hlen;
    /// nullopt if fewer than 14 bytes.
    static std::optional<ethernet_view> parse(std::span<const std::byte> b) noexcept {
        if (b.size() < size) return std::nullopt;
        return ethernet_view(b.data());
    }
    [[nodiscard]] mac_addr dst() const noexcept { return load_mac(_p); }
    [[nodiscard]] mac_addr src() const noexcept { return load_mac(_p + 6); }
    [[nodiscard]] std::uint16_t ethertype() const noexcept { return load_be16(_p + 12); }

private:
    explicit ethernet_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

struct ethernet_repr {
    mac_addr dst, src;
    std::uint16_t ethertype = k_ethertype_ipv4;
};

inline void emit_ethernet(std::span<std::byte, k_ethernet_hlen> out, const ethernet_repr& r) noexcept {
    store_mac(out.data(), r.dst);
    store_mac(out.data() + 6, r.src);
    store_be16(out.data() + 12, r.ethertype);
}

}  // namespace wire
LWBENCH_NS_END
