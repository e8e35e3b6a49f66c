// wire/dhcp.hpp — the DHCP message layout (RFC 2131 over BOOTP, RFC 951; options
// RFC 2132): a checked view of the fixed header, a checked option parser, and the
// emitters. Layout only; the client's protocol state is in dhcp.hpp.
//
// dhcp_view::check() verifies the length and the fixed fields once; afterwards no
// accessor can read out of bounds. parse_dhcp_options() walks the option area with
// every length checked against what remains, and refuses a list that runs past its
// buffer, is not terminated by the end option, or gives a known option a length it
// cannot have: such a message is malformed as a whole (the client drops and counts it).
// Options this client does not use are skipped by their length. Option overload
// (option 52: more options in `file`/`sname`) is not followed: those fields are
// ignored, which only loses options a server chose to move there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lwbench/wire/ethernet.hpp"
#include "lwbench/wire/ipv4.hpp"

LWBENCH_NS_BEGIN
namespace wire {

inline constexpr std::uint16_t k_dhcp_server_port = 67;
inline constexpr std::uint16_t k_dhcp_client_port = 68;
inline constexpr std::uint8_t k_bootp_request = 1;
inline constexpr std::uint8_t k_bootp_reply = 2;
inline constexpr std::uint8_t k_bootp_htype_ethernet = 1;
inline constexpr std::uint32_t k_dhcp_magic_cookie = 0x63825363;
/// The BROADCAST bit of `flags` (RFC 2131 §4.1): answer to 255.255.255.255.
inline constexpr std::uint16_t k_dhcp_flag_broadcast = 0x8000;

/// Option codes this client reads or writes (RFC 2132).
namespace dhcp_option {
inline constexpr std::uint8_t pad = 0;
inline constexpr std::uint8_t subnet_mask = 1;
inline constexpr std::uint8_t router = 3;
inline constexpr std::uint8_t requested_ip = 50;
inline constexpr std::uint8_t lease_time = 51;
inline constexpr std::uint8_t message_type = 53;
inline constexpr std::uint8_t server_id = 54;
inline constexpr std::uint8_t parameter_list = 55;
inline constexpr std::uint8_t max_message_size = 57;
inline constexpr std::uint8_t renewal_time = 58;    ///< T1
inline constexpr std::uint8_t rebinding_time = 59;  ///< T2
inline constexpr std::uint8_t client_id = 61;
inline constexpr std::uint8_t end = 255;
}  // namespace dhcp_option

/// The DHCP message type (option 53).
enum class dhcp_message_type : std::uint8_t {
    discover = 1,
    offer = 2,
    request = 3,
    decline = 4,
    ack = 5,
    nak = 6,
    release = 7,
    inform = 8,
};

/// Why a buffer is not a DHCP message this stack can read.
enum class dhcp_check : std::uint8_t {
    ok,
    too_short,         ///< shorter than the 236-byte BOOTP header and the 4-byte cookie
    bad_op,            ///< op neither BOOTREQUEST nor BOOTREPLY
    bad_hardware,      ///< htype/hlen other than Ethernet's 1/6
    bad_cookie,        ///< no DHCP magic cookie: a plain BOOTP message
};

class dhcp_view {
public:
    /// The fixed BOOTP header (236 bytes) and the magic cookie (4).
    static constexpr std::size_t header_size = 240;
    static constexpr std::size_t chaddr_offset = 28;

