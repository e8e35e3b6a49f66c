// inet_chksum.cpp — RFC 1071 checksum, 32 bytes per loop iteration.
//
// 32-bit native words are added into a 64-bit accumulator (no carry handling in the
// loop: 2^32 words would be needed to overflow), then folded to 16 bits. Loads go
// through memcpy, so any alignment is fine and the compiler emits plain moves.
#include "lwbench/inet_chksum.hpp"

#include <bit>
#include <cstring>

#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

namespace {

std::uint64_t sum_words(const unsigned char* p, std::size_t len) noexcept {
    std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    while (len >= 32) {
        std::uint32_t w[8];
        std::memcpy(w, p, 32);
        a0 += std::uint64_t{w[0]} + w[4];
        a1 += std::uint64_t{w[1]} + w[5];
        a2 += std::uint64_t{w[2]} + w[6];
        a3 += std::uint64_t{w[3]} + w[7];
        p += 32;
        len -= 32;
    }
    std::uint64_t acc = a0 + a1 + a2 + a3;
    while (len >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        std::uint16_t h;
        std::memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        // A trailing byte is the first byte of a 16-bit word padded with zero.
        acc += std::endian::native == std::endian::little ? std::uint64_t{p[0]} : std::uint64_t{p[0]} << 8;
    }
    return acc;
}

constexpr std::uint16_t fold(std::uint64_t acc) noexcept {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

constexpr std::uint16_t swap16(std::uint16_t v) noexcept { return static_cast<std::uint16_t>((v << 8) | (v >> 8)); }

std::uint64_t chain_sum(const pbuf* p) noexcept {
    std::uint64_t acc = 0;
    bool odd = false;  // does the current pbuf start at an odd offset of the packet?
    for (; p; p = p->next) {
        std::uint16_t s = fold(sum_words(static_cast<const unsigned char*>(p->payload), p->len));
        if (odd) s = swap16(s);
        acc += s;
        if (p->len & 1) odd = !odd;
    }
    return acc;
}

std::uint16_t to_net16(std::uint16_t v) noexcept {
    return std::endian::native == std::endian::little ? swap16(v) : v;
}

}  // namespace

std::uint16_t chksum_sum(const void* data, std::size_t len) noexcept {
    return fold(sum_words(static_cast<const unsigned char*>(data), len));
}

std::uint16_t inet_chksum(const void* data, std::size_t len) noexcept {
    return static_cast<std::uint16_t>(~chksum_sum(data, len));
}

std::uint16_t inet_chksum_pbuf(const pbuf* p) noexcept { return static_cast<std::uint16_t>(~fold(chain_sum(p))); }

std::uint16_t inet_chksum_pseudo(const pbuf* p, std::uint8_t proto, std::uint16_t proto_len, ip4_addr src,
                                 ip4_addr dst) noexcept {
    std::uint64_t acc = chain_sum(p);
    acc += (src.addr & 0xffffu) + (src.addr >> 16);
    acc += (dst.addr & 0xffffu) + (dst.addr >> 16);
    acc += to_net16(proto);
    acc += to_net16(proto_len);
    return static_cast<std::uint16_t>(~fold(acc));
}

std::uint16_t inet_chksum_bytewise(const void* data, std::size_t len) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) acc += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
    if (len & 1) acc += static_cast<std::uint32_t>(p[len - 1] << 8);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    // acc is the sum of big-endian words: convert to the native-order convention.
    return to_net16(static_cast<std::uint16_t>(~acc));
}

LWBENCH_NS_END
