// names.cpp — names of enumerators (errors, drop reasons, modes), address text,
// and stats summaries.
#include <cstdio>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/stats.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

const char* err_name(err e) noexcept {
    switch (e) {
        case err::ok: return "ok";
        case err::mem: return "mem";
        case err::buf: return "buf";
        case err::timeout: return "timeout";
        case err::rte: return "rte";
        case err::inprogress: return "inprogress";
        case err::val: return "val";
        case err::wouldblock: return "wouldblock";
        case err::use: return "use";
        case err::already: return "already";
        case err::isconn: return "isconn";
        case err::conn: return "conn";
        case err::if_: return "if";
        case err::abrt: return "abrt";
        case err::rst: return "rst";
        case err::clsd: return "clsd";
        case err::arg: return "arg";
        case err::msgsize: return "msgsize";
    }
    return "unknown";
}

const char* drop_reason_name(drop_reason r) noexcept {
    static constexpr const char* names[] = {
        "ip_too_short",    "ip_bad_version",  "ip_bad_ihl",       "ip_bad_length",  "ip_bad_checksum",
        "ip_fragment",     "ip_not_for_us",   "ip_unknown_proto", "ip_header_split", "ip_netif_down",
        "udp_too_short",   "udp_bad_length",  "udp_bad_checksum", "udp_no_port",    "recv_queue_full",
        "input_queue_full", "netif_queue_full", "netif_removed",    "recv_closed",
        "eth_too_short",   "eth_not_for_us",  "eth_unknown_type", "arp_malformed",  "arp_unknown_op",
        "arp_queue_full",  "arp_table_full",  "arp_unresolved",   "icmp_too_short", "icmp_bad_checksum",
        "icmp_unsupported", "icmp_not_unicast", "no_pbuf",        "link_rx_error",  "link_tx_error",
        "tcp_too_short",   "tcp_bad_header_len", "tcp_bad_checksum", "tcp_bad_options", "tcp_no_port",
        "tcp_backlog_full", "tcp_unacceptable", "tcp_ooseq_full", "dhcp_malformed", "dhcp_not_ours",
        "dhcp_unexpected",
    };
    static_assert(std::size(names) == k_drop_reasons);
    const auto i = static_cast<std::size_t>(r);
    return i < k_drop_reasons ? names[i] : "unknown";
}

std::uint64_t stats::dropped_total() const noexcept {
    std::uint64_t t = 0;
    for (const auto& d : drops) t += d.get();
    return t;
}

std::vector<std::pair<std::string, std::uint64_t>> stats::drops_by_name() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (std::size_t i = 0; i < k_drop_reasons; ++i)
        if (const auto v = drops[i].get()) out.emplace_back(drop_reason_name(static_cast<drop_reason>(i)), v);
    return out;
}

std::optional<ip4_addr> ip4_addr::parse(std::string_view text) {
    std::uint32_t parts[4];
    std::size_t n = 0, i = 0;
    while (n < 4) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
        std::uint32_t v = 0;
        std::size_t digits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            v = v * 10 + static_cast<std::uint32_t>(text[i] - '0');
            if (++digits > 3 || v > 255) return std::nullopt;
            ++i;
        }
        parts[n++] = v;
        if (n < 4) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != text.size()) return std::nullopt;
    return from_octets(static_cast<std::uint8_t>(parts[0]), static_cast<std::uint8_t>(parts[1]),
                       static_cast<std::uint8_t>(parts[2]), static_cast<std::uint8_t>(parts[3]));
}

std::string ip4_addr::to_string() const {
    const std::uint32_t h = host();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", h >> 24, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
    return buf;
}

const char* to_string(threading_mode m) noexcept {
    switch (m) {
        case threading_mode::message_passing: return "message_passing";
        case threading_mode::core_locking: return "core_locking";
        case threading_mode::combining: return "combining";
    }
    return "unknown";
}
const char* to_string(input_mode m) noexcept {
    switch (m) {
        case input_mode::mailbox: return "mailbox";
        case input_mode::inline_: return "inline";
        case input_mode::combining: return "combining";
    }
    return "unknown";
}
const char* to_string(mailbox_kind m) noexcept {
    switch (m) {
        case mailbox_kind::mutex_cv: return "mutex_cv";
        case mailbox_kind::tbb_queue: return "tbb_queue";
        case mailbox_kind::spin_then_block: return "spin_then_block";
        case mailbox_kind::adaptive: return "adaptive";
    }
    return "unknown";
}
const char* to_string(lock_kind m) noexcept {
    switch (m) {
        case lock_kind::std_mutex: return "std_mutex";
        case lock_kind::tbb_spin_mutex: return "tbb_spin_mutex";
        case lock_kind::tbb_queuing_mutex: return "tbb_queuing_mutex";
    }
    return "unknown";
}

namespace {
template <class E, std::size_t N>
std::optional<E> parse_enum(std::string_view s, const E (&all)[N]) {
    for (E e : all)
        if (s == to_string(e)) return e;
    return std::nullopt;
}
}  // namespace

std::optional<threading_mode> parse_threading_mode(std::string_view s) noexcept {
    return parse_enum(s, k_threading_modes);
}
std::optional<input_mode> parse_input_mode(std::string_view s) noexcept { return parse_enum(s, k_input_modes); }
std::optional<mailbox_kind> parse_mailbox_kind(std::string_view s) noexcept {
    return parse_enum(s, k_mailbox_kinds);
}
std::optional<lock_kind> parse_lock_kind(std::string_view s) noexcept {
    static constexpr lock_kind all[] = {lock_kind::std_mutex, lock_kind::tbb_spin_mutex,
                                        lock_kind::tbb_queuing_mutex};
    return parse_enum(s, all);
}

LWBENCH_NS_END
