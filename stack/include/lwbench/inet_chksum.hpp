// inet_chksum.hpp — the Internet checksum (RFC 1071), word at a time.
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
/// for the micro benchmark that shows what the word loop buys.
std::uint16_t inet_chksum_bytewise(const void* data, std::size_t len) noexcept;

LWBENCH_NS_END
