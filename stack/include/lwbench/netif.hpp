// netif.hpp — network interfaces: the small driver interface, routing by
// destination, and the thread-safe management calls (lwIP's netifapi).
//
// Packet ownership across the callbacks:
//  - output(n, p, next_hop): does NOT take ownership; the caller frees p after it
//    returns, whatever the result. A driver that keeps the packet (queues it) takes
//    its own reference with pbuf_ref (the zero-copy loopback does exactly that).
//  - input: packets enter the stack through stack::input(p, n), which takes
//    ownership on every outcome.
//  - poll(n): runs in core context after the current core operation, when the
//    driver asked for it with stack::request_poll(n) (deferred delivery).
#pragma once

#include <cstdint>
#include <string>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;
struct ethernet_link;
struct dhcp_client;

using netif_output_fn = err (*)(netif* n, pbuf* p, ip4_addr next_hop);
using netif_poll_fn = void (*)(netif* n);
using netif_remove_fn = void (*)(netif* n);

/// What the link can do (smoltcp's DeviceCapabilities, Seastar's hw_features).
struct netif_caps {
    std::uint16_t mtu = 1500;
    bool chksum_gen_ip = true, chksum_gen_udp = true;      ///< generate in software on output
    bool chksum_check_ip = true, chksum_check_udp = true;  ///< verify in software on input
    bool chksum_gen_tcp = true, chksum_check_tcp = true;
};

namespace netif_flags {
inline constexpr std::uint8_t up = 0x01;
inline constexpr std::uint8_t link_up = 0x02;
}  // namespace netif_flags

struct netif {
    std::string name = "if";
    ip4_addr ip, netmask, gw;
    netif_caps caps;
    std::uint8_t flags = 0;
    netif_output_fn output = nullptr;     ///< required
    netif_poll_fn poll = nullptr;         ///< optional: deferred work (see stack::request_poll)
    netif_remove_fn on_remove = nullptr;  ///< optional: called in core context by netif_remove
    void* state = nullptr;                ///< driver state
    ethernet_link* eth = nullptr;         ///< non-null: an Ethernet netif (frames; see ethernet.hpp)
    // core state, set by the stack
    stack* owner = nullptr;
    dhcp_client* dhcp = nullptr;  ///< the DHCP client running on this netif (dhcp.hpp), or none
    bool poll_requested = false;

    [[nodiscard]] bool is_up() const noexcept { return (flags & netif_flags::up) != 0; }
};

// ---- core context (raw API); netif_set_* also before the netif is added -----------
/// Adds n to the stack (not up yet). err::arg if n is null, has no output, or is
/// already added to a stack.
err netif_add(stack& s, netif* n);
/// Removes n: stops its DHCP client, calls n->on_remove, forgets pending polls. err::arg if not added here.
err netif_remove(stack& s, netif* n);
void netif_set_up(netif* n);
void netif_set_down(netif* n);
void netif_set_addr(netif* n, ip4_addr ip, ip4_addr netmask, ip4_addr gw);
/// The netif to send to `dst` through: an up netif whose subnet holds dst, else (for
/// loopback destinations) an up netif whose address is a loopback address, else the
/// first up netif with a gateway. nullptr if none (err::rte for the caller).
netif* ip4_route(stack& s, ip4_addr dst);
/// True if `addr` is one of our addresses (or a broadcast on that subnet).
bool ip4_is_local(stack& s, ip4_addr addr);
/// True if n is added to s (compares the pointer only: safe for a removed netif).
bool netif_is_added(stack& s, const netif* n);
/// A received packet enters the core here (stack::input calls it by the input mode):
/// dropped (netif_removed) if inp is not added to s; an Ethernet netif's frame goes to
/// ethernet_input, anything else to ip4_input. Takes ownership of p.
void netif_input(stack& s, pbuf* p, netif* inp);

// ---- application threads (lwIP's netifapi): each goes through stack::call ---------
// Not core context (checking builds abort there). The fields of a netif added to a
// stack belong to that stack's core: read them from an application thread with
// netifapi_get, never directly.

/// As netif_add. Errors: arg.
err netifapi_add(stack& s, netif* n);
/// As netif_remove. After removal, also flushes the tcpip mailbox so no queued input
/// message still refers to n: once it returns, n's memory may be released. Errors: arg.
err netifapi_remove(stack& s, netif* n);
/// err::arg (nothing done) if n is null or not added to s (another stack's, or none).
err netifapi_set_up(stack& s, netif* n);
/// err::arg as netifapi_set_up.
err netifapi_set_down(stack& s, netif* n);
/// err::arg as netifapi_set_up. (Before netif_add, set the address with netif_set_addr.)
err netifapi_set_addr(stack& s, netif* n, ip4_addr ip, ip4_addr netmask, ip4_addr gw);

/// A consistent copy of a netif's address and flags.
struct netif_state {
    ip4_addr ip, netmask, gw;
    std::uint8_t flags = 0;
};
/// Reads n's address and flags in core context: the thread-safe getter. err::arg as
/// netifapi_set_up.
result<netif_state> netifapi_get(stack& s, netif* n);

LWBENCH_NS_END
