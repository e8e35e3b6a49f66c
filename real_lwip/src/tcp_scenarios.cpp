// tcp_scenarios.cpp — the TCP scenarios on real lwIP (bulk_tcp, request_response_tcp,
// connection_rate_tcp) for the raw, netconn and socket APIs, timed with lwbench's
// measurement core like the UDP scenarios (scenarios.cpp).
//
// The scene: a listener on zc1 (10.0.0.2, a port per connection), the client on zc0 (10.0.0.1),
// Nagle off on both ends (every write goes out at once, as in lwbench's TCP
// scenarios: the figure is the API path, not Nagle's coalescing with delayed ACKs).
// The writer sends the runner's payload buffer over and over; the receiving end
// checks every byte against it (harness/stream_check.hpp, the same check as
// lwbench's stack), so every run is byte-exact or says so in `errors`.
//
// What each API's operations are:
//   raw      tcp_write (no copy: the payload is static) + tcp_output, entered the
//            build's way (core_run: LOCK_TCPIP_CORE, or tcpip_api_call in the
//            message-passing build); receiving is the recv callback (count, check,
//            tcp_recved, pbuf_free); a writer that finds the send buffer full waits
//            for the sent callback's semaphore;
//   netconn  netconn_write(NETCONN_NOCOPY) and netconn_recv_tcp_pbuf (which updates
//            the window: one more API message per receive in message passing);
//   socket   lwip_send / lwip_recv (copies, as every BSD API does).
// bulk_tcp runs 1..N connections in parallel (--threads), a sender thread each, as
// lwbench's bulk_tcp does.
// Records: ops are writes (bulk, all connections'), transactions or connections;
// sent/received count writes (bulk: bytes delivered / write size; the receivers' byte
// count must equal the bytes written), transactions or connections answered.
#include "runner.hpp"

#include "lwbench/harness/bulk_streams.hpp"
#include "lwbench/harness/stream_check.hpp"

#if LWIP_TCP
#include <lwip/tcp.h>
#endif

namespace lwbench::lwip_runner {

#if !LWIP_TCP

void run_tcp_point(const point& pt, const options&, const std::uint8_t*, scenario_result&) {
    fail(std::string(hx::to_string(pt.scenario)) + ": this lwIP build has LWIP_TCP=0 (see lwipopts.h)");
}

#else

namespace {

/// The listening port of the next connection pair or connection-rate point: one lwIP
/// instance serves every point of a run, and the previous point's connections may
/// still hold their port (TIME_WAIT), where lwIP refuses a new bind without SO_REUSE;
/// so each listens on a port of its own (5001, 5002, …).
u16_t next_listen_port() {
    static u16_t next = 5000;
    next = static_cast<u16_t>(next >= 5999 ? 5001 : next + 1);
    return next;
}
constexpr u32_t k_wait_ms = 2000;  // one wait for a wake-up of a raw end
/// A raw write fails after this long without progress (lwbench's TCP scenarios give up
/// after the same 10 s): longer than lwIP's retransmission timeout, so a segment the
/// zero-copy pair dropped (tcpip mailbox full) is resent before the write gives up.
constexpr auto k_stall_limit = std::chrono::seconds(10);

// bulk_tcp opens up to k_max_bulk_tcp_connections pairs at once: lwIP's pools must hold
// every pair's two netconns (and the listener of the one being opened), pcbs, and full
// send queues (lwbench_lwipopts_defaults.h sizes them), or a writer would meet ERR_MEM
// that another connection's queue causes.
static_assert(MEMP_NUM_NETCONN >= 2 * hx::k_max_bulk_tcp_connections + 1);
static_assert(MEMP_NUM_TCP_PCB >= 2 * hx::k_max_bulk_tcp_connections + 1);
static_assert(MEMP_NUM_TCP_SEG >= hx::k_max_bulk_tcp_connections * TCP_SND_QUEUELEN);
static_assert(MEMP_NUM_PBUF >= hx::k_max_bulk_tcp_connections * TCP_SND_QUEUELEN);

template <class F>
err_t core_run(F&& f) {
    return core_api([](void* c) -> err_t { return (*static_cast<std::remove_reference_t<F>*>(c))(); }, &f);
}

/// One raw end (core state: its fields change in core context only; the counts in
/// its check are readable anywhere). `wake` is signalled after every receive and
/// every acknowledgement, so an application thread waiting for either re-checks.
struct raw_end {
    explicit raw_end(const std::uint8_t* pattern, std::size_t period) : check(pattern, period) {
        if (sys_sem_new(&wake, 0) != ERR_OK) fail("sys_sem_new failed");
    }
    ~raw_end() { sys_sem_free(&wake); }
    raw_end(const raw_end&) = delete;
    raw_end& operator=(const raw_end&) = delete;

