// dhcp.hpp — a DHCP client for a netif (RFC 2131), lwIP's dhcp.c architecture: the
// client's state is core state of its netif (netif::dhcp), every step runs in core
// context, and time moves only through the client's cyclic timer on the tcpip thread
// (stack::add_cyclic_timer). Application threads use the netifapi_dhcp_* calls, which
// reach the core through stack::call like every other netifapi call.
//
// What it does:
//  - selecting: broadcasts DISCOVER (BROADCAST flag set, so the answers come to
//    255.255.255.255 while the netif has no address), takes the first OFFER;
//  - requesting: broadcasts REQUEST for the offered address to that server;
//  - bound: the address, netmask and router of the ACK are set on the netif (and
//    announced by gratuitous ARP on an Ethernet netif); at T1 (renewing) it sends
//    REQUEST to the server by unicast, at T2 (rebinding) by broadcast; an ACK extends
//    the lease, a NAK drops the address and restarts discovery;
//  - expiry: when the lease ends without an ACK, the address is removed from the netif
//    (traffic to and from it stops: sends fail with err::rte, packets for it are dropped
//    as ip_not_for_us) and discovery starts again;
//  - retransmission: DISCOVER and REQUEST after 4, 8, 16, 32, 64, 64 … s (RFC 2131
//    §4.1, with up to 1 s of random jitter); a REQUEST left unanswered 4 times goes back
//    to discovery. While renewing or rebinding it re-sends after half the time left to
//    T2 or to expiry, at least 60 s (§4.4.5);
//  - release (dhcp_release): RELEASE to the server by unicast, then the client stops.
//
// Received messages are taken only if they are BOOTREPLYs with our transaction id and
// our hardware address; each is dropped and counted otherwise: dhcp_malformed (the wire
// view or the option list refused it: wire/dhcp.hpp), dhcp_not_ours (no client waits
// for that xid/hardware address), dhcp_unexpected (a type the state does not expect,
// or a required option missing: server id in an OFFER, lease time in an ACK).
//
// Not done: ARP probing of the offered address (DECLINE), INFORM, option overload,
// keeping the lease across a stop/start (INIT-REBOOT).
#pragma once

#include <chrono>
#include <cstdint>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/wire/ethernet.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;

enum class dhcp_state : std::uint8_t { off, selecting, requesting, bound, renewing, rebinding };
const char* to_string(dhcp_state st) noexcept;

struct dhcp_config {
    /// Test hook: every time the client takes from the lease (T1, T2, expiry) and every
    /// retransmission interval is divided by this, 1..k_dhcp_max_time_divisor. 1 is RFC
    /// 2131's timing; tests use it to see a 2-minute lease (dnsmasq's minimum) renew
    /// and expire within seconds. The server's lease is unchanged: only this client's
    /// clock runs faster.
    std::uint32_t time_divisor = 1;
    /// The client timer's period: the granularity of every deadline, 1 ms..1 s.
    std::chrono::milliseconds tick{250};
    /// The hardware address sent as chaddr on a netif that is not Ethernet (an
    /// Ethernet netif always sends its own MAC). Must not be zero there.
    wire::mac_addr hwaddr{};
};
inline constexpr std::uint32_t k_dhcp_max_time_divisor = 1'000'000;

/// What the server granted (times in seconds, as the server gave them).
struct dhcp_lease {
    ip4_addr ip, netmask, gw, server;
    std::uint32_t lease_s = 0, t1_s = 0, t2_s = 0;
};

/// What the client did, counted since dhcp_start.
struct dhcp_counters {
    std::uint64_t discovers = 0;        ///< DISCOVERs sent (retransmissions included)
    std::uint64_t requests = 0;         ///< REQUESTs sent in every state (retransmissions included)
    std::uint64_t retransmissions = 0;  ///< DISCOVERs and REQUESTs sent again for lack of an answer
    std::uint64_t offers = 0, acks = 0, naks = 0;  ///< accepted answers
    std::uint64_t leases = 0;           ///< times the client became bound (first lease and every renewal)
    std::uint64_t renewals = 0;         ///< T1 reached: entered renewing
    std::uint64_t rebinds = 0;          ///< T2 reached: entered rebinding
    std::uint64_t expiries = 0;         ///< leases that ended without an ACK: address removed
    std::uint64_t releases = 0;         ///< RELEASEs sent
    std::uint64_t send_errors = 0;      ///< messages the netif refused (down, no route, no pbuf)
};

struct dhcp_status {
    dhcp_state state = dhcp_state::off;
    dhcp_lease lease;  ///< the current lease (bound, renewing, rebinding); zero otherwise
    std::uint32_t xid = 0;
    dhcp_counters counters;
};

// ---- core context (raw API) -----------------------------------------------------------
/// Starts the client on n (restarts it if running: a new discovery). The netif should
/// be up; while it is down the messages fail (counted as send_errors) and are retried.
/// Errors: arg (n null or not added to s, a config field out of range, a non-Ethernet
/// netif without cfg.hwaddr), mem (no memory for the client or its pcb), use (UDP port
/// 68 is taken by another pcb).
err dhcp_start(stack& s, netif* n, const dhcp_config& cfg = {});
/// Stops the client: its timer and messages stop, the leased address is removed from n
/// (the server is not told: the lease runs out there). Safe if not started. netif_remove
/// calls it.
void dhcp_stop(stack& s, netif* n);
/// Sends RELEASE for the lease (if bound, renewing or rebinding), then stops as
/// dhcp_stop. Returns the send's error (the client is stopped either way); ok if there
/// was no lease. err::arg if the client is not running on n.
err dhcp_release(stack& s, netif* n);
/// The client's state on n (state off if not started).
dhcp_status dhcp_get(const netif* n);

// ---- application threads (lwIP's netifapi_dhcp_*): each goes through stack::call ------
// Not core context (checking builds abort there). err::arg (nothing done) if n is null
// or not added to s, as the other netifapi calls.
err netifapi_dhcp_start(stack& s, netif* n, const dhcp_config& cfg = {});
err netifapi_dhcp_stop(stack& s, netif* n);
err netifapi_dhcp_release(stack& s, netif* n);
result<dhcp_status> netifapi_dhcp_get(stack& s, netif* n);

LWBENCH_NS_END
