// wire/udp.hpp — the UDP header layout: checked view and emitter (8 bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ipv4.hpp"

LWBENCH_NS_BEGIN
namespace wire {

class udp_view {
public:
    static constexpr std::size_t size = 8;
    /// nullopt if fewer than 8 bytes.
    static std::optional<udp_view> parse(std::span<const std::byte> b) noexcept {
        if (b.size() < size) return std::nullopt;
        return udp_view(b.data());
    }
    [[nodiscard]] std::uint16_t src_port() const noexcept { return load_be16(_p); }
    [[nodiscard]] std::uint16_t dst_port() const noexcept { return load_be16(_p + 2); }
    [[nodiscard]] std::uint16_t length() const noexcept { return load_be16(_p + 4); }
    [[nodiscard]] std::uint16_t checksum() const noexcept { return load_be16(_p + 6); }

private:
    explicit udp_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

struct udp_repr {
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint16_t length = 8;  ///< header + payload
};

/// Writes the 8-byte header with checksum 0 (the caller fills it in afterwards,
/// since it covers the payload and pseudo header).
inline void emit_udp(std::span<std::byte, 8> out, const udp_repr& r) noexcept {
    store_be16(out.data(), r.src_port);
    store_be16(out.data() + 2, r.dst_port);
    store_be16(out.data() + 4, r.length);
    store_be16(out.data() + 6, 0);
}

}  // namespace wire
LWBENCH_NS_END
