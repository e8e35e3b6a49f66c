// netconn_tcp.hpp — what netconn.cpp's type-generic calls need from the TCP half of
// the sequential API (netconn_tcp.cpp). Internal to stack/src/api.
#pragma once

#include "lwbench/netconn.hpp"

LWBENCH_NS_BEGIN
namespace detail {

/// Core context: creates the netconn's TCP pcb and installs its callbacks.
err tcp_netconn_create(netconn* conn);
/// Core context: detaches and closes the pcb (the stack finishes the close), frees
/// data waiting in core context, fails a waiting writer or connector with err::clsd.
void tcp_netconn_close_core(netconn* conn);
/// Not core context, after tcp_netconn_close_core: wakes receivers and frees
/// connections accepted but never taken.
void tcp_netconn_close_after(netconn* conn);
err tcp_netconn_bind(netconn* conn, ip4_addr addr, std::uint16_t port);
err tcp_netconn_connect(netconn* conn, ip4_addr addr, std::uint16_t port);
/// Core context: local or remote address of the pcb.
err tcp_netconn_getaddr(netconn* conn, bool local, std::pair<ip4_addr, std::uint16_t>& out);
/// Runs the netconn's event hook (core context).
void netconn_event(netconn* conn);
/// Posts a netconn semaphore from core context; the waiter's wake-up is issued after
/// the core is released (wake_list.hpp).
void post_from_core(netconn* conn, futex_sem& sem);

}  // namespace detail
LWBENCH_NS_END
