// bench_micro.cpp — micro benchmarks of the stack's building blocks (STYLE.md §7):
// checksum, pbuf allocation, header push/pop, IPv4/UDP emit, and the core lock kinds.
// Single-threaded, CPU time, no stack instance (no tcpip thread) unless stated.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench_common.hpp"
#include "lwbench/detail/core_lock.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/wire/ipv4.hpp"
#include "lwbench/wire/udp.hpp"

namespace {

namespace lw = lwbench;
namespace gbench = lwbench::gbench;
const lw::ip4_addr k_lo = lw::ip4_addr::from_octets(127, 0, 0, 1);

void checksum_sizes(benchmark::internal::Benchmark* b) {
    b->ArgName(gbench::k_arg_bytes);
    for (int n : {64, 128, 256, 512, 1024, 1472}) b->Arg(n);
}

std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<unsigned char>(i * 131 + 7));
    return v;
}

// ---- checksum ------------------------------------------------------------------------------

/// The stack's checksum: native-endian word loop, folded (inet_chksum.cpp).
void Checksum_word(benchmark::State& st) {
    const auto buf = pattern(static_cast<std::size_t>(st.range(0)));
    for (auto _ : st) {
        auto c = lw::inet_chksum(buf.data(), buf.size());
        benchmark::DoNotOptimize(c);
    }
    st.SetBytesProcessed(st.iterations() * st.range(0));
}
BENCHMARK(Checksum_word)->Name("Checksum/word")->Apply(checksum_sizes);

/// The byte-at-a-time reference: what the word loop buys.
void Checksum_bytewise(benchmark::State& st) {
    const auto buf = pattern(static_cast<std::size_t>(st.range(0)));
    for (auto _ : st) {
        auto c = lw::inet_chksum_bytewise(buf.data(), buf.size());
        benchmark::DoNotOptimize(c);
    }
    st.SetBytesProcessed(st.iterations() * st.range(0));
}
BENCHMARK(Checksum_bytewise)->Name("Checksum/bytewise")->Apply(checksum_sizes);

// ---- pbufs -----------------------------------------------------------------------------------

