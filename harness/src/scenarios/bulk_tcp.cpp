// bulk_tcp.cpp — one TCP connection, writes of p.payload bytes; throughput is what the
// receiver got per second (the clock stops when it has every byte written). Raw API
// on our stack (netconn/socket need TCP sockets: validate() refuses them).
// ops are writes; sent/received count writes (received = bytes the receiving end got
// and checked / write size), so delivered bytes == written bytes shows as sent == received.
#include "tcp_raw.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_bulk_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> payload = tcp_pattern(p.payload, 7);  // outlives the stack (no-copy writes)
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    tcp_raw_pair pair(s, payload.data(), payload.data(), p.payload, true);
    std::uint64_t written = 0;
    const auto write = [&] {
        const bool ok = write_all(s, pair.client, payload.data(), payload.size(), o.cancel);
        written += ok ? payload.size() : 0;
        return ok;
    };
    const auto drained = [&] { return pair.server.check.bytes() >= written; };
    for (long i = 0; i < o.warmup && !cancel_requested(o.cancel); ++i) write();
    const int per_sample = choose_ops_per_sample(probe_op_ns(write, 50));
    wait_until(drained, std::chrono::seconds(10), o.cancel);
    throw_if_cancelled(o.cancel);
    const std::uint64_t base_written = written, base_bytes = pair.server.check.bytes();
    const std::uint64_t base_mismatch = pair.server.check.mismatches();
    const auto before = counts_snapshot::of(s);
    rep_out out;
    out.rep = time_stream_repetition(o.ops, per_sample, v.counted, o.hardware_counters, o.cancel, write, drained);
    const auto after = counts_snapshot::of(s);
    out.rep.errors += static_cast<long>(pair.server.check.mismatches() - base_mismatch);
    out.rep.sent = (written - base_written) / p.payload;
    out.rep.received = (pair.server.check.bytes() - base_bytes) / p.payload;
    if (*out.rep.sent > *out.rep.received) out.rep.dropped_by_reason["not_delivered"] = *out.rep.sent - *out.rep.received;
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, out.rep.ops)));
    return out;
}

}  // namespace lwbench::harness::scenarios
