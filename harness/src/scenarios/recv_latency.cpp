// recv_latency.cpp — time for one receive call when a datagram is already waiting
// (netconn, socket; the raw API receives by callback). An untimed raw sender refills
// the receive queue in batches below its depth, so nothing is dropped; a receive can
// be as short as two clock reads, so samples group enough receives to keep the
// clock's own cost under 5% (the record's ops_per_sample says how many).
#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_recv_latency(const point& p, const visit& v) {
    const run_options& o = v.options;
    pinned_testbed setup(p);
    testbed& bed = setup.bed;
    endpoint receiver(bed, p.api, p.payload, k_rx_port);
    endpoint refill(bed, api_kind::raw, p.payload);
    constexpr long batch = 512;  // below the receive queue depth: nothing is dropped
    const auto fill = [&](long n) {
        for (long i = 0; i < n; ++i) refill.send_locked(k_rx_port);  // untimed: core_guard in any mode
        // in mailbox input mode the datagrams may still be on their way: wait until queued
        return wait_until([&] { return bed.lo.delivered() >= bed.lo.transmitted() && bed.s.mailbox_depth() == 0; },
                          std::chrono::seconds(10), o.cancel);
    };
    // Warm up, and time the warm-up receives to size the batches (the fastest batch).
    const long warm = std::max(o.warmup, 64L);
    double best_ns = 0;
    for (long done = 0; done < warm; done += batch) {
        throw_if_cancelled(o.cancel);
        const long n = std::min(batch, warm - done);
        fill(n);
        const auto t0 = now_ns();
        for (long i = 0; i < n; ++i) receiver.recv();
        const double per_op = static_cast<double>(now_ns() - t0) / static_cast<double>(n);
        if (done == 0 || per_op < best_ns) best_ns = per_op;
    }
    const int per_sample = choose_ops_per_sample(best_ns);
    rep_out out;
    out.rep.ops_per_sample = per_sample;
    out.rep.counted = v.counted;
    counter_window counters(v.counted, o.hardware_counters);
    const auto before = counts_snapshot::of(bed.s);
    const auto sent0 = bed.lo.transmitted();
    double wall = 0;
    bool started = false;
    for (long done = 0; done < o.ops; done += batch) {
        throw_if_cancelled(o.cancel);
        const long n = std::min(batch, o.ops - done);
        if (!fill(n)) out.rep.errors += 1;
        if (started) counters.resume(); else counters.start();
        started = true;
        const auto b0 = now_ns();
        long failed = 0;
        out.rep.ops += sample_loop(n, per_sample, [&] { return receiver.recv() >= 0; }, out.rep.samples_ns, failed);
        out.rep.errors += failed;
        wall += static_cast<double>(now_ns() - b0);
        counters.pause();
    }
    throw_if_cancelled(o.cancel);
    out.rep.wall_ns = wall;
    out.rep.counters = counters.read();
    const auto after = counts_snapshot::of(bed.s);
    out.rep.sent = bed.lo.transmitted() - sent0;
    out.rep.received = static_cast<std::uint64_t>(out.rep.ops - out.rep.errors);
    out.rep.dropped_by_reason = drops_between(before, after);
    // the refill's raw sends are zero-copy; copies here are the receive side's own
    out.per_op = per_op_counts(before, after, static_cast<double>(o.ops));
    return out;
}

}  // namespace lwbench::harness::scenarios
