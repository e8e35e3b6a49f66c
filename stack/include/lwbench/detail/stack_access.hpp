// detail/stack_access.hpp — the stack's own files reach its private state here
// (internal: not part of the public API; tests of the core may use it too).
//
// The core state (netif list, raw pcbs, ephemeral ports, IP ident, deferred polls) is
// single-threaded: every accessor asserts core context in checking builds, exactly
// like the raw API does. The socket state and the netconn count are thread-safe.
#pragma once

#include <vector>

#include "lwbench/detail/publication_slots.hpp"
#include "lwbench/detail/wake_list.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

struct stack_access {
    /// The netifs added to s, in order. Core context.
    static std::vector<netif*>& netifs(stack& s) {
        assert_core_context(s, "stack netif list");
        return s._netifs;
    }
    /// Head of s's raw UDP pcb list. Core context.
    static udp_pcb*& udp_pcbs(stack& s) {
        assert_core_context(s, "stack udp pcb list");
        return s._udp_pcbs;
    }
    /// The UDP pcb on port 68 that every DHCP client of s shares (null while none runs). Core context.
    static udp_pcb*& dhcp_pcb(stack& s) {
        assert_core_context(s, "stack dhcp pcb");
        return s._dhcp_pcb;
    }
    /// The next ephemeral port to try. Core context.
    static std::uint16_t& next_ephemeral_port(stack& s) {
        assert_core_context(s, "stack ephemeral port");
        return s._next_port;
    }
    /// The next IPv4 identification value. Core context.
    static std::uint16_t next_ip_ident(stack& s) {
        assert_core_context(s, "stack ip ident");
        return s._ip_ident++;
    }
    /// Forgets a pending poll request (netif removal). Core context.
    static void forget_poll(stack& s, netif* n) noexcept { s.forget_poll(n); }
    /// TCP's core state slot (made by the first TCP call). Core context.
    static stack::tcp_core_ptr& tcp_core_slot(stack& s) {
        assert_core_context(s, "stack tcp state");
        return s._tcp;
    }
    /// Wake-ups to issue once the core is released (see wake_list.hpp). Core context.
    static wake_list& wakes(stack& s) {
        assert_core_context(s, "stack wake-up list");
        return *s._wakes;
    }
    /// s's publication slots (combining; thread-safe). Any thread.
    static publication_slots& slots(stack& s) noexcept { return *s._slots; }
    /// s's pbuf pools (thread-safe). Any thread.
    static pbuf_pools& pools(stack& s) noexcept { return s._pools; }
    /// The socket layer's per-stack state. Any thread.
    static stack_sockets& sockets(stack& s) noexcept { return *s._sockets; }
    /// Netconns alive on s (the teardown contract checks it is 0). Any thread.
    static void netconn_created(stack& s) noexcept { s._live_netconns.fetch_add(1, std::memory_order_relaxed); }
    static void netconn_deleted(stack& s) noexcept { s._live_netconns.fetch_sub(1, std::memory_order_release); }
};

}  // namespace detail
LWBENCH_NS_END
