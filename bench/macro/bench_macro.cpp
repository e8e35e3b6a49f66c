// bench_macro.cpp — loopback UDP through each API tier (STYLE.md §7: macro benchmarks).
//
// Every benchmark sends through the zero-copy loopback to 127.0.0.1, in both threading
// modes with the input mode paired as lwIP's builds (core_locking -> inline input,
// message_passing -> tcpip mailbox). Names: <Kind>/<api>/mode:<message_passing|core_locking>/
// payload:<bytes>[/real_time][/threads:N] (the mode arg is 0/1 inside Google Benchmark;
// run_main's reporters write the names, see bench_common.hpp).
//
//  Send/<api>          one send call into a counting raw sink (same receive work for all APIs)
//  Recv/<api>          one receive call with a datagram already waiting (refilled untimed)
//  RoundTrip/<api>     ping-pong: send, the peer echoes (raw: from its receive callback;
//                      netconn/socket: an echo thread), receive the echo
//  Throughput/<api>    1..4 sender threads into one sink, real time, datagrams and bytes/s
//  Floor/*             the primitives floor the stack's work is compared with
//  Harness/*           what one timing sample costs (the sampler's overhead check)
//
// User counters: p50_ns..max_ns (our per-op samples; Google Benchmark only aggregates
// across repetitions), *_per_op perf counters (all threads of the process; absent — with
// the reason in the label — when the event is not available), heap_allocs_per_op,
// payload_copies_per_op (the stack's own counters), new_calls_per_op (replaced global
// operator new, all threads), dropped.
#include <benchmark/benchmark.h>

#include <cstring>
#include <thread>

#include "bench_common.hpp"
#include "fixtures.hpp"
#include "lwbench/harness/stats.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/wire/ipv4.hpp"
#include "lwbench/wire/udp.hpp"

namespace {

using lwbench::ip4_addr;
using lwbench::threading_mode;
using lwbench::bench::api_kind;
using lwbench::bench::endpoint;
using lwbench::bench::k_echo_port;
using lwbench::bench::k_ping_port;
using lwbench::bench::k_rx_port;
using lwbench::bench::k_sink_port;
using lwbench::bench::wait_until;
namespace gbench = lwbench::gbench;

constexpr std::int64_t k_mp = gbench::k_mode_mp, k_cl = gbench::k_mode_cl;

// ---- receive ----------------------------------------------------------------------------

class recv_fixture : public lwbench::bench::testbed_fixture {
protected:
    static constexpr long k_refill = 256;  ///< below the receive queue depth: nothing dropped

