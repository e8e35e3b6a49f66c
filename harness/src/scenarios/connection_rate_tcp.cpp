// connection_rate_tcp.cpp — one op is a whole connection: the client connects (its
// connected callback writes p.payload bytes), the listener accepts, the server end
// replies p.payload bytes and closes from its receive callback, the client reads the
// reply and closes. Closed connections leave TIME_WAIT pcbs; the pool recycles the
// oldest (tcp_new). Raw API on our stack.
#include "tcp_raw.hpp"

namespace lwbench::harness::scenarios {

rep_out measure_connection_rate_tcp(const point& p, const visit& v) {
    const run_options& o = v.options;
    const std::vector<std::byte> request = tcp_pattern(p.payload, 7), reply = tcp_pattern(p.payload, 29);
    pinned_testbed setup(p);
    stack& s = setup.bed.s;
    tcp_raw_pair pair(s, request.data(), reply.data(), p.payload, false);
    (void)s.call([&]() -> err {
        pair.server.echo = p.payload;
        pair.server.reply = reply.data();
        pair.server.close_after_reply = true;
        pair.client.request = request.data();
        pair.client.request_len = static_cast<std::uint32_t>(p.payload);
        return err::ok;
    });
    const auto connection = [&] {
        const std::uint64_t want = pair.client.check.bytes() + p.payload;
        if (s.call([&] { return pair.connect_client(); }) != err::ok) return false;
        const bool ok = wait_bytes(pair.client, want, o.cancel);
        (void)s.call([&]() -> err {
            close_end(pair.client);
            return err::ok;
        });
        return ok;
    };
    return measure_transactions(s, pair, v, connection, 20);
}

}  // namespace lwbench::harness::scenarios
