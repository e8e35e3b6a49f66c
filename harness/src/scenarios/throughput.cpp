// throughput.cpp — datagrams/s and bytes/s with 1..N sender threads and one receiver.
// The rate is what was *delivered* (the receiver's count, or the raw sink's); the
// offered rate (sent) stands beside it and the difference is dropped, by reason.
// Senders' samples are batches of 16 sends (the sample loop of the measurement core).
#include <memory>

#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_throughput(const point& p, const visit& v) {
    const run_options& o = v.options;
    const cpu_plan plan = cpu_plan::of(p.pin);
    testbed bed(testbed_config(p, plan.tcpip()), p.core_work);
    const bool raw = p.api == api_kind::raw;
    std::unique_ptr<endpoint> receiver;
    if (!raw) receiver = std::make_unique<endpoint>(bed, p.api, p.payload, k_rx_port);
    const std::uint16_t dst = raw ? k_sink_port : k_rx_port;
    std::vector<std::unique_ptr<endpoint>> senders;
    for (int t = 0; t < p.threads; ++t) senders.push_back(std::make_unique<endpoint>(bed, p.api, p.payload));
    // warm-up, single-threaded
    for (long i = 0; i < std::min<long>(o.warmup, 500); ++i) {
        senders[0]->send(dst);
        if (receiver) receiver->recv();
    }
    wait_until([&] { return bed.s.mailbox_depth() == 0; }, std::chrono::seconds(10), o.cancel);
    throw_if_cancelled(o.cancel);
    const auto sunk0 = bed.sunk.load();
    const auto before = counts_snapshot::of(bed.s);
    constexpr int k_sends_per_sample = 16;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false}, flushed{false}, abandon{false};
    std::atomic<long> received{0};
    std::vector<std::vector<double>> samples(static_cast<std::size_t>(p.threads));
    std::vector<long> errors(static_cast<std::size_t>(p.threads), 0), sent(static_cast<std::size_t>(p.threads), 0);
    // On an early exit the threads are released and told to stop, then joined.
    thread_group senders_group([&] {
        abandon.store(true);
        go.store(true, std::memory_order_release);
    });
    thread_group receiver_group([&] {
        abandon.store(true);
        go.store(true, std::memory_order_release);
        flushed.store(true, std::memory_order_release);
    });
    for (int t = 0; t < p.threads; ++t) {
        senders_group.spawn([&, t] {
            const auto at = static_cast<std::size_t>(t);
            const app_thread_setup sender_setup(plan.app(t), p.cfg.sched);
            auto& sender = *senders[at];
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            if (abandon.load()) return;
            sent[at] = sample_loop(o.ops, k_sends_per_sample, [&] { return sender.send(dst); }, samples[at], errors[at],
                                   o.cancel);
        });
    }
    if (receiver) {
        receiver_group.spawn([&] {
            const app_thread_setup receiver_setup(plan.app(p.threads), p.cfg.sched);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (;;) {
                if (receiver->try_recv() >= 0) {
                    received.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (flushed.load(std::memory_order_acquire)) {
                    while (!abandon.load() && receiver->try_recv() >= 0) received.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                std::this_thread::yield();
            }
        });
    }
    wait_until([&] { return ready.load() == p.threads; }, std::chrono::seconds(10), o.cancel);
    throw_if_cancelled(o.cancel);
    counter_window counters(v.counted, o.hardware_counters);  // after every thread exists: counts them too
    counters.start();
    const auto begin = now_ns();
    go.store(true, std::memory_order_release);
    senders_group.wait();
    // flush: everything posted to the tcpip mailbox before this has been processed
    bed.flush();
    flushed.store(true, std::memory_order_release);
    receiver_group.wait();
    const auto end = now_ns();
    counters.stop();
    throw_if_cancelled(o.cancel);
    rep_out out;
    out.rep.ops_per_sample = k_sends_per_sample;
    out.rep.counted = v.counted;
    out.rep.wall_ns = static_cast<double>(end - begin);
    out.rep.counters = counters.read();
    const long calls = merge_senders(out.rep, samples, errors, sent);
    out.rep.ops = calls;
    const auto after = counts_snapshot::of(bed.s);
    out.rep.sent = static_cast<std::uint64_t>(calls - out.rep.errors);
    out.rep.received = raw ? bed.sunk.load() - sunk0 : static_cast<std::uint64_t>(received.load());
    out.rep.dropped_by_reason = drops_between(before, after);
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, calls)));
    return out;
}

}  // namespace lwbench::harness::scenarios
