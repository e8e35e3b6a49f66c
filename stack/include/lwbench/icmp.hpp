// icmp.hpp — ICMP for IPv4 (RFC 792): echo (ping) answered, everything else counted.
#pragma once

#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;

/// Processes a received ICMP message (IP header removed; src/dst from it). An echo
/// request to our unicast address is answered with an echo reply carrying the same
/// identifier, sequence and data — in place (no copy) when the pbuf is ours alone.
/// Other types, broadcast echo requests and malformed messages are dropped and
/// counted. Takes ownership of p. Core context.
void icmp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst);

LWBENCH_NS_END