    void run_recv(benchmark::State& st, api_kind api) {
        const gbench::scoped_pin pin(gbench::app_cpu(0));
        std::unique_ptr<endpoint> rx, tx;
        gbench::sampler smp;
        const char* setup_error = nullptr;
        lwbench::bench::steady_counts c0;
        // Queue n datagrams at the receiver (untimed): raw zero-copy sends under the core
        // lock (fast in both modes), then a flush so that, in mailbox input mode, the
        // tcpip thread has delivered them all.
        const auto fill = [&](long n) {
            for (long i = 0; i < n; ++i)
                if (!tx->send_locked(k_rx_port)) return false;
            tb->flush();
            return true;
        };
        if (!tb || !tb->ok()) {
            setup_error = "testbed setup failed";
        } else {
            rx = std::make_unique<endpoint>(*tb, api, payload, k_rx_port);
            tx = std::make_unique<endpoint>(*tb, api_kind::raw, payload);
            if (!rx->ok() || !tx->ok()) setup_error = "endpoint setup failed";
        }
        if (!setup_error) {
            bool ok = fill(k_refill);
            for (long i = 0; i < k_refill && ok; ++i) ok = rx->recv() >= 0;
            ok = ok && fill(k_refill);
            // the core's probe: the fastest of 5 chunks of the k_refill queued receives
            const double op_ns = gbench::probe_op_ns([&] { return ok = ok && rx->recv() >= 0; }, k_refill);
            for (long i = 5 * (k_refill / 5); i < k_refill && ok; ++i) ok = rx->recv() >= 0;  // the probe's remainder
            if (!ok) setup_error = "warm-up failed";
            smp.reset(st.max_iterations, gbench::choose_batch(op_ns));
        }
        if (setup_error) st.SkipWithError(setup_error);
        gbench::counter_window cw;
        if (!setup_error) c0 = lwbench::bench::steady_counts::of(tb->s);  // after the counters' allocations
        cw.start();
        long left = 0;
        for (auto _ : st) {
            if (left == 0) [[unlikely]] {
                st.PauseTiming();
                cw.pause();
                smp.pause();
                const bool ok = fill(k_refill);
                cw.resume();
                st.ResumeTiming();
                if (!ok) {
                    st.SkipWithError("refill failed");
                    break;
                }
                left = k_refill;
            }
            if (rx->recv() < 0) [[unlikely]] {
                st.SkipWithError("receive failed");
                break;
            }
            --left;
            smp.tick();
        }
        cw.stop();
        if (setup_error) return;
        const auto ops = st.iterations();
        // The counts cover the refills too: raw zero-copy sends, so copies are the receiver's.
        lwbench::bench::publish_steady(st, c0, lwbench::bench::steady_counts::of(tb->s), static_cast<double>(ops));
        gbench::publish_percentiles(st, {&smp});
        st.SetLabel(lwbench::bench::label_of(api, mode, cw.publish(st, static_cast<double>(ops))));
        st.SetItemsProcessed(ops);
        st.SetBytesProcessed(ops * static_cast<std::int64_t>(payload));
    }
};

// ---- round trip ---------------------------------------------------------------------------

class rtt_fixture : public lwbench::bench::testbed_fixture {
protected:
    void run_rtt(benchmark::State& st, api_kind api) {
        const gbench::scoped_pin pin(gbench::app_cpu(0));
        std::unique_ptr<endpoint> a, b;
        std::thread echo;
        gbench::sampler smp;
        const char* setup_error = nullptr;
        lwbench::bench::steady_counts c0;
        if (!tb || !tb->ok()) {
            setup_error = "testbed setup failed";
        } else {
            a = std::make_unique<endpoint>(*tb, api, payload, k_ping_port);
            b = std::make_unique<endpoint>(*tb, api, payload, k_echo_port);
            if (!a->ok() || !b->ok()) setup_error = "endpoint setup failed";
        }
        if (!setup_error) {
            a->set_recv_timeout(5000);  // a lost echo fails the run instead of hanging it
            if (api == api_kind::raw) {
                b->set_echo(true);  // echoed from b's receive callback, in core context
            } else {
                echo = std::thread([&] {
                    const gbench::scoped_pin echo_pin(gbench::app_cpu(1));
                    for (;;) {
                        if (b->recv() < 0) break;
                        if (!b->send(k_ping_port)) break;
                    }
                });
            }
            const auto once = [&] { return a->send(k_echo_port) && a->recv() >= 0; };
            bool ok = true;
            for (int i = 0; i < 64 && ok; ++i) ok = once();
            const double op_ns = gbench::probe_op_ns([&] { return ok = ok && once(); }, locking() ? 128 : 32);
            if (!ok) setup_error = "warm-up round trips failed";
            smp.reset(st.max_iterations, gbench::choose_batch(op_ns));
        }
        if (setup_error) st.SkipWithError(setup_error);
        gbench::counter_window cw;  // the echo thread exists now
        if (!setup_error) c0 = lwbench::bench::steady_counts::of(tb->s);  // after the counters' allocations
        cw.start();
        for (auto _ : st) {
            if (!a->send(k_echo_port) || a->recv() < 0) [[unlikely]] {
                st.SkipWithError("round trip failed (send, or no echo within 5 s)");
                break;
            }
            smp.tick();
        }
        cw.stop();
        const auto c1 = tb ? lwbench::bench::steady_counts::of(tb->s) : c0;
        if (echo.joinable()) {
            b->shutdown();  // wakes the echo thread's blocking receive
            echo.join();
        }
        if (setup_error) return;
        const auto ops = st.iterations();
        lwbench::bench::publish_steady(st, c0, c1, static_cast<double>(ops));
        gbench::publish_percentiles(st, {&smp});
        st.SetLabel(lwbench::bench::label_of(api, mode, cw.publish(st, static_cast<double>(ops))));
        st.SetItemsProcessed(ops);
        st.SetBytesProcessed(2 * ops * static_cast<std::int64_t>(payload));
    }
};

// ---- throughput -----------------------------------------------------------------------------

/// N sender threads (ThreadRange), each with its own endpoint, into the one sink.
/// Thread 0 builds everything (SetUp and before its loop); the others only touch the
/// shared state inside the loop, i.e. after Google Benchmark's start barrier.
class tput_fixture : public lwbench::bench::testbed_fixture {
public:
    void TearDown(benchmark::State& st) override {
        if (st.thread_index() != 0) return;
        slots.clear();
        cw.reset();
        ready.store(false, std::memory_order_relaxed);
        // not `snapped`: a sender may still be about to read it (reset in prepare()).
        testbed_fixture::TearDown(st);
    }

protected:
    struct alignas(64) slot {
        std::unique_ptr<endpoint> ep;
        gbench::sampler smp;
        std::uint64_t sent = 0;
    };

