// common.cpp — what the scenario kinds share: the testbed configuration and the
// stack-count snapshots (see scenario_kinds.hpp).
#include "scenario_kinds.hpp"

#include <algorithm>

namespace lwbench::harness::scenarios {

stack_config testbed_config(const point& p, int tcpip_cpu) {
    stack_config c = p.cfg;
    c.tcpip_cpu = tcpip_cpu;
    c.pbuf_pool_size = std::max<std::size_t>(c.pbuf_pool_size, 2048);
    c.recv_queue_depth = std::max<std::size_t>(c.recv_queue_depth, 1024);
    // Bulk connections: each holds up to a send buffer of no-copy segments (reference
    // pbufs; 1024 of them with 64-byte writes) in flight, and as many again queued for
    // its netconn/socket receiver.
    if (p.scenario == scenario_kind::bulk_tcp)
        c.pbuf_ref_pool_size = std::max<std::size_t>(c.pbuf_ref_pool_size, 4096 * static_cast<std::size_t>(p.threads));
    return c;
}

counts_snapshot counts_snapshot::of(const stack& s) {
    const auto& st = s.st();
    counts_snapshot c;
    c.copies = st.payload_copies.get();
    c.heap = st.heap_alloc.get();
    c.pool = st.pool_alloc.get();
    c.ref = st.ref_alloc.get();
    c.api_messages = st.api_messages();
    c.window_update_calls = st.tcp_recvd_calls.get();
    c.write_waits = st.tcp_write_waits.get();
    c.retransmissions = st.tcp_rexmit.get();
    for (const auto& [name, n] : st.drops_by_name()) c.drops[name] = n;
    return c;
}

stack_counts per_op_counts(const counts_snapshot& before, const counts_snapshot& after, double ops,
                           counts_of which) {
    stack_counts c;
    if (!(ops > 0)) return c;
    const auto per_op = [ops](std::uint64_t from, std::uint64_t to) { return static_cast<double>(to - from) / ops; };
    c.payload_copies_per_op = per_op(before.copies, after.copies);
    c.heap_allocs_per_op = per_op(before.heap, after.heap);
    c.pool_allocs_per_op = per_op(before.pool + before.ref, after.pool + after.ref);
    if (which == counts_of::tcp) {
        c.api_messages_per_op = per_op(before.api_messages, after.api_messages);
        c.window_update_calls_per_op = per_op(before.window_update_calls, after.window_update_calls);
        c.write_waits_per_op = per_op(before.write_waits, after.write_waits);
        c.retransmissions_per_op = per_op(before.retransmissions, after.retransmissions);
    }
    return c;
}

void finish_paced(rep_out& out, std::int64_t begin, counter_window& counters, thread_group& peers, const stack& s,
                  const counts_snapshot& before, long done, const std::atomic<bool>* cancel) {
    out.rep.wall_ns = begin ? static_cast<double>(now_ns() - begin) : 0;
    counters.stop();
    peers.join();
    throw_if_cancelled(cancel);
    out.rep.ops = static_cast<long>(out.rep.samples_ns.size());
    out.rep.counters = counters.read();
    const auto after = counts_snapshot::of(s);
    out.rep.dropped_by_reason = drops_between(before, after);
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, done)));
}

std::map<std::string, std::uint64_t> drops_between(const counts_snapshot& before, const counts_snapshot& after) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& [name, n] : after.drops) {
        const auto it = before.drops.find(name);
        const std::uint64_t was = it == before.drops.end() ? 0 : it->second;
        if (n > was) out[name] = n - was;
    }
    return out;
}

}  // namespace lwbench::harness::scenarios
