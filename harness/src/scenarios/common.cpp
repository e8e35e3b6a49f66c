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
    return c;
}

counts_snapshot counts_snapshot::of(const stack& s) {
    const auto& st = s.st();
    counts_snapshot c{st.payload_copies.get(), st.heap_alloc.get(), st.pool_alloc.get(), st.ref_alloc.get(), {}};
    for (const auto& [name, n] : st.drops_by_name()) c.drops[name] = n;
    return c;
}

stack_counts per_op_counts(const counts_snapshot& before, const counts_snapshot& after, double ops) {
    stack_counts c;
    if (!(ops > 0)) return c;
    c.payload_copies_per_op = static_cast<double>(after.copies - before.copies) / ops;
    c.heap_allocs_per_op = static_cast<double>(after.heap - before.heap) / ops;
    c.pool_allocs_per_op = static_cast<double>((after.pool - before.pool) + (after.ref - before.ref)) / ops;
    return c;
}

long merge_senders(repetition& rep, const std::vector<std::vector<double>>& samples, const std::vector<long>& errors,
                   const std::vector<long>& calls) {
    long total = 0;
    for (std::size_t t = 0; t < samples.size(); ++t) {
        rep.samples_ns.insert(rep.samples_ns.end(), samples[t].begin(), samples[t].end());
        rep.errors += errors[t];
        total += calls[t];
    }
    return total;
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