    void run_tput(benchmark::State& st, api_kind api) {
        const int idx = st.thread_index();
        const gbench::scoped_pin pin(gbench::app_cpu(idx));
        if (idx == 0) {
            const char* setup_error = prepare(st, api);
            if (setup_error) st.SkipWithError(setup_error);
        }
        slot* me = nullptr;
        bool broke = false;
        for (auto _ : st) {
            if (me == nullptr) [[unlikely]] {
                if (!ready.load(std::memory_order_acquire)) {
                    st.SkipWithError("setup failed (thread 0)");
                    broke = true;
                    break;
                }
                me = &slots[static_cast<std::size_t>(idx)];
            }
            if (!me->ep->send(k_sink_port)) [[unlikely]] {
                st.SkipWithError("send failed");
                broke = true;
                break;
            }
            ++me->sent;
            me->smp.tick();
        }
        // Operator-new count first: Google Benchmark's own per-thread bookkeeping after
        // the loop allocates (counter maps), so the other threads wait for this snapshot.
        std::uint64_t news1 = 0;
        if (idx == 0) {
            news1 = gbench::new_calls();
            snapped.store(true, std::memory_order_release);
        } else if (!broke && me != nullptr) {
            (void)wait_until([&] { return snapped.load(std::memory_order_acquire); });
        }
        st.SetItemsProcessed(st.iterations());
        st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(payload));
        if (idx != 0 || !ready.load(std::memory_order_acquire)) return;
        // Thread 0 is past the stop barrier: every sender has finished its loop.
        cw->stop();
        std::uint64_t total = 0;
        std::vector<const gbench::sampler*> smps;
        for (const auto& s : slots) {
            total += s.sent;
            smps.push_back(&s.smp);
        }
        tb->flush();
        if (!wait_until([&] { return tb->accounted() >= accounted0 + total; })) {
            st.SkipWithError("datagrams neither delivered to the sink nor counted as dropped");
            return;
        }
        auto c1 = lwbench::bench::steady_counts::of(tb->s);
        c1.news = news1;
        lwbench::bench::publish_steady(st, c0, c1, static_cast<double>(total));
        st.counters["loss_ratio"] = total ? static_cast<double>(c1.dropped - c0.dropped) / static_cast<double>(total) : 0;
        gbench::publish_percentiles(st, smps);
        st.SetLabel(lwbench::bench::label_of(api, mode, cw->publish(st, static_cast<double>(total))));
    }

private:
    const char* prepare(benchmark::State& st, api_kind api) {
        // Before the start barrier, and after every thread of the previous run has exited.
        snapped.store(false, std::memory_order_relaxed);
        if (!tb || !tb->ok()) return "testbed setup failed";
        slots = std::vector<slot>(static_cast<std::size_t>(st.threads()));
        for (auto& s : slots) {
            s.ep = std::make_unique<endpoint>(*tb, api, payload);
            if (!s.ep->ok()) return "endpoint setup failed";
        }
        bool ok = true;
        for (auto& s : slots)  // warm-up, and each endpoint binds its ephemeral port now
            for (int i = 0; i < 64 && ok; ++i) ok = s.ep->send(k_sink_port);
        const int probe = locking() ? 256 : 32;
        const double op_ns =
            gbench::probe_op_ns([&] { return ok = ok && slots[0].ep->send(k_sink_port); }, probe);
        if (!ok) return "send failed during warm-up";
        tb->flush();
        const auto probed = static_cast<std::size_t>(5 * std::max(1, probe / 5));  // what probe_op_ns ran
        const auto warm = static_cast<std::uint64_t>(64 * slots.size() + probed);
        if (!wait_until([&] { return tb->accounted() >= warm; })) return "warm-up datagrams did not arrive";
        for (auto& s : slots) s.smp.reset(st.max_iterations, gbench::choose_batch(op_ns));
        cw = std::make_unique<gbench::counter_window>();  // the benchmark threads exist already
        accounted0 = tb->accounted();                      // snapshots after the counters' allocations
        c0 = lwbench::bench::steady_counts::of(tb->s);
        ready.store(true, std::memory_order_release);
        cw->start();
        return nullptr;
    }