    tcp_pcb* pcb = nullptr;
    hx::stream_check check;
    sys_sem_t wake{};
    // echo server: replies `echo` bytes of `reply` per `echo` bytes received
    int echo = 0;
    std::uint64_t unanswered = 0;
    const std::uint8_t* reply = nullptr;
    bool close_after_reply = false;  ///< connection rate: the server closes after one reply
    // connection rate client: the request its connected callback writes
    const std::uint8_t* request = nullptr;
    u16_t request_len = 0;
};

void detach(tcp_pcb* pcb) {
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_err(pcb, nullptr);
}

/// Closes a raw pcb from core context; aborts it if lwIP has no memory for the FIN
/// and returns true then (a callback must return ERR_ABRT).
bool raw_close(tcp_pcb* pcb) {
    detach(pcb);
    if (tcp_close(pcb) == ERR_OK) return false;
    tcp_abort(pcb);
    return true;
}

err_t raw_on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
    auto* e = static_cast<raw_end*>(arg);
    if (p == nullptr) {  // the peer closed
        sys_sem_signal(&e->wake);
        return ERR_OK;
    }
    for (pbuf* q = p; q != nullptr; q = q->next) e->check.feed(q->payload, q->len);
    const u16_t n = p->tot_len;
    tcp_recved(pcb, n);
    pbuf_free(p);
    if (e->echo > 0) {
        e->unanswered += n;
        const auto size = static_cast<std::uint64_t>(e->echo);
        bool replied = false;
        while (e->unanswered >= size && tcp_write(pcb, e->reply, static_cast<u16_t>(size), 0) == ERR_OK) {
            e->unanswered -= size;
            replied = true;
        }
        tcp_output(pcb);
        if (replied && e->close_after_reply) {
            e->pcb = nullptr;
            if (raw_close(pcb)) {
                sys_sem_signal(&e->wake);
                return ERR_ABRT;
            }
        }
    }
    sys_sem_signal(&e->wake);
    return ERR_OK;
}

err_t raw_on_sent(void* arg, tcp_pcb*, u16_t) {
    sys_sem_signal(&static_cast<raw_end*>(arg)->wake);
    return ERR_OK;
}

void raw_on_err(void* arg, err_t) {
    auto* e = static_cast<raw_end*>(arg);
    e->pcb = nullptr;  // lwIP freed it
    sys_sem_signal(&e->wake);
}

/// The connected callback: writes the end's request, if it has one, and wakes its thread.
err_t raw_on_connected(void* arg, tcp_pcb* pcb, err_t) {
    auto* e = static_cast<raw_end*>(arg);
    if (e->request_len > 0 && tcp_write(pcb, e->request, e->request_len, 0) == ERR_OK) tcp_output(pcb);
    sys_sem_signal(&e->wake);
    return ERR_OK;
}

void raw_attach(raw_end& e, tcp_pcb* pcb) {
    e.pcb = pcb;
    tcp_arg(pcb, &e);
    tcp_recv(pcb, raw_on_recv);
    tcp_sent(pcb, raw_on_sent);
    tcp_err(pcb, raw_on_err);
    tcp_nagle_disable(pcb);
}

/// Waits until ready() (checked after each wake of `e`), at most k_wait_ms per wake.
template <class F>
bool raw_wait(raw_end& e, F&& ready) {
    while (!ready())
        if (sys_arch_sem_wait(&e.wake, k_wait_ms) == SYS_ARCH_TIMEOUT) return ready();
    return true;
}

/// Queues `len` bytes of `data` (no copy) on e's pcb from an application thread,
/// waiting for acknowledgements while the send buffer (or send queue) is full; false
/// when the connection is gone or made no progress for k_stall_limit.
bool raw_write_all(raw_end& e, const std::uint8_t* data, std::size_t len) {
    std::size_t off = 0;
    auto last_progress = std::chrono::steady_clock::now();
    while (off < len) {
        std::size_t wrote = 0;
        bool gone = false;
        core_run([&]() -> err_t {
            if (e.pcb == nullptr) {
                gone = true;
                return ERR_CLSD;
            }
            const std::size_t n = std::min<std::size_t>(len - off, tcp_sndbuf(e.pcb));
            if (n > 0 && tcp_write(e.pcb, data + off, static_cast<u16_t>(n), 0) == ERR_OK)
                wrote = n;
            return tcp_output(e.pcb);
        });
        if (gone) return false;
        off += wrote;
        if (wrote > 0) last_progress = std::chrono::steady_clock::now();
        if (off < len && wrote == 0 && sys_arch_sem_wait(&e.wake, k_wait_ms) == SYS_ARCH_TIMEOUT &&
            std::chrono::steady_clock::now() - last_progress > k_stall_limit)
            return false;
    }
    return true;
}

// ---- the ends of one connection, per API ------------------------------------------------

/// A connected pair (client on zc0, server end on zc1, a listening port of its own)
/// of one API, with the server end's behaviour (sink or echo) and, for netconn/socket,
/// the thread that runs it, pinned to `server_cpu`. The listener is closed once the
/// pair is connected (lwIP has MEMP_NUM_TCP_PCB_LISTEN listeners; bulk_tcp opens up
/// to k_max_bulk_tcp_connections pairs). The check of the server end sees what the
/// client wrote; the client's check sees what the server replied.
class tcp_pair {
public:
    tcp_pair(hx::api_kind api, const point& pt, const std::uint8_t* payload, const std::uint8_t* pong, int echo,
             int server_cpu)
        : _api(api), _payload(payload), _pong(pong), _echo(echo), _server_cpu(server_cpu),
          _client_end(pong, static_cast<std::size_t>(pt.size)), _server_end(payload, static_cast<std::size_t>(pt.size)) {
        IP_ADDR4(&_server_ip, 10, 0, 0, 2);
        _rx.resize(static_cast<std::size_t>(std::max(pt.size, 65536)));
        switch (api) {
            case hx::api_kind::raw: open_raw(); break;
            case hx::api_kind::netconn: open_netconn(); break;
            case hx::api_kind::socket: open_socket(); break;
        }
    }
    tcp_pair(const tcp_pair&) = delete;
    tcp_pair& operator=(const tcp_pair&) = delete;
    ~tcp_pair() { close(); }

