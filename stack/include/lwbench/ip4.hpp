// ip4.hpp — IPv4 output and input (core context).
#pragma once

#include <cstdint>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;

/// Prepends an IPv4 header to `p` (which holds the transport packet) and hands it to
/// n->output. Does not take ownership of p. If the first pbuf has no headroom, a
/// header pbuf is chained in front (and freed again before returning).
/// Errors: rte (n null or down: err::if_), msgsize (header + payload > MTU), mem
/// (no pbuf for the header), and whatever n->output returns.
err ip4_output_if(stack& s, pbuf* p, ip4_addr src, ip4_addr dst, std::uint8_t ttl, std::uint8_t tos,
                  std::uint8_t proto, netif* n);

/// Processes a received IPv4 packet: validates every header field, drops and counts
/// anything malformed (stats.drops by reason), and passes UDP to udp_input, TCP to
/// tcp_input and ICMP to icmp_input.
/// Takes ownership of p on every outcome.
void ip4_input(stack& s, pbuf* p, netif* inp);

LWBENCH_NS_END
