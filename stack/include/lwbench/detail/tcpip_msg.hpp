// detail/tcpip_msg.hpp — what travels through the tcpip mailbox.
//
// API messages (kind api, callback_wait) live on the caller's stack: the caller
// blocks until `done` is posted, so no allocation. Fire-and-forget messages (input,
// callback) come from the stack's fixed message pool (`pooled`), lwIP's memp
// TCPIP_MSG_INPKT / TCPIP_MSG_API pools.
#pragma once

#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

enum class msg_kind : std::uint8_t { api, callback, callback_wait, input, timer, quit };

struct tcpip_msg {
    using kind = msg_kind;
    kind k = kind::api;
    bool pooled = false;
    err result = err::ok;
    core_fn fn = nullptr;
    void* ctx = nullptr;
    futex_sem* done = nullptr;  ///< posted (after the core is released) when the message has run
    pbuf* p = nullptr;          ///< input: the packet (owned by the message)
    netif* inp = nullptr;       ///< input: the netif it arrived on
    tcpip_msg* next_free = nullptr;
};

}  // namespace detail
LWBENCH_NS_END
