// detail/ports.hpp — local port allocation shared by UDP and TCP: the ephemeral
// range cursor and the address-overlap rule of a port conflict. Core context only.
#pragma once

#include <cstdint>

#include "lwbench/ip4_addr.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

/// Two bindings of one port conflict unless both name different specific addresses
/// (no SO_REUSEADDR).
constexpr bool addresses_overlap(ip4_addr a, ip4_addr b) { return a.is_any() || b.is_any() || a == b; }

/// The next port of the IANA dynamic range (49152-65535) for which `taken(port)` is
/// false, starting at the stack's rotating cursor; 0 if every one is taken.
template <class Taken>
std::uint16_t ephemeral_port(stack& s, Taken taken) {
    auto& next = stack_access::next_ephemeral_port(s);
    constexpr unsigned range = 65536u - k_ephemeral_first;
    for (unsigned tries = 0; tries < range; ++tries) {
        const std::uint16_t port = next;
        next = next == 0xffff ? k_ephemeral_first : static_cast<std::uint16_t>(next + 1);
        if (!taken(port)) return port;
    }
    return 0;
}

}  // namespace detail
LWBENCH_NS_END
