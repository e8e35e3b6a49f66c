// bulk_tcp.cpp — p.threads TCP connections in parallel (1..N), each with its own sender
// thread writing p.payload bytes per op over the point's API (tcp_pair.hpp); throughput
// is what the receivers got per second, all connections together (the clock stops when
// every receiver has every byte written to it).
// ops are writes (all senders' together); sent/received count writes (bulk_streams.hpp,
// the bookkeeping real lwIP's runner shares), so delivered bytes == written bytes shows
// as sent == received.
#include <memory>

#include "lwbench/harness/bulk_streams.hpp"
#include "tcp_pair.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_bulk_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> payload = tcp_pattern(p.payload, 7);  // outlives the stack (no-copy writes)
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    const auto connections = static_cast<std::size_t>(p.threads);
    // Connection i: sender thread i (application thread i), its server end (netconn,
    // socket) on application thread connections + i, its listener on port k_tcp_port + i.
    std::vector<std::unique_ptr<tcp_pair>> pairs;
    for (std::size_t i = 0; i < connections; ++i)
        pairs.push_back(std::make_unique<tcp_pair>(s, p.api, tcp_server_role::sink, payload.data(), payload.data(),
                                                   p.payload, static_cast<std::uint16_t>(k_tcp_port + i),
                                                   setup.plan.app(static_cast<int>(connections + i)), p.cfg.sched,
                                                   o.cancel));
    bulk_streams streams(pairs, p.payload);
    const auto write = [&](std::size_t i) { return streams.write(i); };
    const auto drained = [&] { return streams.drained(); };
    for (long k = 0; k < o.warmup && !cancel_requested(o.cancel); ++k) write(static_cast<std::size_t>(k) % connections);
    const int per_sample = choose_ops_per_sample(probe_op_ns([&] { return write(0); }, 50));
    wait_until(drained, std::chrono::seconds(10), o.cancel);
    throw_if_cancelled(o.cancel);
    streams.begin_repetition();

    std::atomic<std::size_t> ready{0};
    std::atomic<bool> go{false}, abandon{false};
    std::vector<std::vector<double>> samples(connections);
    std::vector<long> errors(connections, 0), calls(connections, 0);
    thread_group senders([&] {
        abandon.store(true);
        go.store(true, std::memory_order_release);
    });
    for (std::size_t i = 0; i < connections; ++i)
        senders.spawn([&, i] {
            const app_thread_setup sender_setup(setup.plan.app(static_cast<int>(i)), p.cfg.sched);
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            if (abandon.load()) return;
            calls[i] = sample_loop(o.ops, per_sample, [&] { return write(i); }, samples[i], errors[i], o.cancel);
        });
    wait_until([&] { return ready.load() == connections; }, std::chrono::seconds(10), o.cancel);
    throw_if_cancelled(o.cancel);
    const auto before = counts_snapshot::of(s);
    counter_window counters(v.counted, o.hardware_counters);  // after every thread exists: counts them too
    counters.start();
    const std::int64_t begin = now_ns();
    go.store(true, std::memory_order_release);
    senders.wait();
    rep_out out;
    if (!wait_until(drained, std::chrono::seconds(10), o.cancel) && !cancel_requested(o.cancel)) out.rep.errors += 1;
    out.rep.wall_ns = static_cast<double>(now_ns() - begin);
    counters.stop();
    throw_if_cancelled(o.cancel);
    const auto after = counts_snapshot::of(s);
    out.rep.ops_per_sample = per_sample;
    out.rep.counted = v.counted;
    out.rep.counters = counters.read();
    out.rep.ops = merge_senders(out.rep, samples, errors, calls);
    streams.end_repetition(out.rep);
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, out.rep.ops)), counts_of::tcp);
    return out;
}

}  // namespace lwbench::harness::scenarios
