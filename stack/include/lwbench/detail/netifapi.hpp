// detail/netifapi.hpp — the one shape of every netifapi call (netif.cpp, dhcp.cpp):
// check the calling context, enter core context through the dispatcher, and act only on
// a netif of this stack (internal: not part of the public API).
#pragma once

#include <type_traits>

#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

/// Runs f(n) in s's core context if n is one of s's netifs; err::arg otherwise (a netif
/// of another stack is never touched: its fields belong to that stack's core). f returns
/// err, or nothing (then the call returns ok). Not core context: `where` names the call
/// in the message of checking builds.
template <class F>
err netifapi_on_own(stack& s, netif* n, const char* where, F&& f) {
    assert_not_core_context(s, where);
    if (!n) return err::arg;
    return s.call([&]() -> err {
        if (!netif_is_added(s, n)) return err::arg;
        if constexpr (std::is_void_v<std::invoke_result_t<F&, netif*>>) {
            f(n);
            return err::ok;
        } else {
            return f(n);
        }
    });
}

}  // namespace detail
LWBENCH_NS_END
