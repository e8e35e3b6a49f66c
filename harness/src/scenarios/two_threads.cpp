// two_threads.cpp — delivery_latency and round_trip: a second thread receives.
//
// delivery_latency: from the start of the send call to the receiving thread holding
// the data. The sender writes its start time into the payload; a netconn/socket
// receiver subtracts it as soon as its receive returns; the raw API's receive
// callback stamps the arrival time itself (core context), so the sender's polling
// for the callback is not part of the figure.
// round_trip: ping-pong; the peer thread echoes (netconn/socket), or the raw receive
// callback echoes the very pbuf back from core context.
#include <cstring>

#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_two_threads(const point& p, const visit& v, bool round_trip) {
    const run_options& o = v.options;
    pinned_testbed setup(p);
    testbed& bed = setup.bed;
    const cpu_plan& plan = setup.plan;
    endpoint a(bed, p.api, p.payload, k_tx_port);
    endpoint b(bed, p.api, p.payload, k_rx_port);
    const long total = o.warmup + o.ops;
    const bool raw = p.api == api_kind::raw;
    std::atomic<bool> stop{false}, peer_done{false};
    std::atomic<std::int64_t> delivered_ns{0};
    std::atomic<long> seen{0};
    if (raw && round_trip) b.set_echo(true);
    // Stopping the peer: set the flag, then wake a receive that may be blocked with one
    // more datagram; only if that does not end it within a second, close its endpoint.
    thread_group peer([&] {
        stop.store(true);
        (void)a.send(k_rx_port);
        if (!wait_until([&] { return peer_done.load(); }, std::chrono::seconds(1))) b.shutdown();
    });
    if (!raw) {
        peer.spawn([&] {
            const app_thread_setup peer_setup(plan.app(1), p.cfg.sched);
            for (long i = 0; i < total && !stop.load(); ++i) {
                if (b.recv() < 0 || stop.load()) break;
                if (round_trip) {
                    b.send(k_tx_port);
                } else {
                    delivered_ns.store(now_ns() - b.rx_stamp(), std::memory_order_relaxed);
                    seen.fetch_add(1, std::memory_order_release);
                }
            }
            peer_done.store(true);
        });
    }
    rep_out out;
    out.rep.counted = v.counted;
    counter_window counters(v.counted, o.hardware_counters);  // after the peer exists: counts it too
    const auto before = counts_snapshot::of(bed.s);
    std::int64_t begin = 0;
    long i = 0;
    for (; i < total; ++i) {
        if (cancel_requested(o.cancel)) break;
        if (i == o.warmup) {
            counters.start();
            begin = now_ns();
        }
        const auto t0 = now_ns();
        std::memcpy(a.payload(), &t0, sizeof t0);
        bool ok = a.send(k_rx_port);
        double sample = 0;
        if (round_trip) {
            ok = ok && a.recv() >= 0;
            sample = static_cast<double>(now_ns() - t0);
        } else if (raw) {
            const auto want = static_cast<std::uint64_t>(i + 1);
            ok = ok && wait_until([&] { return b.raw_received() >= want; }, std::chrono::seconds(10), o.cancel);
            sample = static_cast<double>(b.raw_arrival_ns() - t0);
        } else {
            ok = ok && wait_until([&] { return seen.load(std::memory_order_acquire) >= i + 1; },
                                  std::chrono::seconds(10), o.cancel);
            sample = static_cast<double>(delivered_ns.load(std::memory_order_relaxed));
        }
        if (!ok) {
            if (!cancel_requested(o.cancel)) out.rep.errors += 1;
            break;
        }
        if (i >= o.warmup) out.rep.samples_ns.push_back(sample);
    }
    finish_paced(out, begin, counters, peer, bed.s, before, i, o.cancel);
    out.rep.sent = static_cast<std::uint64_t>(i);
    out.rep.received = static_cast<std::uint64_t>(i - out.rep.errors);
    return out;
}

}  // namespace lwbench::harness::scenarios
