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
