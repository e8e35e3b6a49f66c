// kinds.cpp — the name table of each kind enum (see kinds.hpp).
#include "lwbench/harness/kinds.hpp"

#include <array>

namespace lwbench::harness {

namespace {

constexpr std::array k_scenarios = {scenario_kind::send_latency,     scenario_kind::recv_latency,
                                    scenario_kind::delivery_latency, scenario_kind::round_trip,
                                    scenario_kind::throughput,       scenario_kind::primitive,
                                    scenario_kind::bulk_tcp,         scenario_kind::request_response_tcp,
                                    scenario_kind::connection_rate_tcp};
constexpr std::array k_apis = {api_kind::raw, api_kind::netconn, api_kind::socket};
constexpr std::array k_primitives = {primitive_kind::lock_unlock,     primitive_kind::mailbox_handoff,
                                     primitive_kind::semaphore_wake,  primitive_kind::thread_pingpong,
                                     primitive_kind::memcpy,          primitive_kind::checksum,
                                     primitive_kind::udp_emit_floor};
constexpr std::array k_netifs = {netif_kind::loopback, netif_kind::tap};

template <class E, std::size_t N>
std::optional<E> parse(const std::array<E, N>& all, std::string_view s) noexcept {
    for (E e : all)
        if (s == to_string(e)) return e;
    return std::nullopt;
}

}  // namespace

const char* to_string(scenario_kind k) noexcept {
    switch (k) {
        case scenario_kind::send_latency: return "send_latency";
        case scenario_kind::recv_latency: return "recv_latency";
        case scenario_kind::delivery_latency: return "delivery_latency";
        case scenario_kind::round_trip: return "round_trip";
        case scenario_kind::throughput: return "throughput";
        case scenario_kind::primitive: return "primitive";
        case scenario_kind::bulk_tcp: return "bulk_tcp";
        case scenario_kind::request_response_tcp: return "request_response_tcp";
        case scenario_kind::connection_rate_tcp: return "connection_rate_tcp";
    }
    return "unknown";
}

const char* to_string(api_kind k) noexcept {
    switch (k) {
        case api_kind::raw: return "raw";
        case api_kind::netconn: return "netconn";
        case api_kind::socket: return "socket";
    }
    return "unknown";
}

const char* to_string(primitive_kind k) noexcept {
    switch (k) {
        case primitive_kind::lock_unlock: return "lock_unlock";
        case primitive_kind::mailbox_handoff: return "mailbox_handoff";
        case primitive_kind::semaphore_wake: return "semaphore_wake";
        case primitive_kind::thread_pingpong: return "thread_pingpong";
        case primitive_kind::memcpy: return "memcpy";
        case primitive_kind::checksum: return "checksum";
        case primitive_kind::udp_emit_floor: return "udp_emit_floor";
    }
    return "unknown";
}

const char* to_string(netif_kind k) noexcept {
    switch (k) {
        case netif_kind::loopback: return "loopback";
        case netif_kind::tap: return "tap";
    }
    return "unknown";
}

std::optional<scenario_kind> parse_scenario_kind(std::string_view s) noexcept { return parse(k_scenarios, s); }
std::optional<api_kind> parse_api_kind(std::string_view s) noexcept { return parse(k_apis, s); }
std::optional<primitive_kind> parse_primitive_kind(std::string_view s) noexcept { return parse(k_primitives, s); }
std::optional<netif_kind> parse_netif_kind(std::string_view s) noexcept { return parse(k_netifs, s); }

std::span<const scenario_kind> all_scenario_kinds() noexcept { return k_scenarios; }
std::span<const api_kind> all_api_kinds() noexcept { return k_apis; }
std::span<const primitive_kind> all_primitive_kinds() noexcept { return k_primitives; }
std::span<const netif_kind> all_netif_kinds() noexcept { return k_netifs; }

}  // namespace lwbench::harness
