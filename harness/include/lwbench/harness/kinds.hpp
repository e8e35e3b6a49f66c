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
    bulk_tcp,              ///< 1..N TCP connections in parallel, writes of --size bytes; delivered bytes/s
    request_response_tcp,  ///< --size bytes each way per transaction on one connection
    connection_rate_tcp,   ///< connect + accept + one --size exchange + close, per second
};
/// The TCP kinds (bulk_tcp, request_response_tcp, connection_rate_tcp).
constexpr bool is_tcp(scenario_kind k) noexcept {
    return k == scenario_kind::bulk_tcp || k == scenario_kind::request_response_tcp ||
           k == scenario_kind::connection_rate_tcp;
}
/// The kinds that take 1..N application threads (--threads): throughput's sender
/// threads into one receiver, and bulk_tcp's parallel connections (a sender thread
/// each). Every other kind runs one application thread (round_trip: plus its ponger).
constexpr bool takes_threads(scenario_kind k) noexcept {
    return k == scenario_kind::throughput || k == scenario_kind::bulk_tcp;
}
/// The most parallel connections a bulk_tcp point takes (--threads), both stacks:
/// each holds a listener port, a sender and (netconn, socket) a receiver thread, and
/// real lwIP's pools are sized for this many (real_lwip/config/lwbench_lwipopts_defaults.h).
inline constexpr int k_max_bulk_tcp_connections = 16;
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
