// connection_rate_tcp.cpp — one op is a whole connection over the point's API
// (tcp_pair.hpp): the client connects and writes p.payload bytes, the listener
// accepts, the server end replies p.payload bytes and closes, the client reads the
// reply and closes. Closed connections leave TIME_WAIT pcbs; the pool recycles the
// oldest (tcp_new).
#include "tcp_pair.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_connection_rate_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> request = tcp_pattern(p.payload, 7), reply = tcp_pattern(p.payload, 29);
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    tcp_pair pair(s, p.api, tcp_server_role::one_exchange, request.data(), reply.data(), p.payload, k_tcp_port,
                  setup.plan.app(1), p.cfg.sched, o.cancel);
    const auto connection = [&] { return pair.exchange_once(); };
    return measure_transactions(s, pair, v, connection, 20);
}

}  // namespace lwbench::harness::scenarios
