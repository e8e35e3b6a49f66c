// config.hpp — compile-time constants and the namespace macros of the stack.
//
// Everything lives in `lwbench::<variant>`, an inline namespace. The normal build
// uses `dyn` (threading mode chosen at run time). The dispatch-overhead benchmark
// compiles the stack a second time with LWBENCH_FIXED_MODE_* and another variant
// name, so both builds link into one binary and are compared in the same run.
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef LWBENCH_VARIANT_NS
#define LWBENCH_VARIANT_NS dyn
#endif
#define LWBENCH_NS_BEGIN \
    namespace lwbench {  \
    inline namespace LWBENCH_VARIANT_NS {
#define LWBENCH_NS_END \
    }                  \
    }

LWBENCH_NS_BEGIN

/// Header sizes (bytes).
inline constexpr std::size_t k_link_hlen = 14;  ///< Ethernet-sized link header room
inline constexpr std::size_t k_ip4_hlen = 20;   ///< IPv4 header without options
inline constexpr std::size_t k_udp_hlen = 8;
/// Largest buffer a pool pbuf carries, headroom included (an Ethernet frame + slack).
inline constexpr std::size_t k_pool_bufsize = 1536 + 64;
/// First port handed out by ephemeral binding (IANA dynamic range).
inline constexpr std::uint16_t k_ephemeral_first = 49152;

LWBENCH_NS_END
