// inet_chksum.hpp — the Internet checksum (RFC 1071), 64 bytes at a time in vector lanes.
//
// The sum is computed over native-endian words and folded; by RFC 1071's byte-order
// independence the folded result, stored in native order, is the correct checksum
// bytes on the wire. Over a pbuf chain a part that starts at an odd offset of the
// packet has its partial sum byte-swapped before it is added.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lwbench/config.hpp"
#include "lwbench/ip4_addr.hpp"

LWBENCH_NS_BEGIN

struct pbuf;

/// Folded 16-bit ones'-complement sum of data[0..len) (not complemented).
std::uint16_t chksum_sum(const void* data, std::size_t len) noexcept;
/// ~sum: the value to store in a header checksum field (0 means "verified" on input).
std::uint16_t inet_chksum(const void* data, std::size_t len) noexcept;
/// Checksum over a whole pbuf chain (any split, odd offsets included).
std::uint16_t inet_chksum_pbuf(const pbuf* p) noexcept;
/// UDP/TCP checksum with the IPv4 pseudo header over the chain `p` (transport header
/// + payload, `proto_len` bytes).
std::uint16_t inet_chksum_pseudo(const pbuf* p, std::uint8_t proto, std::uint16_t proto_len, ip4_addr src,
                                 ip4_addr dst) noexcept;
/// The obvious byte-at-a-time implementation, kept as the reference for tests and
/// for the micro benchmark that shows what the vector loop buys.
std::uint16_t inet_chksum_bytewise(const void* data, std::size_t len) noexcept;

namespace detail {
/// The compiled variants of the summing loop; chksum_sum and everything above use the
/// best one the CPU supports. Named here so that tests check each of them.
enum class chksum_variant : std::uint8_t { portable, avx2 };
/// Whether this build and CPU can run `v` (portable: always).
bool chksum_variant_available(chksum_variant v) noexcept;
/// chksum_sum computed by variant `v` (which must be available).
std::uint16_t chksum_sum_variant(chksum_variant v, const void* data, std::size_t len) noexcept;
}  // namespace detail

LWBENCH_NS_END