    static dhcp_check check(std::span<const std::byte> b) noexcept {
        if (b.size() < header_size) return dhcp_check::too_short;
        const auto op = std::to_integer<unsigned>(b[0]);
        if (op != k_bootp_request && op != k_bootp_reply) return dhcp_check::bad_op;
        if (std::to_integer<unsigned>(b[1]) != k_bootp_htype_ethernet || std::to_integer<unsigned>(b[2]) != 6)
            return dhcp_check::bad_hardware;
        if (load_be32(b.data() + 236) != k_dhcp_magic_cookie) return dhcp_check::bad_cookie;
        return dhcp_check::ok;
    }
    /// The view, or nullopt if check() fails.
    static std::optional<dhcp_view> parse(std::span<const std::byte> b) noexcept {
        if (check(b) != dhcp_check::ok) return std::nullopt;
        return dhcp_view(b);
    }
    [[nodiscard]] std::uint8_t op() const noexcept { return std::to_integer<std::uint8_t>(_b[0]); }
    [[nodiscard]] std::uint32_t xid() const noexcept { return load_be32(_b.data() + 4); }
    [[nodiscard]] std::uint16_t secs() const noexcept { return load_be16(_b.data() + 8); }
    [[nodiscard]] std::uint16_t flags() const noexcept { return load_be16(_b.data() + 10); }
    [[nodiscard]] ip4_addr ciaddr() const noexcept { return load_addr(_b.data() + 12); }
    [[nodiscard]] ip4_addr yiaddr() const noexcept { return load_addr(_b.data() + 16); }
    [[nodiscard]] ip4_addr siaddr() const noexcept { return load_addr(_b.data() + 20); }
    [[nodiscard]] ip4_addr giaddr() const noexcept { return load_addr(_b.data() + 24); }
    [[nodiscard]] mac_addr chaddr() const noexcept { return load_mac(_b.data() + chaddr_offset); }
    /// The option area after the magic cookie (possibly empty).
    [[nodiscard]] std::span<const std::byte> options() const noexcept { return _b.subspan(header_size); }

private:
    explicit dhcp_view(std::span<const std::byte> b) noexcept : _b(b) {}
    std::span<const std::byte> _b;
};

/// What the options of a message say, as far as this client reads them.
struct dhcp_options {
    std::optional<dhcp_message_type> message_type;
    std::optional<ip4_addr> server_id, subnet_mask, router, requested_ip;
    std::optional<std::uint32_t> lease_time, renewal_time, rebinding_time;  ///< seconds
};

/// Why an option area is malformed.
enum class dhcp_options_check : std::uint8_t {
    ok,
    truncated,       ///< an option's length (or its length byte) runs past the buffer
    no_end,          ///< the list is not terminated by the end option
    bad_length,      ///< a known option with a length it cannot have
    bad_message_type ///< a message type outside 1..8
};

struct dhcp_options_result {
    dhcp_options_check check = dhcp_options_check::ok;
    dhcp_options options;  ///< meaningful only when check == ok
};

/// Parses an option area (dhcp_view::options()). See the file comment for what is refused.
dhcp_options_result parse_dhcp_options(std::span<const std::byte> b) noexcept;

/// The fixed fields of a message to emit (the rest of the 236 bytes are zero).
struct dhcp_repr {
    std::uint8_t op = k_bootp_request;
    std::uint32_t xid = 0;
    std::uint16_t secs = 0, flags = 0;
    ip4_addr ciaddr, yiaddr, siaddr, giaddr;
    mac_addr chaddr;
};

/// Writes the fixed header and the magic cookie into out[0..240).
void emit_dhcp_header(std::span<std::byte, dhcp_view::header_size> out, const dhcp_repr& r) noexcept;

/// Appends options to a buffer, never past its end: an option that does not fit (with
/// room left for the end option) is refused and marks the writer failed.
class dhcp_option_writer {
public:
    explicit dhcp_option_writer(std::span<std::byte> out) noexcept : _out(out) {}
    /// Appends one option; false (and failed()) if it does not fit or is over 255 bytes.
    bool add(std::uint8_t code, std::span<const std::byte> value) noexcept;
    bool add_u8(std::uint8_t code, std::uint8_t v) noexcept;
    bool add_u16(std::uint8_t code, std::uint16_t v) noexcept;
    bool add_u32(std::uint8_t code, std::uint32_t v) noexcept;
    bool add_addr(std::uint8_t code, ip4_addr a) noexcept;
    /// Appends the end option; returns the bytes written in all, or 0 if any add failed.
    std::size_t finish() noexcept;
    [[nodiscard]] bool failed() const noexcept { return _failed; }

private:
    std::span<std::byte> _out;
    std::size_t _used = 0;
    bool _failed = false;
};

}  // namespace wire
LWBENCH_NS_END