    /// The client writes `len` bytes of the payload (blocking until queued).
    bool write(std::size_t len) {
        switch (_api) {
            case hx::api_kind::raw: return raw_write_all(_client_end, _payload, len);
            case hx::api_kind::netconn: return netconn_write(_client_conn, _payload, len, NETCONN_NOCOPY) == ERR_OK;
            case hx::api_kind::socket:
                return lwip_send(_client_fd, _payload, len, 0) == static_cast<ssize_t>(len);
        }
        return false;
    }
    /// The client reads until its check has seen `total` bytes since the start.
    bool read_until(std::uint64_t total) {
        hx::stream_check& c = _client_end.check;
        switch (_api) {
            case hx::api_kind::raw: return raw_wait(_client_end, [&] { return c.bytes() >= total; });
            case hx::api_kind::netconn:
                while (c.bytes() < total) {
                    pbuf* p = nullptr;
                    if (netconn_recv_tcp_pbuf(_client_conn, &p) != ERR_OK) return false;
                    for (pbuf* q = p; q != nullptr; q = q->next) c.feed(q->payload, q->len);
                    pbuf_free(p);
                }
                return true;
            case hx::api_kind::socket:
                while (c.bytes() < total) {
                    const ssize_t n = lwip_recv(_client_fd, _rx.data(), _rx.size(), 0);
                    if (n <= 0) return false;
                    c.feed(_rx.data(), static_cast<std::size_t>(n));
                }
                return true;
        }
        return false;
    }
    /// Bytes the server end received (and checked).
    [[nodiscard]] std::uint64_t server_bytes() const { return _server_end.check.bytes(); }
    /// Chunks either end received that differed from the pattern.
    [[nodiscard]] std::uint64_t mismatches() const {
        return _server_end.check.mismatches() + _client_end.check.mismatches();
    }
    /// Closes the client; the server end sees the end of the stream and finishes.
    void close() {
        if (_closed) return;
        _closed = true;
        switch (_api) {
            case hx::api_kind::raw:
                in_core([&] {
                    if (_client_end.pcb != nullptr) raw_close(_client_end.pcb);
                    if (_server_end.pcb != nullptr) raw_close(_server_end.pcb);
                    _client_end.pcb = _server_end.pcb = nullptr;
                });
                break;
            case hx::api_kind::netconn:
                netconn_close(_client_conn);
                if (_server.joinable()) _server.join();
                netconn_delete(_client_conn);
                break;
            case hx::api_kind::socket:
                lwip_shutdown(_client_fd, SHUT_WR);
                if (_server.joinable()) _server.join();
                lwip_close(_client_fd);
                break;
        }
    }

private:
    // raw: the listener's accept callback attaches the server end (once).
    static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err) {
        auto* self = static_cast<tcp_pair*>(arg);
        if (err != ERR_OK || pcb == nullptr || self->_server_end.pcb != nullptr) return ERR_VAL;
        raw_attach(self->_server_end, pcb);
        return ERR_OK;
    }