    std::vector<slot> slots;
    std::unique_ptr<gbench::counter_window> cw;
    std::atomic<bool> ready{false}, snapped{false};
    lwbench::bench::steady_counts c0;
    std::uint64_t accounted0 = 0;
};

}  // namespace

// ---- registrations ------------------------------------------------------------------------

using Send = lwbench::bench::send_fixture;
using Recv = recv_fixture;
using RoundTrip = rtt_fixture;
using Throughput = tput_fixture;

namespace {
void send_args(benchmark::internal::Benchmark* b) {
    lwbench::bench::send_args(b, {k_mp, k_cl}, {64, 512, 1458});
}
void two_payloads(benchmark::internal::Benchmark* b) { lwbench::bench::send_args(b, {k_mp, k_cl}, {64, 1458}); }
/// A receive takes ~50 ns but each one needs an untimed refill (~1 us): with min_time a
/// run would spend minutes refilling. A fixed count keeps Recv/* at ~0.1 s per repetition.
void recv_args(benchmark::internal::Benchmark* b) {
    two_payloads(b);
    b->Iterations(32768);
}
void tput_args(benchmark::internal::Benchmark* b) {
    lwbench::bench::send_args(b, {k_mp, k_cl}, {1458});
    b->ThreadRange(1, 4);
}
}  // namespace

BENCHMARK_DEFINE_F(Send, raw)(benchmark::State& st) { run_send(st, api_kind::raw); }
BENCHMARK_DEFINE_F(Send, netconn)(benchmark::State& st) { run_send(st, api_kind::netconn); }
BENCHMARK_DEFINE_F(Send, socket)(benchmark::State& st) { run_send(st, api_kind::socket); }
BENCHMARK_REGISTER_F(Send, raw)->Apply(send_args);
BENCHMARK_REGISTER_F(Send, netconn)->Apply(send_args);
BENCHMARK_REGISTER_F(Send, socket)->Apply(send_args);

BENCHMARK_DEFINE_F(Recv, netconn)(benchmark::State& st) { run_recv(st, api_kind::netconn); }
BENCHMARK_DEFINE_F(Recv, socket)(benchmark::State& st) { run_recv(st, api_kind::socket); }
BENCHMARK_REGISTER_F(Recv, netconn)->Apply(recv_args);
BENCHMARK_REGISTER_F(Recv, socket)->Apply(recv_args);

BENCHMARK_DEFINE_F(RoundTrip, raw)(benchmark::State& st) { run_rtt(st, api_kind::raw); }
BENCHMARK_DEFINE_F(RoundTrip, netconn)(benchmark::State& st) { run_rtt(st, api_kind::netconn); }
BENCHMARK_DEFINE_F(RoundTrip, socket)(benchmark::State& st) { run_rtt(st, api_kind::socket); }
BENCHMARK_REGISTER_F(RoundTrip, raw)->Apply(two_payloads);
BENCHMARK_REGISTER_F(RoundTrip, netconn)->Apply(two_payloads);
BENCHMARK_REGISTER_F(RoundTrip, socket)->Apply(two_payloads);

