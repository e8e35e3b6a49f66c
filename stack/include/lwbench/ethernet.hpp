// ethernet.hpp — Ethernet II netifs: the link state a driver provides (its MAC, its
// frame output, the ARP cache) and the frame input and output of the core.
//
// A netif is an Ethernet netif when netif::eth points to its ethernet_link; its
// netif::output is etharp_output (etharp.hpp), and frames it receives enter through
// stack::input like any packet (netif_input then calls ethernet_input).
#pragma once

#include <cstdint>

#include "lwbench/err.hpp"
#include "lwbench/etharp.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/wire/ethernet.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;

/// Sends one whole frame (Ethernet header included). Does NOT take ownership: the
/// caller frees p after it returns, whatever the result; a driver that keeps the frame
/// takes its own reference. Core context.
using link_output_fn = err (*)(netif* n, pbuf* p);

/// What makes a netif an Ethernet netif. Owned by the driver; hwaddr and link_output
/// are set before netif_add and not changed afterwards; arp is core state.
struct ethernet_link {
    wire::mac_addr hwaddr;
    link_output_fn link_output = nullptr;  ///< required
    etharp_table arp;
};

/// Processes a received frame: drops and counts short frames, frames for another MAC
/// and unknown EtherTypes; passes IPv4 to ip4_input and ARP to etharp_input, without
/// the Ethernet header. Takes ownership of p. n must be an Ethernet netif. Core context.
void ethernet_input(stack& s, pbuf* p, netif* n);
/// Prepends an Ethernet header (dst, n's MAC, ethertype) and sends p with
/// link_output. Does not take ownership; p is as it was when this returns. Errors:
/// if_ (n down), mem (no pbuf for the header when p has no headroom), the driver's
/// error. Core context.
err ethernet_output(stack& s, netif* n, pbuf* p, const wire::mac_addr& dst, std::uint16_t ethertype);

LWBENCH_NS_END
