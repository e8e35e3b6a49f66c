// fixtures.hpp — Google Benchmark fixtures over the testbed (variant-namespaced, like
// testbed.hpp). The send-latency fixture lives here because two binaries use it:
// bench_macro (Send/*) and bench_dispatch (Dispatch_<variant>/*, compiled once per
// stack variant), so the dispatch comparison runs exactly the send benchmark.
//
// Args of every fixture: {mode, payload} (ArgNames "mode", "payload"); mode is the
// threading_mode value (0 message_passing, 1 core_locking), the input mode is paired
// with it (testbed.hpp). Setup (stack, loopback, sink, endpoint, warm-up) happens in
// SetUp and before the loop; the timed loop holds only the operation and one sampler tick.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "lwbench/harness/testbed.hpp"

LWBENCH_NS_BEGIN
namespace bench {

/// Snapshot of the counts a steady-state check needs.
struct steady_counts {
    std::uint64_t heap = 0, copies = 0, news = 0, dropped = 0;
    static steady_counts of(const stack& s) {
        return {s.st().heap_alloc.get(), s.st().payload_copies.get(), gbench::new_calls(), s.st().dropped_total()};
    }
};

/// Publishes the steady-state counters (per operation) between two snapshots.
inline void publish_steady(benchmark::State& st, const steady_counts& a, const steady_counts& b, double ops) {
    if (!(ops > 0)) return;
    st.counters["heap_allocs_per_op"] = static_cast<double>(b.heap - a.heap) / ops;
    st.counters["payload_copies_per_op"] = static_cast<double>(b.copies - a.copies) / ops;
    st.counters["new_calls_per_op"] = static_cast<double>(b.news - a.news) / ops;
    st.counters["dropped"] = static_cast<double>(b.dropped - a.dropped);
}

inline std::string label_of(api_kind api, threading_mode m, const std::string& extra = {}) {
    std::string l = std::string(to_string(api)) + " " + to_string(m) + " in=" + to_string(paired_input_mode(m));
    if (!extra.empty()) l += " [" + extra + "]";
    return l;
}

/// Base: a testbed in the mode of range(0), payload range(1).
class testbed_fixture : public benchmark::Fixture {
public:
    using benchmark::Fixture::SetUp;
    using benchmark::Fixture::TearDown;
    void SetUp(benchmark::State& st) override {
        if (st.thread_index() != 0) return;  // shared state is built by thread 0 only
        mode = static_cast<threading_mode>(st.range(0));
        payload = static_cast<std::size_t>(st.range(1));
        stack_config cfg = paired_config(mode);
        cfg.tcpip_cpu = gbench::tcpip_cpu();
        tb = std::make_unique<testbed>(cfg);
    }
    void TearDown(benchmark::State& st) override {
        if (st.thread_index() != 0) return;
        tb.reset();
    }

protected:
    [[nodiscard]] bool locking() const noexcept { return mode == threading_mode::core_locking; }
    std::unique_ptr<testbed> tb;
    threading_mode mode = threading_mode::core_locking;
    std::size_t payload = 0;
};

/// Send latency: one send call of `payload` bytes to the counting sink, per iteration.
class send_fixture : public testbed_fixture {
protected:
    /// Lower bound of the batch (ops per sample). The clock ticks in ~10 ns steps here:
    /// a comparison at the 1% level needs p50 over batch means, not single operations.
    int min_ops_per_sample = 1;

    void run_send(benchmark::State& st, api_kind api) {
        const gbench::scoped_pin pin(gbench::app_cpu(0));
        std::unique_ptr<endpoint> ep;
        gbench::sampler smp;
        const char* setup_error = nullptr;
        steady_counts c0;
        std::uint64_t accounted0 = 0;
        if (!tb || !tb->ok()) {
            setup_error = "testbed setup failed";
        } else {
            ep = std::make_unique<endpoint>(*tb, api, payload);
            if (!ep->ok()) setup_error = "endpoint setup failed";
        }
        if (!setup_error) {
            // Warm-up (pools, caches, ephemeral bind), then a probe that sizes the samples.
            const int warm = locking() ? 512 : 64, probe = locking() ? 255 : 30;  // probe: 5 equal chunks
            bool ok = true;
            for (int i = 0; i < warm && ok; ++i) ok = ep->send(k_sink_port);
            // the measurement core's probe (fastest of 5 chunks) and batch rule
            const double op_ns = gbench::probe_op_ns([&] { return ok = ok && ep->send(k_sink_port); }, probe);
            tb->flush();
            if (!ok) setup_error = "send failed during warm-up";
            else if (!wait_until([&] { return tb->accounted() >= static_cast<std::uint64_t>(warm + probe); }))
                setup_error = "warm-up datagrams did not arrive";
            smp.reset(st.max_iterations, std::max(min_ops_per_sample, gbench::choose_batch(op_ns)));
        }
        if (setup_error) st.SkipWithError(setup_error);
        gbench::counter_window cw;  // after every thread of the scenario exists
        if (!setup_error) {         // snapshots last: opening the counters allocates
            accounted0 = tb->accounted();
            c0 = steady_counts::of(tb->s);
        }
        cw.start();
        for (auto _ : st) {
            if (!ep->send(k_sink_port)) [[unlikely]] {
                st.SkipWithError("send failed");
                break;
            }
            smp.tick();
        }
        cw.stop();
        if (setup_error) return;
        const auto ops = st.iterations();
        tb->flush();
        if (!wait_until([&] { return tb->accounted() >= accounted0 + static_cast<std::uint64_t>(ops); })) {
            st.SkipWithError("datagrams neither delivered to the sink nor counted as dropped");
            return;
        }
        publish_steady(st, c0, steady_counts::of(tb->s), static_cast<double>(ops));
        gbench::publish_percentiles(st, {&smp});
        st.SetLabel(label_of(api, mode, cw.publish(st, static_cast<double>(ops))));
        st.SetItemsProcessed(ops);
        st.SetBytesProcessed(ops * static_cast<std::int64_t>(payload));
    }
};

/// Registers the send benchmark's args: the given modes × payloads, real time.
inline void send_args(benchmark::internal::Benchmark* b, std::initializer_list<std::int64_t> modes,
                      std::initializer_list<std::int64_t> payloads) {
    b->ArgNames({gbench::k_arg_mode, gbench::k_arg_payload});
    for (auto m : modes)
        for (auto p : payloads) b->Args({m, p});
    b->UseRealTime();
}

}  // namespace bench
LWBENCH_NS_END
