// inet_chksum.cpp — RFC 1071 checksum, 64 bytes per loop iteration in vector lanes.
//
// The sum is the ones'-complement sum of native-endian 16-bit words (RFC 1071's byte
// order independence makes the folded result, stored in native order, the right
// bytes on the wire). The bulk loop loads 32-byte vectors of eight 32-bit lanes and
// adds each lane's low and high halves into 32-bit lane accumulators: no carry
// handling in the loop, because a bounded number of blocks cannot overflow a lane
// (see k_max_blocks); the lanes then go into a 64-bit scalar total. GCC/Clang vector
// extensions keep it portable (plain SSE2 on any x86-64); on x86-64 a second copy is
// compiled for AVX2 and chosen at run time when the CPU has it. The tail (< 64
// bytes, and short buffers such as headers) adds 32-bit words into the 64-bit total. Loads go through memcpy, so any
// alignment is fine.
#include "lwbench/inet_chksum.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

namespace {

/// Eight 32-bit lanes (32 bytes of input per vector).
using lanes = std::uint32_t __attribute__((vector_size(32)));

/// Blocks of 64 bytes per accumulation round: each block adds at most 2 * 0xffff to
/// a lane of each of the two accumulators, so after k_max_blocks a lane holds at most
/// 2 * 0xffff * 8192 < 2^30, and the two accumulators' sum stays below 2^31.
constexpr std::size_t k_max_blocks = 8192;

[[gnu::always_inline]] inline std::uint64_t sum_words_body(const unsigned char* p, std::size_t len) noexcept {
    std::uint64_t acc = 0;
    while (len >= 64) {
        const std::size_t blocks = std::min(len / 64, k_max_blocks);
        lanes a{}, b{};
        for (std::size_t i = 0; i < blocks; ++i) {
            lanes x, y;
            std::memcpy(&x, p, sizeof x);
            std::memcpy(&y, p + 32, sizeof y);
            a += (x & 0xffffu) + (x >> 16);
            b += (y & 0xffffu) + (y >> 16);
            p += 64;
        }
        len -= blocks * 64;
        const lanes t = a + b;
        for (int k = 0; k < 8; ++k) acc += t[k];
    }
    if (len >= 32) {  // short buffers (headers) and tails: 32-bit words, 64-bit sums
        std::uint32_t w[8];
        std::memcpy(w, p, 32);
        std::uint64_t h = 0;
        for (int k = 0; k < 8; ++k) h += w[k];
        acc += h;
        p += 32;
        len -= 32;
    }
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

std::uint64_t sum_words_portable(const unsigned char* p, std::size_t len) noexcept { return sum_words_body(p, len); }

#if defined(__x86_64__)
[[gnu::target("avx2")]] std::uint64_t sum_words_avx2(const unsigned char* p, std::size_t len) noexcept {
    return sum_words_body(p, len);
}
#endif

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__)
    static const bool avx2 = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return avx2;
#else
    return false;
#endif
}

/// Unfolded sum of the native 16-bit words of p[0..len) (a trailing byte padded).
std::uint64_t sum_words(const unsigned char* p, std::size_t len) noexcept {
#if defined(__x86_64__)
    // Headers and other short buffers stay on the portable copy: the vector loop does
    // not run for them, and the AVX2 copy measured slower there.
    if (len >= 256 && cpu_has_avx2()) return sum_words_avx2(p, len);
#endif
    return sum_words_portable(p, len);
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

namespace detail {

bool chksum_variant_available(chksum_variant v) noexcept {
    return v == chksum_variant::portable || (v == chksum_variant::avx2 && cpu_has_avx2());
}

std::uint16_t chksum_sum_variant(chksum_variant v, const void* data, std::size_t len) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
    if (v == chksum_variant::avx2) return fold(sum_words_avx2(p, len));
#else
    (void)v;
#endif
    return fold(sum_words_portable(p, len));
}

}  // namespace detail

std::uint16_t inet_chksum_bytewise(const void* data, std::size_t len) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t acc = 0;  // 64 bits: no overflow for any length
    for (std::size_t i = 0; i + 1 < len; i += 2) acc += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
    if (len & 1) acc += static_cast<std::uint32_t>(p[len - 1] << 8);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    // acc is the sum of big-endian words: convert to the native-order convention.
    return to_net16(static_cast<std::uint16_t>(~acc));
}

LWBENCH_NS_END