/// Pool pbuf with transport headroom: alloc + free (a 1458-byte payload fits one element).
void Pbuf_pool(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 16, 16);
    const auto n = static_cast<std::size_t>(st.range(0));
    for (auto _ : st) {
        lw::pbuf* p = pools.alloc(lw::pbuf_layer::transport, n, lw::pbuf_type::pool);
        if (!p) [[unlikely]] {
            st.SkipWithError("pool exhausted");
            break;
        }
        benchmark::DoNotOptimize(p);
        lw::pbuf_free(p);
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(Pbuf_pool)->Name("Pbuf/pool_alloc_free")->ArgName(gbench::k_arg_payload)->Arg(64)->Arg(1458)->Arg(4000);

/// Reference pbuf over caller memory (zero copy): alloc + free.
void Pbuf_ref(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 16, 16);
    const auto buf = pattern(1458);
    for (auto _ : st) {
        lw::pbuf* p = pools.alloc_ref(buf.data(), buf.size(), /*stable=*/true);
        if (!p) [[unlikely]] {
            st.SkipWithError("ref pool exhausted");
            break;
        }
        benchmark::DoNotOptimize(p);
        lw::pbuf_free(p);
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(Pbuf_ref)->Name("Pbuf/ref_alloc_free");

/// What udp_sendto does for a ref pbuf (no headroom): a pool header pbuf chained in front.
void Pbuf_ref_with_header(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 16, 16);
    const auto buf = pattern(1458);
    for (auto _ : st) {
        lw::pbuf* p = pools.alloc_ref(buf.data(), buf.size(), true);
        lw::pbuf* h = pools.alloc(lw::pbuf_layer::ip, 0, lw::pbuf_type::pool);
        if (!p || !h) [[unlikely]] {
            st.SkipWithError("pool exhausted");
            break;
        }
        (void)lw::pbuf_add_header(h, lw::k_udp_hlen);
        lw::pbuf_chain(h, p);
        benchmark::DoNotOptimize(h);
        lw::pbuf_free(h);
        lw::pbuf_free(p);
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(Pbuf_ref_with_header)->Name("Pbuf/ref_plus_header_chain");

/// The heap fallback (PBUF_RAM): for comparison with the pools.
void Pbuf_ram(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 16, 16);
    for (auto _ : st) {
        lw::pbuf* p = pools.alloc(lw::pbuf_layer::transport, 1458, lw::pbuf_type::ram);
        if (!p) [[unlikely]] {
            st.SkipWithError("heap allocation failed");
            break;
        }
        benchmark::DoNotOptimize(p);
        lw::pbuf_free(p);
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(Pbuf_ram)->Name("Pbuf/ram_alloc_free");

/// Header push/pop through the layers: UDP, IPv4, link header in, and out again.
void Pbuf_header_push_pop(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 4, 4);
    lw::pbuf* p = pools.alloc(lw::pbuf_layer::transport, 1458, lw::pbuf_type::pool);
    if (!p) {
        st.SkipWithError("no pbuf");
        return;
    }
    for (auto _ : st) {
        bool ok = lw::pbuf_add_header(p, lw::k_udp_hlen);
        ok &= lw::pbuf_add_header(p, lw::k_ip4_hlen);
        ok &= lw::pbuf_add_header(p, lw::k_link_hlen);
        ok &= lw::pbuf_remove_header(p, lw::k_link_hlen);
        ok &= lw::pbuf_remove_header(p, lw::k_ip4_hlen);
        ok &= lw::pbuf_remove_header(p, lw::k_udp_hlen);
        if (!ok) [[unlikely]] {
            st.SkipWithError("header push/pop failed");
            break;
        }
        benchmark::DoNotOptimize(p->payload);
    }
    lw::pbuf_free(p);
}
BENCHMARK(Pbuf_header_push_pop)->Name("Pbuf/header_push_pop");

// ---- emit ------------------------------------------------------------------------------------

void Emit_ipv4(benchmark::State& st) {
    alignas(8) std::byte out[20];
    lw::wire::ipv4_repr r;
    r.src = k_lo;
    r.dst = k_lo;
    r.payload_len = 1466;
    const bool chk = st.range(0) != 0;
    for (auto _ : st) {
        ++r.ident;
        lw::wire::emit_ipv4(std::span<std::byte, 20>(out, 20), r, chk);
        benchmark::DoNotOptimize(out);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(Emit_ipv4)->Name("Emit/ipv4")->ArgName("checksum")->Arg(0)->Arg(1);

void Emit_udp(benchmark::State& st) {
    alignas(8) std::byte out[8];
    std::uint16_t port = 7001;
    for (auto _ : st) {
        lw::wire::emit_udp(std::span<std::byte, 8>(out, 8), {++port, 9, 1466});
        benchmark::DoNotOptimize(out);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(Emit_udp)->Name("Emit/udp");

/// UDP checksum over header + payload with the pseudo header (one pbuf).
void Emit_udp_checksum(benchmark::State& st) {
    lw::stats stats;
    lw::pbuf_pools pools(stats, 4, 4);
    const auto n = static_cast<std::size_t>(st.range(0));
    lw::pbuf* p = pools.alloc(lw::pbuf_layer::ip, n + lw::k_udp_hlen, lw::pbuf_type::pool);
    if (!p) {
        st.SkipWithError("no pbuf");
        return;
    }
    std::memset(p->payload, 0x3c, p->len);
    for (auto _ : st) {
        auto c = lw::inet_chksum_pseudo(p, 17, p->tot_len, k_lo, k_lo);
        benchmark::DoNotOptimize(c);
    }
    lw::pbuf_free(p);
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n + lw::k_udp_hlen));
}
BENCHMARK(Emit_udp_checksum)->Name("Emit/udp_checksum")->ArgName(gbench::k_arg_payload)->Arg(64)->Arg(1458);

// ---- core lock kinds ------------------------------------------------------------------------

/// Uncontended lock + unlock of each core lock kind (detail/core_lock.hpp).
void Lock_unlock(benchmark::State& st) {
    const auto kind = static_cast<lw::lock_kind>(st.range(0));
    lw::detail::core_lock lk(kind);
    lw::detail::lock_token t;
    for (auto _ : st) {
        lk.lock(t);
        lk.unlock(t);
        benchmark::ClobberMemory();
    }
    st.SetLabel(lw::to_string(kind));
}
BENCHMARK(Lock_unlock)->Name("Lock/lock_unlock")->ArgName(gbench::k_arg_lock)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

int main(int argc, char** argv) {
    gbench::check_arg_value_names<lw::lock_kind>(gbench::k_arg_lock, 3, [](lw::lock_kind k) { return lw::to_string(k); });
    return lwbench::gbench::run_main(argc, argv, "bench_micro");
}
