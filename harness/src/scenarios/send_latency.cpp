// send_latency.cpp — time for one send call to return. Datagrams go to the testbed's
// raw "sink" pcb, which counts and frees them in core context, so the receive work
// is the same for every API and only the send path differs (the seed measured a send
// onto a wire). Every datagram is accounted for: delivered to the sink or counted as
// dropped by the stack, with its reason.
#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_send_latency(const point& p, const visit& v) {
    const run_options& o = v.options;
    pinned_testbed setup(p);
    testbed& bed = setup.bed;
    endpoint sender(bed, p.api, p.payload);
    const auto send = [&] { return sender.send(k_sink_port); };
    for (long i = 0; i < o.warmup; ++i) {
        if (i % 1024 == 0) throw_if_cancelled(o.cancel);
        send();
    }
    const auto accounted_at_least = [&](std::uint64_t n) {
        return wait_until([&] { return bed.accounted() >= n; }, std::chrono::seconds(10), o.cancel);
    };
    accounted_at_least(static_cast<std::uint64_t>(o.warmup));
    constexpr long probe_ops = 100;
    const int per_sample = choose_ops_per_sample(probe_op_ns(send, probe_ops));
    // Let the probe's datagrams arrive (mailbox input delivers later) before counting.
    accounted_at_least(static_cast<std::uint64_t>(o.warmup + probe_ops));
    throw_if_cancelled(o.cancel);
    const auto sunk0 = bed.sunk.load();
    const auto accounted0 = bed.accounted();
    const auto before = counts_snapshot::of(bed.s);
    rep_out out;
    out.rep = time_repetition(o.ops, per_sample, v.counted, o.hardware_counters, o.cancel, send);
    const auto sent = static_cast<std::uint64_t>(out.rep.ops - out.rep.errors);
    if (!accounted_at_least(accounted0 + sent)) out.rep.errors += 1;  // lost without a reason
    throw_if_cancelled(o.cancel);
    const auto after = counts_snapshot::of(bed.s);
    out.rep.sent = sent;
    out.rep.received = bed.sunk.load() - sunk0;
    out.rep.dropped_by_reason = drops_between(before, after);
    out.per_op = per_op_counts(before, after, static_cast<double>(o.ops));
    return out;
}

}  // namespace lwbench::harness::scenarios
