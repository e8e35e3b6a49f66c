// request_response_tcp.cpp — one TCP connection; a transaction is the client writing
// p.payload bytes and reading the server's p.payload-byte reply (the server end echoes
// from its receive callback, in core context). Samples are single transactions, so
// the record's percentiles are transaction latencies. Raw API on our stack.
#include "tcp_raw.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_request_response_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> request = tcp_pattern(p.payload, 7), reply = tcp_pattern(p.payload, 29);
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    tcp_raw_pair pair(s, request.data(), reply.data(), p.payload, true);
    (void)s.call([&]() -> err {
        pair.server.echo = p.payload;
        pair.server.reply = reply.data();
        return err::ok;
    });
    std::uint64_t expected = 0;
    const auto transaction = [&] {
        expected += p.payload;
        return write_all(s, pair.client, request.data(), request.size(), o.cancel) &&
               wait_bytes(pair.client, expected, o.cancel);
    };
    for (long i = 0; i < o.warmup && !cancel_requested(o.cancel); ++i) transaction();
    const int per_sample = choose_ops_per_sample(probe_op_ns(transaction, 50));
    throw_if_cancelled(o.cancel);
    const std::uint64_t base_mismatch = pair.server.check.mismatches() + pair.client.check.mismatches();
    const auto before = counts_snapshot::of(s);
    rep_out out;
    out.rep = time_repetition(o.ops, per_sample, v.counted, o.hardware_counters, o.cancel, transaction);
    const auto after = counts_snapshot::of(s);
    out.rep.errors +=
        static_cast<long>(pair.server.check.mismatches() + pair.client.check.mismatches() - base_mismatch);
    out.rep.sent = static_cast<std::uint64_t>(out.rep.ops);
    out.rep.received = static_cast<std::uint64_t>(out.rep.ops - std::min(out.rep.ops, out.rep.errors));
    if (*out.rep.sent > *out.rep.received) out.rep.dropped_by_reason["not_answered"] = *out.rep.sent - *out.rep.received;
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, out.rep.ops)));
    return out;
}

}  // namespace lwbench::harness::scenarios