BENCHMARK_DEFINE_F(Throughput, raw)(benchmark::State& st) { run_tput(st, api_kind::raw); }
BENCHMARK_DEFINE_F(Throughput, netconn)(benchmark::State& st) { run_tput(st, api_kind::netconn); }
BENCHMARK_DEFINE_F(Throughput, socket)(benchmark::State& st) { run_tput(st, api_kind::socket); }
BENCHMARK_REGISTER_F(Throughput, raw)->Apply(tput_args);
BENCHMARK_REGISTER_F(Throughput, netconn)->Apply(tput_args);
BENCHMARK_REGISTER_F(Throughput, socket)->Apply(tput_args);

// ---- the primitives floor -------------------------------------------------------------------

namespace {

/// The bare work of one loopback UDP datagram, as the harness's udp_emit_floor: write
/// the IPv4 header (with its checksum) and the UDP header, checksum payload + pseudo
/// header on send and verify it again on receive. Raw udp_sendto + zero-copy delivery
/// must stay within 3x of this (performance target).
void Floor_udp_emit(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    lwbench::stats stats;
    lwbench::pbuf_pools pools(stats, 4, 4);
    lwbench::pbuf* pb = pools.alloc(lwbench::pbuf_layer::ip, n + lwbench::k_udp_hlen, lwbench::pbuf_type::pool);
    if (!pb) {
        st.SkipWithError("no pbuf");
        return;
    }
    std::memset(pb->bytes() + lwbench::k_udp_hlen, 0x3c, n);
    const ip4_addr lo = lwbench::bench::k_lo;
    const auto once = [&] {
        (void)lwbench::pbuf_add_header(pb, lwbench::k_ip4_hlen);
        lwbench::wire::ipv4_repr r;
        r.src = lo;
        r.dst = lo;
        r.payload_len = static_cast<std::uint16_t>(n + lwbench::k_udp_hlen);
        lwbench::wire::emit_ipv4(std::span<std::byte, 20>(pb->bytes(), 20), r, true);
        (void)lwbench::pbuf_remove_header(pb, lwbench::k_ip4_hlen);
        lwbench::wire::emit_udp(std::span<std::byte, 8>(pb->bytes(), 8), {7001, 9, pb->tot_len});
        const std::uint16_t c = lwbench::inet_chksum_pseudo(pb, 17, pb->tot_len, lo, lo);
        std::memcpy(pb->bytes() + 6, &c, 2);
        std::uint16_t verify = lwbench::inet_chksum_pseudo(pb, 17, pb->tot_len, lo, lo);  // receiver's check
        benchmark::DoNotOptimize(verify);
        benchmark::ClobberMemory();
    };
    for (int i = 0; i < 1000; ++i) once();
    const double op_ns = gbench::probe_op_ns([&] {
        once();
        return true;
    }, 1000);
    gbench::sampler smp;  // p50 too, so raw/floor compares p50 with p50
    smp.reset(st.max_iterations, gbench::choose_batch(op_ns));
    for (auto _ : st) {
        once();
        smp.tick();
    }
    lwbench::pbuf_free(pb);
    gbench::publish_percentiles(st, {&smp});
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(n));
    st.SetLabel("IPv4+UDP header writes, send checksum, receive verify");
}
BENCHMARK(Floor_udp_emit)->Name("Floor/udp_emit")->ArgName(gbench::k_arg_payload)->Arg(64)->Arg(1458);

void Floor_checksum(benchmark::State& st) {
    std::vector<std::byte> buf(static_cast<std::size_t>(st.range(0)), std::byte{0x3c});
    for (auto _ : st) {
        auto c = lwbench::inet_chksum(buf.data(), buf.size());
        benchmark::DoNotOptimize(c);
    }
    st.SetBytesProcessed(st.iterations() * st.range(0));
}
BENCHMARK(Floor_checksum)->Name("Floor/checksum")->ArgName(gbench::k_arg_payload)->Arg(1458);