    void open_raw() {
        _server_end.echo = _echo;
        _server_end.reply = _pong;
        bool ok = false;
        tcp_pcb* listener = nullptr;
        in_core([&] {
            tcp_pcb* l = tcp_new();
            if (l == nullptr || tcp_bind(l, &_server_ip, _port) != ERR_OK) return;
            listener = tcp_listen_with_backlog(l, 1);
            if (listener == nullptr) return;
            tcp_arg(listener, this);
            tcp_accept(listener, on_accept);
            tcp_pcb* c = tcp_new();
            if (c == nullptr) return;
            raw_attach(_client_end, c);
            ok = tcp_connect(c, &_server_ip, _port, raw_on_connected) == ERR_OK;
        });
        if (!ok) fail("raw TCP setup failed");
        const bool up = hx::wait_until([&] {
            bool established = false;
            in_core([&] {
                established = _server_end.pcb != nullptr && _client_end.pcb != nullptr &&
                              _client_end.pcb->state == ESTABLISHED;
            });
            return established;
        });
        in_core([&] { tcp_close(listener); });
        if (!up) fail("raw TCP connection was not established");
    }

    void open_netconn() {
        netconn* listener = netconn_new(NETCONN_TCP);
        if (listener == nullptr || netconn_bind(listener, &_server_ip, _port) != ERR_OK ||
            netconn_listen_with_backlog(listener, 1) != ERR_OK)
            fail("netconn listen failed");
        _client_conn = netconn_new(NETCONN_TCP);
        if (_client_conn == nullptr || netconn_connect(_client_conn, &_server_ip, _port) != ERR_OK)
            fail("netconn_connect failed");
        netconn* server = nullptr;
        if (netconn_accept(listener, &server) != ERR_OK) fail("netconn_accept failed");
        netconn_delete(listener);
        in_core([&] {
            tcp_nagle_disable(_client_conn->pcb.tcp);
            tcp_nagle_disable(server->pcb.tcp);
        });
        _server = std::thread([this, server] {
            setup_app_thread(_server_cpu);
            hx::stream_check& c = _server_end.check;
            std::uint64_t unanswered = 0;
            for (;;) {
                pbuf* p = nullptr;
                if (netconn_recv_tcp_pbuf(server, &p) != ERR_OK) break;
                for (pbuf* q = p; q != nullptr; q = q->next) c.feed(q->payload, q->len);
                unanswered += p->tot_len;
                pbuf_free(p);
                for (; _echo > 0 && unanswered >= static_cast<std::uint64_t>(_echo); unanswered -= _echo)
                    if (netconn_write(server, _pong, static_cast<std::size_t>(_echo), NETCONN_NOCOPY) != ERR_OK) break;
            }
            netconn_close(server);
            netconn_delete(server);
            netconn_thread_cleanup();
        });
    }

