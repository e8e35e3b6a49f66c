// wire/ipv4.hpp — the IPv4 header layout: a checked view for parsing and an emitter.
//
// ipv4_view::check() verifies the length once (at least 20 bytes, and at least the
// IHL it announces); afterwards no accessor can read out of bounds. Fields are read
// byte by byte in network order: no struct is ever cast over packet memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/config.hpp"
#include "lwbench/ip4_addr.hpp"

LWBENCH_NS_BEGIN
namespace wire {

inline std::uint16_t load_be16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) | std::to_integer<unsigned>(p[1]));
}
inline void store_be16(std::byte* p, std::uint16_t v) noexcept {
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v & 0xff);
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
    return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}
inline void store_be32(std::byte* p, std::uint32_t v) noexcept {
    store_be16(p, static_cast<std::uint16_t>(v >> 16));
    store_be16(p + 2, static_cast<std::uint16_t>(v));
}
inline ip4_addr load_addr(const std::byte* p) noexcept {
    std::uint32_t a;
    __builtin_memcpy(&a, p, 4);  // already network order
    return {a};
}
inline void store_addr(std::byte* p, ip4_addr a) noexcept { __builtin_memcpy(p, &a.addr, 4); }

inline constexpr std::uint8_t k_proto_udp = 17;
inline constexpr std::uint16_t k_flag_mf = 0x2000;
inline constexpr std::uint16_t k_frag_mask = 0x1fff;

enum class ipv4_check : std::uint8_t { ok, too_short, bad_version, bad_ihl };

class ipv4_view {
public:
    /// Checks that `b` holds a whole IPv4 header (version 4, IHL >= 5, IHL*4 <= size).
    static ipv4_check check(std::span<const std::byte> b) noexcept {
        if (b.size() < 20) return ipv4_check::too_short;
        const auto v = std::to_integer<unsigned>(b[0]);
        if ((v >> 4) != 4) return ipv4_check::bad_version;
        const std::size_t ihl = (v & 0x0f) * 4u;
        if (ihl < 20 || ihl > b.size()) return ipv4_check::bad_ihl;
        return ipv4_check::ok;
    }
    /// The view, or nullopt if check() fails.
    static std::optional<ipv4_view> parse(std::span<const std::byte> b) noexcept {
        if (check(b) != ipv4_check::ok) return std::nullopt;
        return ipv4_view(b.data());
    }
    [[nodiscard]] std::uint8_t version() const noexcept { return std::to_integer<std::uint8_t>(_p[0]) >> 4; }
    [[nodiscard]] std::size_t header_len() const noexcept { return (std::to_integer<unsigned>(_p[0]) & 0x0f) * 4u; }
    [[nodiscard]] std::uint8_t tos() const noexcept { return std::to_integer<std::uint8_t>(_p[1]); }
    [[nodiscard]] std::uint16_t total_len() const noexcept { return load_be16(_p + 2); }
    [[nodiscard]] std::uint16_t ident() const noexcept { return load_be16(_p + 4); }
    [[nodiscard]] bool more_fragments() const noexcept { return (load_be16(_p + 6) & k_flag_mf) != 0; }
    [[nodiscard]] std::uint16_t frag_offset() const noexcept { return load_be16(_p + 6) & k_frag_mask; }
    [[nodiscard]] std::uint8_t ttl() const noexcept { return std::to_integer<std::uint8_t>(_p[8]); }
    [[nodiscard]] std::uint8_t protocol() const noexcept { return std::to_integer<std::uint8_t>(_p[9]); }
    [[nodiscard]] std::uint16_t checksum() const noexcept { return load_be16(_p + 10); }
    [[nodiscard]] ip4_addr src() const noexcept { return load_addr(_p + 12); }
    [[nodiscard]] ip4_addr dst() const noexcept { return load_addr(_p + 16); }
    [[nodiscard]] std::span<const std::byte> header() const noexcept { return {_p, header_len()}; }

private:
    explicit ipv4_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

/// What an IPv4 header says, for emitting (no options).
struct ipv4_repr {
    ip4_addr src, dst;
    std::uint8_t protocol = k_proto_udp;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t ident = 0;
    std::uint16_t payload_len = 0;
    bool dont_fragment = true;
};

/// Writes a 20-byte header into out[0..20). `checksum`: compute the header checksum
/// (else the field is 0, for offload).
void emit_ipv4(std::span<std::byte, 20> out, const ipv4_repr& r, bool checksum) noexcept;

}  // namespace wire
LWBENCH_NS_END
