// etharp.hpp — ARP for Ethernet netifs (RFC 826): the cache of IPv4 → MAC mappings,
// requests and replies, gratuitous ARP, and packets held while an address resolves.
//
// Everything here is core context: the cache is core state of its netif, aged by a
// cyclic timer on the tcpip thread (etharp_start registers it, etharp_stop removes
// it). Each netif has its own table (in its ethernet_link, see ethernet.hpp).
//
// Pending packets: while an entry resolves, up to k_etharp_queue_len packets wait on
// it. Each held packet is a reference on the caller's pbuf (pbuf_ref), or a counted
// copy when the caller's memory is volatile (pbuf_clone). More are dropped
// (arp_queue_full); an entry that gets no reply within k_etharp_pending_ticks drops
// its packets (arp_unresolved). A full table drops the packet (arp_table_full):
// resolving entries are never evicted, stable ones are (the oldest first).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/wire/ethernet.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;

inline constexpr std::size_t k_etharp_table_size = 16;
inline constexpr std::size_t k_etharp_queue_len = 4;
/// The ARP timer's period: one tick.
inline constexpr std::chrono::milliseconds k_etharp_tick{1000};
/// A stable entry is forgotten after this many ticks without being refreshed (lwIP: 5 min).
inline constexpr std::uint16_t k_etharp_max_age_ticks = 300;
/// A resolving entry re-sends its request every tick and gives up after this many.
inline constexpr std::uint16_t k_etharp_pending_ticks = 5;

struct etharp_entry {
    enum class state : std::uint8_t { empty, pending, stable };
    state st = state::empty;
    ip4_addr ip;
    wire::mac_addr mac;
    std::uint16_t age = 0;  ///< ticks since it was created (pending) or last refreshed (stable)
    std::array<pbuf*, k_etharp_queue_len> queue{};  ///< pending packets (IP packets, no link header)
    std::uint8_t queued = 0;
};

/// A netif's ARP cache. Core state of that netif.
struct etharp_table {
    std::array<etharp_entry, k_etharp_table_size> entries;
    int timer_id = 0;  ///< 0: not started
};

/// Netif output for Ethernet netifs (netif::output): resolves next_hop (the gateway
/// if next_hop is off the netif's subnet), prepends the Ethernet header and sends.
/// Does not take ownership of p; a packet that waits for resolution is held by its own
/// reference (or copy). Returns ok when sent or held; mem (counted drop) if the
/// entry's queue or the table is full or no copy could be made; rte if off-net without
/// a gateway; the driver's error otherwise. Core context.
err etharp_output(netif* n, pbuf* p, ip4_addr next_hop);
/// Processes a received ARP packet (link header removed): answers requests for our
/// address, updates the entry of the sender (creating it if the packet was for us),
/// and sends the packets held for it. Malformed packets are dropped and counted.
/// Takes ownership of p. Core context.
void etharp_input(stack& s, pbuf* p, netif* n);
/// Sends an ARP request for ip. Errors: mem, if_ (netif down), the driver's error. Core context.
err etharp_request(stack& s, netif* n, ip4_addr ip);
/// Announces n's address (a request for our own address, RFC 5227 §2.4). Errors as etharp_request.
err etharp_gratuitous(stack& s, netif* n);
/// Ages the table by one tick (what the cyclic timer runs): re-requests resolving
/// entries, expires old ones. Core context.
void etharp_tick(stack& s, netif* n);
/// Registers n's ARP timer. err::arg if n is no Ethernet netif or already started. Core context.
err etharp_start(stack& s, netif* n);
/// Removes the timer and empties the table, freeing held packets (counted as
/// arp_unresolved). Safe if never started. Core context.
void etharp_stop(stack& s, netif* n);
/// The MAC a stable entry maps ip to, for tests and diagnostics. Core context.
std::optional<wire::mac_addr> etharp_lookup(const netif* n, ip4_addr ip);

LWBENCH_NS_END
