// ip4_addr.hpp — an IPv4 address kept in network byte order, as on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

struct ip4_addr {
    std::uint32_t addr = 0;  ///< network byte order (the bytes as they appear on the wire)

    static constexpr ip4_addr any() { return {0}; }
    static constexpr ip4_addr from_host(std::uint32_t host_order) {
        return {((host_order & 0xffu) << 24) | ((host_order & 0xff00u) << 8) | ((host_order >> 8) & 0xff00u) |
                (host_order >> 24)};
    }
    static constexpr ip4_addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
        return from_host((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
    }
    /// Parses dotted-quad text ("127.0.0.1"); nullopt on anything else.
    static std::optional<ip4_addr> parse(std::string_view text);

    [[nodiscard]] constexpr std::uint32_t host() const { return from_host(addr).addr; }
    [[nodiscard]] constexpr bool is_any() const { return addr == 0; }
    [[nodiscard]] constexpr bool is_broadcast() const { return addr == 0xffffffffu; }
    [[nodiscard]] constexpr bool is_multicast() const { return (host() >> 28) == 0xe; }
    [[nodiscard]] constexpr bool is_loopback() const { return (host() >> 24) == 127; }
    [[nodiscard]] std::string to_string() const;
    friend constexpr bool operator==(ip4_addr, ip4_addr) = default;
};

/// (a & mask) == (b & mask)
constexpr bool ip4_same_net(ip4_addr a, ip4_addr b, ip4_addr mask) {
    return (a.addr & mask.addr) == (b.addr & mask.addr);
}

LWBENCH_NS_END