void Floor_memcpy(benchmark::State& st) {
    std::vector<std::byte> src(static_cast<std::size_t>(st.range(0)), std::byte{0x3c}), dst(src.size());
    for (auto _ : st) {
        std::memcpy(dst.data(), src.data(), src.size());
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(st.iterations() * st.range(0));
    st.SetLabel("the socket API's one copy (user buffer -> pbuf)");
}
BENCHMARK(Floor_memcpy)->Name("Floor/memcpy")->ArgName(gbench::k_arg_payload)->Arg(1458);

/// An empty operation through the dispatcher: lock + unlock (core locking), or the
/// mailbox hand-off and the two wake-ups (message passing).
void Floor_empty_call(benchmark::State& st) {
    const auto mode = static_cast<threading_mode>(st.range(0));
    const gbench::scoped_pin pin(gbench::app_cpu(0));
    lwbench::stack_config cfg = lwbench::bench::paired_config(mode);
    cfg.tcpip_cpu = gbench::tcpip_cpu();
    lwbench::stack s(cfg);
    for (int i = 0; i < 64; ++i) (void)s.call([] { return lwbench::err::ok; });
    gbench::counter_window cw;
    cw.start();
    for (auto _ : st) {
        if (s.call([] { return lwbench::err::ok; }) != lwbench::err::ok) [[unlikely]] {
            st.SkipWithError("call failed");
            break;
        }
    }
    cw.stop();
    const std::string missing = cw.publish(st, static_cast<double>(st.iterations()));
    st.SetLabel(std::string(gbench::mode_name(st.range(0))) + (missing.empty() ? "" : " [" + missing + "]"));
}
BENCHMARK(Floor_empty_call)->Name("Floor/empty_call")->ArgName(gbench::k_arg_mode)->Arg(k_mp)->Arg(k_cl)->UseRealTime();

// ---- harness overhead -----------------------------------------------------------------------
// Each iteration runs k_inner timing samples back to back; an outer sampler (one chained
// clock read per iteration, i.e. per k_inner samples: < 1% added) gives p50_ns per sample,
// robust against preemption (the mean of a 20 ns operation is not, on a busy VM).
constexpr int k_inner = 64;

template <class F>
void harness_loop(benchmark::State& st, F&& one_sample, const char* label) {
    gbench::sampler outer;
    outer.reset(st.max_iterations, 1);
    for (auto _ : st) {
        for (int i = 0; i < k_inner; ++i) one_sample();
        outer.tick();
    }
    std::vector<double> per(outer.data(), outer.data() + outer.size());
    for (auto& v : per) v /= k_inner;
    if (!per.empty()) st.counters["p50_ns"] = lwbench::harness::summarize(per).p50;
    st.counters["ops_per_sample"] = 1;
    st.SetItemsProcessed(st.iterations() * k_inner);
    st.SetLabel(std::string(label) + " (time column: per " + std::to_string(k_inner) + " samples)");
}

/// One steady_clock::now().
void Harness_now(benchmark::State& st) {
    harness_loop(st, [] { benchmark::DoNotOptimize(gbench::now_ns()); }, "one steady_clock::now()");
}
BENCHMARK(Harness_now)->Name("Harness/now");

/// The harness's per-sample cost: two steady_clock::now() and a vector push (reserved).
void Harness_pair_push(benchmark::State& st) {
    std::vector<double> v;
    v.reserve(static_cast<std::size_t>(st.max_iterations) * k_inner);
    harness_loop(
        st,
        [&] {
            const auto t0 = gbench::now_ns();
            const auto t1 = gbench::now_ns();
            v.push_back(static_cast<double>(t1 - t0));
        },
        "two now() + push_back into a reserved vector");
    benchmark::DoNotOptimize(v.data());
}
BENCHMARK(Harness_pair_push)->Name("Harness/pair_push");

/// Our sampler's per-iteration cost at one op per sample (one chained now() + store).
void Harness_sampler_tick(benchmark::State& st) {
    gbench::sampler smp;
    smp.reset(st.max_iterations * k_inner, 1);
    harness_loop(st, [&] { smp.tick(); }, "sampler::tick at 1 op/sample (what a macro loop adds per sample)");
    benchmark::DoNotOptimize(smp.data());
}
BENCHMARK(Harness_sampler_tick)->Name("Harness/sampler_tick");

}  // namespace

int main(int argc, char** argv) {
    gbench::check_arg_value_names<threading_mode>(gbench::k_arg_mode, 2,
                                                  [](threading_mode m) { return lwbench::to_string(m); });
    return lwbench::gbench::run_main(argc, argv, "bench_macro");
}
