// wire/tcp.hpp — the TCP header layout (RFC 9293 section 3.1): a checked view for
// parsing, the options walk, and an emitter that writes what the view reads.
//
// tcp_view::check() verifies the length once (at least 20 bytes, a data offset of
// 5..15 words that the buffer holds); afterwards no accessor can read out of bounds.
// parse_tcp_options() walks the option bytes once: End of Option List stops the walk,
// No-Operation is skipped, MSS (kind 2) must have length 4, every other kind is
// skipped by its length, which must be at least 2 and fit the option space. A walk
// that fails marks the segment malformed (the caller drops and counts it).
// emit_tcp() writes the 20-byte header plus the options a tcp_repr carries (only
// MSS), checksum 0; tcp_repr_of() turns a parsed segment back into the same repr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ipv4.hpp"

LWBENCH_NS_BEGIN
namespace wire {

inline constexpr std::uint8_t k_proto_tcp = 6;

/// Control bits (byte 13 of the header).
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

/// Option kinds we name (RFC 9293 3.2; others are skipped by length).
namespace tcp_option {
inline constexpr std::uint8_t end = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::size_t mss_len = 4;
}  // namespace tcp_option

enum class tcp_check : std::uint8_t { ok, too_short, bad_header_len };

class tcp_view {
public:
    static constexpr std::size_t min_size = 20;
    static constexpr std::size_t max_size = 60;
    /// Checks that `b` holds a whole TCP header: >= 20 bytes, data offset 5..15 words
    /// and no longer than `b`.
    static tcp_check check(std::span<const std::byte> b) noexcept {
        if (b.size() < min_size) return tcp_check::too_short;
        const std::size_t hlen = (std::to_integer<unsigned>(b[12]) >> 4) * 4u;
        if (hlen < min_size || hlen > b.size()) return tcp_check::bad_header_len;
        return tcp_check::ok;
    }
    /// The view, or nullopt if check() fails.
    static std::optional<tcp_view> parse(std::span<const std::byte> b) noexcept {
        if (check(b) != tcp_check::ok) return std::nullopt;
        return tcp_view(b.data());
    }
    [[nodiscard]] std::uint16_t src_port() const noexcept { return load_be16(_p); }
    [[nodiscard]] std::uint16_t dst_port() const noexcept { return load_be16(_p + 2); }
    [[nodiscard]] std::uint32_t seq() const noexcept { return load_be32(_p + 4); }
    [[nodiscard]] std::uint32_t ack() const noexcept { return load_be32(_p + 8); }
    [[nodiscard]] std::size_t header_len() const noexcept { return (std::to_integer<unsigned>(_p[12]) >> 4) * 4u; }
    [[nodiscard]] std::uint8_t flags() const noexcept { return std::to_integer<std::uint8_t>(_p[13]); }
    [[nodiscard]] bool has(std::uint8_t flag) const noexcept { return (flags() & flag) != 0; }
    [[nodiscard]] std::uint16_t window() const noexcept { return load_be16(_p + 14); }
    [[nodiscard]] std::uint16_t checksum() const noexcept { return load_be16(_p + 16); }
    [[nodiscard]] std::uint16_t urgent() const noexcept { return load_be16(_p + 18); }
    /// The option bytes (header_len() - 20 of them; may be empty).
    [[nodiscard]] std::span<const std::byte> options() const noexcept {
        return {_p + min_size, header_len() - min_size};
    }

private:
    explicit tcp_view(const std::byte* p) noexcept : _p(p) {}
    const std::byte* _p;
};

/// What the option walk found.
struct tcp_options {
    std::optional<std::uint16_t> mss;  ///< the peer's maximum segment size, if announced
};

/// Walks the option bytes (see the file comment). nullopt if they are malformed.
inline std::optional<tcp_options> parse_tcp_options(std::span<const std::byte> opts) noexcept {
    tcp_options out;
    std::size_t i = 0;
    while (i < opts.size()) {
        const auto kind = std::to_integer<std::uint8_t>(opts[i]);
        if (kind == tcp_option::end) break;
        if (kind == tcp_option::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= opts.size()) return std::nullopt;  // no room for the length byte
        const std::size_t len = std::to_integer<std::size_t>(opts[i + 1]);
        if (len < 2 || len > opts.size() - i) return std::nullopt;
        if (kind == tcp_option::mss) {
            if (len != tcp_option::mss_len) return std::nullopt;
            out.mss = load_be16(opts.data() + i + 2);
        }
        i += len;
    }
    return out;
}

/// What a TCP header says, for emitting (and as parsed back by tcp_repr_of).
struct tcp_repr {
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    std::optional<std::uint16_t> mss;  ///< emitted as the MSS option (SYN segments)

    /// Header bytes emit_tcp writes for this repr (20, or 24 with MSS).
    [[nodiscard]] std::size_t header_len() const noexcept { return tcp_view::min_size + (mss ? tcp_option::mss_len : 0); }
    friend bool operator==(const tcp_repr&, const tcp_repr&) = default;
};

/// Writes r.header_len() bytes into out (which must hold them), checksum 0: the
/// caller fills it in afterwards (it covers the payload and the pseudo header).
inline void emit_tcp(std::span<std::byte> out, const tcp_repr& r) noexcept {
    std::byte* p = out.data();
    store_be16(p, r.src_port);
    store_be16(p + 2, r.dst_port);
    store_be32(p + 4, r.seq);
    store_be32(p + 8, r.ack);
    p[12] = std::byte(static_cast<std::uint8_t>(r.header_len() / 4) << 4);
    p[13] = std::byte{r.flags};
    store_be16(p + 14, r.window);
    store_be16(p + 16, 0);
    store_be16(p + 18, r.urgent);
    if (r.mss) {
        p[20] = std::byte{tcp_option::mss};
        p[21] = std::byte{tcp_option::mss_len};
        store_be16(p + 22, *r.mss);
    }
}

/// The repr of a parsed header (the inverse of emit_tcp); nullopt if its options are
/// malformed.
inline std::optional<tcp_repr> tcp_repr_of(const tcp_view& v) noexcept {
    const auto opts = parse_tcp_options(v.options());
    if (!opts) return std::nullopt;
    return tcp_repr{v.src_port(), v.dst_port(), v.seq(), v.ack(), v.flags(), v.window(), v.urgent(), opts->mss};
}

}  // namespace wire
LWBENCH_NS_END
