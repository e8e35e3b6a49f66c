// tcp_pair.hpp — private to harness/src/scenarios/: one TCP connection of the TCP
// scenario kinds over any of our stack's APIs, the scene real lwIP's runner builds
// with its own API (real_lwip/src/tcp_scenarios.cpp): a listener on 127.0.0.1, a
// client, Nagle off on both ends, the client writing one pattern buffer over and over,
// and a server end that checks every byte it receives (stream_check.hpp).
//
// What each API's operations are:
//   raw      tcp_raw.hpp: tcp_write (no copy) + tcp_output entered through stack::call
//            (the mode's way); the server end is the receive callback (core context);
//   netconn  netconn_write without the copy flag (the stack references the pattern)
//            and netconn_recv_tcp (which reopens the window: one more API message);
//   socket   lwip_send / lwip_recv (one copy each way, as every BSD API makes).
// The netconn and socket server ends run on an application thread of their own.
//
// Bounded waits: every client call gives up after 10 s without progress and returns
// within a second of a cancel (the netconns' and sockets' timeouts are 1 s, retried);
// the destructor closes the server end from the calling thread, which wakes and ends
// the server thread (netconn_close / lwip_close from a third thread wake blocked calls).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "tcp_raw.hpp"

namespace lwbench::harness::scenarios {

/// What the server end does with what it receives.
enum class tcp_server_role : std::uint8_t {
    sink,          ///< bulk: checks the bytes, replies nothing
    echo,          ///< request/response: replies `period` bytes per `period` bytes received
    one_exchange,  ///< connection rate: per accepted connection, one request, one reply, close
};

class tcp_pair {
public:
    /// `request` (the client's pattern) and `reply` (the server's) hold `period` bytes
    /// and must outlive the stack (no-copy writes reference them). The listener is on
    /// 127.0.0.1:`port`; unless the role is one_exchange, the client is connected when
    /// the constructor returns (it throws std::runtime_error otherwise). The netconn and
    /// socket server ends run on one thread set up as an application thread on
    /// `server_cpu` under `sched`. Application thread only.
    tcp_pair(stack& s, api_kind api, tcp_server_role role, const std::byte* request, const std::byte* reply,
             std::size_t period, std::uint16_t port, int server_cpu, sched_policy sched,
             const std::atomic<bool>* cancel);
    ~tcp_pair();
    tcp_pair(const tcp_pair&) = delete;
    tcp_pair& operator=(const tcp_pair&) = delete;

    /// The client queues `len` (<= period) bytes of the request pattern, waiting while
    /// the send buffer is full. False when the connection failed or stalled.
    bool write(std::size_t len);
    /// The client reads until it has received `total` bytes since the start.
    bool read_until(std::uint64_t total);
    /// Connection rate: a new client connects, writes one request of `period` bytes,
    /// reads the reply and closes (the server end closes after replying).
    bool exchange_once();
    /// Bytes the server end received and checked.
    [[nodiscard]] std::uint64_t server_bytes() const;
    /// Chunks either end received that differed from its pattern.
    [[nodiscard]] std::uint64_t mismatches() const;
    /// Connection rate over netconn or socket: waits (at most 10 s) until the server
    /// thread has closed every connection a client opened, so that a snapshot of the
    /// stack's counts holds whole connections — the server's close is an API message
    /// that otherwise lands on either side of a snapshot taken right after the client's
    /// last close. Returns at once for the other roles and for raw (whose server end
    /// closes in core context before the client has its reply).
    void wait_server_finished() const;

private:
    void open_listener();
    void connect_client();
    /// The server thread: accepts on `listener` / `listen_fd` and serves by role.
    void serve(netconn* listener, int listen_fd, int cpu, sched_policy sched);
    void serve_connection(netconn* conn, int fd, std::vector<std::byte>& buffer);
    void stop_server();
    /// Stops the server thread and frees every netconn and socket (destructor, failed setup).
    void close_all() noexcept;
    bool write_on(netconn* conn, int fd, const std::byte* data, std::size_t len);
    bool read_on(netconn* conn, int fd, stream_check& check, std::uint64_t total);

    stack& _s;
    api_kind _api;
    tcp_server_role _role;
    const std::byte* _request;
    const std::byte* _reply;
    std::size_t _period;
    std::uint16_t _port;
    const std::atomic<bool>* _cancel;
    std::unique_ptr<tcp_raw_pair> _raw;  ///< raw: both ends
    // netconn / socket: the client end (one of the two), the checks, the listener
    stream_check _client_check, _server_check;
    netconn* _listen_conn = nullptr;
    netconn* _client_conn = nullptr;
    int _listen_fd = -1, _client_fd = -1;
    /// Connection rate: connections the client opened, and those the server thread
    /// has closed (written by the client's and the server's thread, read by either).
    std::atomic<std::uint64_t> _connections_opened{0}, _connections_closed{0};
    std::vector<std::byte> _rx;  ///< the socket client's receive buffer (the client's thread)
    // the server thread's current connection, closed by stop_server (under _server_mutex)
    std::mutex _server_mutex;
    bool _stopping = false;
    netconn* _server_conn = nullptr;
    int _server_fd = -1;
    thread_group _server;
};

/// Warms up, probes (`probe_ops`) and times one repetition of a transaction op
/// (request/response, connection) on `pair`, with the stack's per-op counts (TCP's
/// included) and the transactions' accounting (count_transactions: checks that failed
/// are errors).
template <class Op>
rep_out measure_transactions(stack& s, const tcp_pair& pair, const visit& v, Op& op, long probe_ops) {
    const run_options& o = v.options;
    for (long i = 0; i < o.warmup && !cancel_requested(o.cancel); ++i) op();
    const int per_sample = choose_ops_per_sample(probe_op_ns(op, probe_ops));
    throw_if_cancelled(o.cancel);
    const std::uint64_t base_mismatch = pair.mismatches();
    pair.wait_server_finished();
    const auto before = counts_snapshot::of(s);
    rep_out out;
    out.rep = time_repetition(o.ops, per_sample, v.counted, o.hardware_counters, o.cancel, op);
    pair.wait_server_finished();  // after the clock stopped: the wait is not timed
    const auto after = counts_snapshot::of(s);
    count_transactions(out.rep, pair.mismatches() - base_mismatch);
    out.per_op = per_op_counts(before, after, static_cast<double>(std::max(1L, out.rep.ops)), counts_of::tcp);
    return out;
}

}  // namespace lwbench::harness::scenarios
