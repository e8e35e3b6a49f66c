// request_response_tcp.cpp — one TCP connection over the point's API (tcp_pair.hpp); a
// transaction is the client writing p.payload bytes and reading the server's
// p.payload-byte reply (the server end echoes: from its receive callback in core
// context on the raw API, from its own thread on netconn and socket). Samples are
// single transactions, so the record's percentiles are transaction latencies.
#include "tcp_pair.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_request_response_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> request = tcp_pattern(p.payload, 7), reply = tcp_pattern(p.payload, 29);
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    tcp_pair pair(s, p.api, tcp_server_role::echo, request.data(), reply.data(), p.payload, k_tcp_port,
                  setup.plan.app(1), p.cfg.sched, o.cancel);
    std::uint64_t expected = 0;
    const auto transaction = [&] {
        expected += p.payload;
        return pair.write(p.payload) && pair.read_until(expected);
    };
    return measure_transactions(s, pair, v, transaction, 50);
}

}  // namespace lwbench::harness::scenarios
