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
    return measure_transactions(s, pair, v, transaction, 50);
}

}  // namespace lwbench::harness::scenarios