    void open_socket() {
        const int listener = lwip_socket(AF_INET, SOCK_STREAM, 0);
        _client_fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in at = to_sockaddr(_server_ip, _port);
        const int one = 1;
        if (listener < 0 || _client_fd < 0 || lwip_bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
            lwip_listen(listener, 1) != 0)
            fail("socket listen failed");
        if (lwip_connect(_client_fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) fail("lwip_connect failed");
        const int server = lwip_accept(listener, nullptr, nullptr);
        if (server < 0) fail("lwip_accept failed");
        lwip_close(listener);
        lwip_setsockopt(_client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        lwip_setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        _server = std::thread([this, server] {
            setup_app_thread(_server_cpu);
            std::vector<std::uint8_t> buf(65536);
            hx::stream_check& c = _server_end.check;
            std::uint64_t unanswered = 0;
            for (;;) {
                const ssize_t n = lwip_recv(server, buf.data(), buf.size(), 0);
                if (n <= 0) break;
                c.feed(buf.data(), static_cast<std::size_t>(n));
                unanswered += static_cast<std::uint64_t>(n);
                for (; _echo > 0 && unanswered >= static_cast<std::uint64_t>(_echo); unanswered -= _echo)
                    if (lwip_send(server, _pong, static_cast<std::size_t>(_echo), 0) != _echo) break;
            }
            lwip_close(server);
            lwip_socket_thread_cleanup();
        });
    }

    hx::api_kind _api;
    const std::uint8_t* _payload;
    const std::uint8_t* _pong;
    int _echo;
    int _server_cpu;
    ip_addr_t _server_ip{};
    u16_t _port = next_listen_port();
    raw_end _client_end, _server_end;  // raw: the pcbs; every API: the checks
    netconn* _client_conn = nullptr;
    int _client_fd = -1;
    std::thread _server;
    std::vector<std::uint8_t> _rx;
    bool _closed = false;
};

/// The repetitions of one point in run order (as point_runner plans them).
std::vector<bool> plan_of_reps(const options& opt) {
    const int counted = opt.counted_repetitions < 0 ? hx::default_counted_repetitions(opt.repetitions)
                                                    : opt.counted_repetitions;
    return hx::repetition_plan(opt.repetitions, counted);
}

void finish_tcp(scenario_result& res, double payload_bytes, hx::rate_basis basis) {
    hx::accumulator acc;
    for (const auto& r : res.reps) acc.add(r);
    acc.finish(res.rec, payload_bytes, basis);
}

/// bulk_tcp: pt.threads connections in parallel (1..k_max_bulk_tcp_connections), each
/// with its own sender thread writing pt.size bytes per op, as lwbench's bulk_tcp
/// (harness/src/scenarios/bulk_tcp.cpp): connection i's sender runs on application CPU
/// i and its server end (netconn, socket) on application CPU threads + i. ops are
/// writes (all senders' together); the clock stops when every receiving end has every
/// byte written to it; sent/received count writes (hx::bulk_streams, lwbench's own
/// bookkeeping), so delivered bytes/s is over all connections.
void bulk(const point& pt, const options& opt, const std::uint8_t* payload, scenario_result& res) {
    const auto connections = static_cast<std::size_t>(pt.threads);
    const hx::cpu_plan cpus = plan_of(pt.pinning);
    std::vector<std::unique_ptr<tcp_pair>> pairs;
    for (std::size_t i = 0; i < connections; ++i)
        pairs.push_back(std::make_unique<tcp_pair>(pt.api, pt, payload, payload, 0,
                                                   cpus.app(static_cast<int>(connections + i))));
    hx::bulk_streams streams(pairs, static_cast<std::size_t>(pt.size));
    const auto write = [&](std::size_t i) { return streams.write(i); };
    const auto drained = [&] { return streams.drained(); };
    alarm(opt.watchdog_s);
    for (long k = 0; k < opt.warmup; ++k) write(static_cast<std::size_t>(k) % connections);
    const int per_sample = hx::choose_ops_per_sample(hx::probe_op_ns([&] { return write(0); }, 50));
    for (const bool counted : plan_of_reps(opt)) {
        alarm(opt.watchdog_s);
        if (!hx::wait_until(drained, std::chrono::seconds(10), &g_cancel)) fail("bulk_tcp: the warm-up did not drain");
        streams.begin_repetition();
        hx::repetition rep = time_parallel_repetition(pt.threads, cpus, opt.ops, per_sample, counted, opt.hw_counters,
                                                      write, drained);
        streams.end_repetition(rep);
        res.reps.push_back(std::move(rep));
    }
    alarm(0);
    for (auto& pair : pairs) pair->close();
    finish_tcp(res, pt.size, hx::rate_basis::delivered);
}

/// Warms up, probes (`probe_ops`) and times the repetitions of a transaction op
/// (request/response, connection), with the watchdog armed per repetition.
template <class Op, class Mismatches>
void time_transactions(const options& opt, Op& op, Mismatches&& mismatches, long probe_ops, scenario_result& res) {
    alarm(opt.watchdog_s);
    for (long i = 0; i < opt.warmup; ++i) op();
    const int per_sample = hx::choose_ops_per_sample(hx::probe_op_ns(op, probe_ops));
    for (const bool counted : plan_of_reps(opt)) {
        alarm(opt.watchdog_s);
        const std::uint64_t base = mismatches();
        hx::repetition rep = hx::time_repetition(opt.ops, per_sample, counted, opt.hw_counters, &g_cancel, op);
        hx::count_transactions(rep, mismatches() - base);
        res.reps.push_back(std::move(rep));
    }
    alarm(0);
}

/// request_response_tcp: one transaction = the client writes pt.size bytes and reads
/// the server's pt.size-byte reply.
void request_response(const point& pt, const options& opt, const std::uint8_t* payload, scenario_result& res) {
    tcp_pair pair(pt.api, pt, payload, payload, pt.size, plan_of(pt.pinning).app(1));
    const auto size = static_cast<std::size_t>(pt.size);
    std::uint64_t expected = 0;
    auto op = [&] {
        expected += size;
        return pair.write(size) && pair.read_until(expected);
    };
    time_transactions(opt, op, [&] { return pair.mismatches(); }, 50, res);
    pair.close();
    finish_tcp(res, pt.size, hx::rate_basis::operations);
}

/// connection_rate_tcp: one op = connect, accept, one pt.size exchange, close (both
/// ends). The listener (and, for netconn/socket, the accepting thread) lives for
/// the whole point.
class connection_server {
public:
    connection_server(hx::api_kind api, const point& pt, const std::uint8_t* payload)
        : _api(api), _size(pt.size), _payload(payload), _server_end(payload, static_cast<std::size_t>(pt.size)),
          _client_end(payload, static_cast<std::size_t>(pt.size)) {
        IP_ADDR4(&_ip, 10, 0, 0, 2);
        _at = to_sockaddr(_ip, _port);
        switch (api) {
            case hx::api_kind::raw: {
                _server_end.echo = _size;
                _server_end.reply = payload;
                _server_end.close_after_reply = true;
                _client_end.request = payload;
                _client_end.request_len = static_cast<u16_t>(_size);
                bool ok = false;
                in_core([&] {
                    tcp_pcb* l = tcp_new();
                    if (l == nullptr || tcp_bind(l, &_ip, _port) != ERR_OK) return;
                    _listener = tcp_listen_with_backlog(l, 4);
                    if (_listener == nullptr) return;
                    tcp_arg(_listener, this);
                    tcp_accept(_listener, [](void* arg, tcp_pcb* pcb, err_t err) -> err_t {
                        auto* self = static_cast<connection_server*>(arg);
                        if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
                        if (self->_server_end.pcb != nullptr) raw_close(self->_server_end.pcb);
                        raw_attach(self->_server_end, pcb);
                        self->_server_end.unanswered = 0;
                        return ERR_OK;
                    });
                    ok = true;
                });
                if (!ok) fail("raw TCP listen failed");
                break;
            }
            case hx::api_kind::netconn: {
                _listen_conn = netconn_new(NETCONN_TCP);
                if (_listen_conn == nullptr || netconn_bind(_listen_conn, &_ip, _port) != ERR_OK ||
                    netconn_listen_with_backlog(_listen_conn, 4) != ERR_OK)
                    fail("netconn listen failed");
                _thread = std::thread([this, pinning = pt.pinning] {
                    setup_app_thread(plan_of(pinning).app(1));
                    for (;;) {
                        netconn* c = nullptr;
                        if (netconn_accept(_listen_conn, &c) != ERR_OK) break;
                        if (_stop.load()) {
                            netconn_delete(c);
                            break;
                        }
                        std::uint64_t got = 0;
                        while (got < static_cast<std::uint64_t>(_size)) {
                            pbuf* p = nullptr;
                            if (netconn_recv_tcp_pbuf(c, &p) != ERR_OK) break;
                            for (pbuf* q = p; q != nullptr; q = q->next) _server_end.check.feed(q->payload, q->len);
                            got += p->tot_len;
                            pbuf_free(p);
                        }
                        netconn_write(c, _payload, static_cast<std::size_t>(_size), NETCONN_NOCOPY);
                        netconn_close(c);
                        netconn_delete(c);
                    }
                    netconn_thread_cleanup();
                });
                break;
            }
            case hx::api_kind::socket: {
                _listen_fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
                if (_listen_fd < 0 || lwip_bind(_listen_fd, reinterpret_cast<sockaddr*>(&_at), sizeof _at) != 0 ||
                    lwip_listen(_listen_fd, 4) != 0)
                    fail("socket listen failed");
                _thread = std::thread([this, pinning = pt.pinning] {
                    setup_app_thread(plan_of(pinning).app(1));
                    std::vector<std::uint8_t> buf(static_cast<std::size_t>(_size));
                    const int one = 1;
                    for (;;) {
                        const int c = lwip_accept(_listen_fd, nullptr, nullptr);
                        if (c < 0) break;
                        if (_stop.load()) {
                            lwip_close(c);
                            break;
                        }
                        lwip_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                        std::size_t got = 0;
                        while (got < buf.size()) {
                            const ssize_t n = lwip_recv(c, buf.data(), buf.size() - got, 0);
                            if (n <= 0) break;
                            _server_end.check.feed(buf.data(), static_cast<std::size_t>(n));
                            got += static_cast<std::size_t>(n);
                        }
                        lwip_send(c, _payload, static_cast<std::size_t>(_size), 0);
                        lwip_close(c);
                    }
                    lwip_socket_thread_cleanup();
                });
                break;
            }
        }
    }
    connection_server(const connection_server&) = delete;
    connection_server& operator=(const connection_server&) = delete;

    ~connection_server() {
        switch (_api) {
            case hx::api_kind::raw:
                in_core([&] {
                    if (_server_end.pcb != nullptr) raw_close(_server_end.pcb);
                    if (_client_end.pcb != nullptr) raw_close(_client_end.pcb);
                    if (_listener != nullptr) tcp_close(_listener);
                });
                break;
            case hx::api_kind::netconn:
            case hx::api_kind::socket:
                _stop.store(true);
                connect_once(false);  // wakes the accepting thread, which sees _stop
                _thread.join();
                if (_listen_conn != nullptr) netconn_delete(_listen_conn);
                if (_listen_fd >= 0) lwip_close(_listen_fd);
                break;
        }
    }

    /// One connection: connect, send pt.size bytes, read the reply, close.
    bool connect_once(bool exchange = true) {
        switch (_api) {
            case hx::api_kind::raw: return raw_once();
            case hx::api_kind::netconn: {
                netconn* c = netconn_new(NETCONN_TCP);
                if (c == nullptr) return false;
                bool ok = netconn_connect(c, &_ip, _port) == ERR_OK;
                if (ok && exchange) {
                    in_core([&] { tcp_nagle_disable(c->pcb.tcp); });
                    ok = netconn_write(c, _payload, static_cast<std::size_t>(_size), NETCONN_NOCOPY) == ERR_OK;
                    std::uint64_t got = 0;
                    while (ok && got < static_cast<std::uint64_t>(_size)) {
                        pbuf* p = nullptr;
                        ok = netconn_recv_tcp_pbuf(c, &p) == ERR_OK;
                        if (!ok) break;
                        for (pbuf* q = p; q != nullptr; q = q->next) _client_end.check.feed(q->payload, q->len);
                        got += p->tot_len;
                        pbuf_free(p);
                    }
                }
                netconn_close(c);
                netconn_delete(c);
                return ok;
            }
            case hx::api_kind::socket: {
                const int c = lwip_socket(AF_INET, SOCK_STREAM, 0);
                if (c < 0) return false;
                bool ok = lwip_connect(c, reinterpret_cast<sockaddr*>(&_at), sizeof _at) == 0;
                if (ok && exchange) {
                    const int one = 1;
                    lwip_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ok = lwip_send(c, _payload, static_cast<std::size_t>(_size), 0) == _size;
                    std::vector<std::uint8_t> buf(static_cast<std::size_t>(_size));
                    std::size_t got = 0;
                    while (ok && got < buf.size()) {
                        const ssize_t n = lwip_recv(c, buf.data(), buf.size() - got, 0);
                        ok = n > 0;
                        if (!ok) break;
                        _client_end.check.feed(buf.data(), static_cast<std::size_t>(n));
                        got += static_cast<std::size_t>(n);
                    }
                }
                lwip_close(c);
                return ok;
            }
        }
        return false;
    }
    [[nodiscard]] std::uint64_t mismatches() const {
        return _server_end.check.mismatches() + _client_end.check.mismatches();
    }

private:
    /// Raw: connect (the connected callback writes the request), wait for the reply in
    /// the client's recv callback, close. The server end replies and closes from its
    /// recv callback (close_after_reply).
    bool raw_once() {
        const std::uint64_t want = _client_end.check.bytes() + static_cast<std::uint64_t>(_size);
        bool ok = false;
        core_run([&]() -> err_t {
            tcp_pcb* c = tcp_new();
            if (c == nullptr) return ERR_MEM;
            raw_attach(_client_end, c);
            ok = tcp_connect(c, &_ip, _port, raw_on_connected) == ERR_OK;
            return ERR_OK;
        });
        if (!ok) return false;
        ok = raw_wait(_client_end, [&] { return _client_end.check.bytes() >= want; });
        core_run([&]() -> err_t {
            if (_client_end.pcb != nullptr) raw_close(_client_end.pcb);
            _client_end.pcb = nullptr;
            return ERR_OK;
        });
        return ok;
    }

    hx::api_kind _api;
    int _size;
    const std::uint8_t* _payload;
    ip_addr_t _ip{};
    u16_t _port = next_listen_port();
    sockaddr_in _at{};
    raw_end _server_end, _client_end;
    tcp_pcb* _listener = nullptr;
    netconn* _listen_conn = nullptr;
    int _listen_fd = -1;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

void connection_rate(const point& pt, const options& opt, const std::uint8_t* payload, scenario_result& res) {
    connection_server server(pt.api, pt, payload);
    auto op = [&] { return server.connect_once(); };
    time_transactions(opt, op, [&] { return server.mismatches(); }, 20, res);
    finish_tcp(res, pt.size, hx::rate_basis::operations);
}

}  // namespace

void run_tcp_point(const point& pt, const options& opt, const std::uint8_t* payload, scenario_result& res) {
    const unsigned long zc_before = lwbench_zc_loopif_outputs();
    const unsigned long dropped_before = lwbench_zc_loopif_dropped();
    if (pt.variant != "zero_copy") fail("the TCP scenarios run on the zero-copy pair only (--variant zero_copy)");
    switch (pt.scenario) {
        case hx::scenario_kind::bulk_tcp: bulk(pt, opt, payload, res); break;
        case hx::scenario_kind::request_response_tcp: request_response(pt, opt, payload, res); break;
        case hx::scenario_kind::connection_rate_tcp: connection_rate(pt, opt, payload, res); break;
        default: fail("not a TCP scenario");
    }
    check_path(pt.variant, zc_before, 1);
    // A segment the pair dropped (the tcpip mailbox was full: message passing, where
    // input and API messages share lwIP's one mailbox) costs a retransmission timeout;
    // with LWIP_STATS=0 the record has no field for it, so it is said here.
    if (const unsigned long dropped = lwbench_zc_loopif_dropped() - dropped_before; dropped > 0)
        std::fprintf(stderr,
                     "lwip_runner: %s %s: the zero-copy pair dropped %lu packets (tcpip mailbox full); TCP resent "
                     "them after its retransmission timeout\n",
                     k_stack.c_str(), res.rec.label().c_str(), dropped);
}

#endif  // LWIP_TCP

}  // namespace lwbench::lwip_runner
