// udp.hpp — UDP protocol control blocks and the raw API (lwIP's udp_*).
//
// Threading: every function here runs in core context only — inside a tcpip-thread
// callback or while holding the core lock (core_guard). They never lock by
// themselves. Debug and sanitizer builds assert it (assert_core_context).
#pragma once

#include <cstdint>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;
struct udp_pcb;

/// Receive callback. Takes ownership of p (must pbuf_free it, now or later). Runs in
/// core context; it may call the raw API (e.g. send a reply), which is queued and
/// delivered after the current core operation.
using udp_recv_fn = void (*)(void* arg, udp_pcb* pcb, pbuf* p, ip4_addr src, std::uint16_t src_port);

namespace udp_flags {
inline constexpr std::uint8_t nochksum = 0x01;   ///< send with checksum 0 (lwIP UDP_FLAGS_NOCHKSUM)
inline constexpr std::uint8_t connected = 0x04;  ///< remote address/port set
}  // namespace udp_flags

struct udp_pcb {
    stack* owner = nullptr;
    udp_pcb* next = nullptr;
    ip4_addr local_ip, remote_ip;
    std::uint16_t local_port = 0, remote_port = 0;
    std::uint8_t flags = 0;
    std::uint8_t ttl = 64, tos = 0;
    udp_recv_fn recv = nullptr;
    void* recv_arg = nullptr;
};

/// A new, unbound pcb (heap; creation is not a hot path). nullptr on allocation failure.
udp_pcb* udp_new(stack& s);
/// Unbinds and frees the pcb. Nothing is delivered to it afterwards.
void udp_remove(udp_pcb* pcb);
/// Binds to addr:port. Port 0 picks a free ephemeral port (49152–65535).
/// Errors: use (another pcb holds addr:port, or the ephemeral range is exhausted), arg.
err udp_bind(udp_pcb* pcb, ip4_addr addr, std::uint16_t port);
/// Sets the remote end (binds to an ephemeral port first if unbound). Errors: as udp_bind, arg.
err udp_connect(udp_pcb* pcb, ip4_addr addr, std::uint16_t port);
void udp_disconnect(udp_pcb* pcb);
void udp_recv(udp_pcb* pcb, udp_recv_fn fn, void* arg);
void udp_setflags(udp_pcb* pcb, std::uint8_t flags);

/// Sends p (the payload; not owned: the caller frees it afterwards) to dst:port.
/// On success p may be shared with the receiver (zero-copy loopback): do not write
/// to it again, only free it. On failure p is unchanged and may be sent again.
/// Binds to an ephemeral port first if unbound. The UDP header goes into p's
/// headroom, or into a chained header pbuf when p has none (ref pbufs).
/// Errors: arg, rte (no route), if_ (netif down), msgsize (larger than the MTU
/// allows; no fragmentation), mem (no pbuf for headers), use (no ephemeral port),
/// and the netif's output error (mem when the loopback queue is full).
err udp_sendto(udp_pcb* pcb, pbuf* p, ip4_addr dst, std::uint16_t port);
/// As udp_sendto to the connected remote end. err::conn if not connected.
err udp_send(udp_pcb* pcb, pbuf* p);
/// As udp_sendto through a given netif.
err udp_sendto_if(udp_pcb* pcb, pbuf* p, ip4_addr dst, std::uint16_t port, netif* n);

/// Demultiplexes a received UDP packet (IP header already removed; `src`/`dst` from
/// it). Takes ownership of p. Internal: called by ip4_input.
void udp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst);

LWBENCH_NS_END
