// wire/icmp.hpp — the ICMP echo header layout (RFC 792, 8 bytes): a checked view.
// Header layout only; the protocol is in stack/src/core/icmp.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ipv4.hpp"

LWBENCH_NS_BEGIN
namespace wire {

inline constexpr std::uint8_t k_proto_icmp = 1;
inline constexpr std::uint8_t k_icmp_echo_reply = 0;
inline constexpr std::uint8_t k_icmp_echo_request = 8;

class icmp_echo_view {
public:
    static constexpr std::size_t size = 8;
    /// nullopt if fewer than 8 bytes.
    static std::optional<icmp_echo_view> parse(std::span<const std::byte> b) noexcept {
        if (b.size() < size) return std::nullopt;
        return icmp_echo_view(b.data());
    }
    [[nodiscard]] std::uint8_t type() const noexcept { return std::to_integer<std::uint8_t>(_p[0]); }
    [[nodiscard]] std::uint8_t code() const noexcept { return std::to_integer<std::uint8_t>(_p[1]); }
    [[nodiscard]] std::uint16_t checksum() const noexcept { return load_be16(_p + 2); }
    [[nodiscard]] std::uint16_t identifier() const noexcept { return load_be16(_p + 4); }
    [[nodiscard]] std::uint16_t sequence() const noexcept { return load_be16(_p + 6); }

private:
    explicit icmp_echo_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

}  // namespace wire
LWBENCH_NS_END
