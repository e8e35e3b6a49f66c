// kinds.hpp — the closed sets a scenario point is made of, as enums with their one
// name table each: scenario kinds, APIs, primitives and netifs. Names are parsed once, at
// the edge (CLI, Python, runner flags); everything behind it switches on the enum.
// Stack-free, so the real-lwIP runners and the testbed share these too.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace lwbench::harness {

enum class scenario_kind : std::uint8_t {
    send_latency,
    recv_latency,
    delivery_latency,
    round_trip,
    throughput,
    primitive,
    bulk_tcp,              ///< one TCP connection, writes of --size bytes; delivered bytes/s
    request_response_tcp,  ///< --size bytes each way per transaction on one connection
    connection_rate_tcp,   ///< connect + accept + one --size exchange + close, per second
};
/// The TCP kinds (bulk_tcp, request_response_tcp, connection_rate_tcp).
constexpr bool is_tcp(scenario_kind k) noexcept {
    return k == scenario_kind::bulk_tcp || k == scenario_kind::request_response_tcp ||
           k == scenario_kind::connection_rate_tcp;
}
enum class api_kind : std::uint8_t { raw, netconn, socket };
enum class primitive_kind : std::uint8_t {
    lock_unlock,
    mailbox_handoff,
    semaphore_wake,
    thread_pingpong,
    memcpy,
    checksum,
    udp_emit_floor,
};
/// The link a point's datagrams cross: the zero-copy loopback inside the process, or a
/// TAP device with the Linux kernel as the peer (in a network namespace; issue 15).
enum class netif_kind : std::uint8_t { loopback, tap };

const char* to_string(scenario_kind k) noexcept;
const char* to_string(api_kind k) noexcept;
const char* to_string(primitive_kind k) noexcept;
const char* to_string(netif_kind k) noexcept;
std::optional<scenario_kind> parse_scenario_kind(std::string_view s) noexcept;
std::optional<api_kind> parse_api_kind(std::string_view s) noexcept;
std::optional<primitive_kind> parse_primitive_kind(std::string_view s) noexcept;
std::optional<netif_kind> parse_netif_kind(std::string_view s) noexcept;

/// Every value, in declaration order (for catalogues and sweeps).
std::span<const scenario_kind> all_scenario_kinds() noexcept;
std::span<const api_kind> all_api_kinds() noexcept;
std::span<const primitive_kind> all_primitive_kinds() noexcept;
std::span<const netif_kind> all_netif_kinds() noexcept;

}  // namespace lwbench::harness
