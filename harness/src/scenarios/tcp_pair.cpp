// tcp_pair.cpp — one TCP connection of the TCP scenario kinds over the raw, netconn or
// socket API of our stack (see tcp_pair.hpp).
#include "tcp_pair.hpp"

#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

namespace lwbench::harness::scenarios {

namespace {

using steady = std::chrono::steady_clock;
constexpr auto k_stall_limit = std::chrono::seconds(10);  ///< no progress for this long: the op failed
constexpr int k_timeout_ms = 1000;                        ///< each blocking call's bound (cancel is checked between)

/// A blocking call that timed out may be retried while the op is not cancelled and
/// has made progress within k_stall_limit.
bool may_retry(steady::time_point last_progress, const std::atomic<bool>* cancel) {
    return !cancel_requested(cancel) && steady::now() - last_progress < k_stall_limit;
}

/// Nagle off and the per-call timeouts on a netconn or socket end: k_timeout_ms for
/// sending, and for receiving too unless `receive_forever` (a server end waits for its
/// client as long as it takes; stop_server wakes it).
void set_up_end(stack& s, netconn* conn, int fd, bool receive_forever) {
    const int receive_ms = receive_forever ? 0 : k_timeout_ms;
    if (conn != nullptr) {
        (void)netconn_set_nodelay(conn, true);
        (void)netconn_set_recvtimeout(conn, receive_ms);
        (void)netconn_set_sendtimeout(conn, k_timeout_ms);
        return;
    }
    const int one = 1;
    const timeval receive{receive_ms / 1000, 0}, send{k_timeout_ms / 1000, 0};
    (void)lwip_setsockopt(s, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &receive, sizeof receive);
    (void)lwip_setsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &send, sizeof send);
}

}  // namespace

tcp_pair::tcp_pair(stack& s, api_kind api, tcp_server_role role, const std::byte* request, const std::byte* reply,
                   std::size_t period, std::uint16_t port, int server_cpu, sched_policy sched,
                   const std::atomic<bool>* cancel)
    : _s(s), _api(api), _role(role), _request(request), _reply(reply), _period(period), _port(port),
      _cancel(cancel), _client_check(reply, period), _server_check(request, period),
      _server([this] { stop_server(); }) {
    const bool connect = role != tcp_server_role::one_exchange;
    if (api == api_kind::raw) {
        _raw = std::make_unique<tcp_raw_pair>(s, request, reply, period, port, connect);
        (void)s.call([&]() -> err {
            if (role != tcp_server_role::sink) {
                _raw->server.echo = period;
                _raw->server.reply = reply;
            }
            if (role == tcp_server_role::one_exchange) {
                _raw->server.close_after_reply = true;
                _raw->client.request = request;
                _raw->client.request_len = static_cast<std::uint32_t>(period);
            }
            return err::ok;
        });
        return;
    }
    _rx.resize(std::max<std::size_t>(period, 65536));
    try {
        open_listener();
        _server.spawn([this, server_cpu, sched, listener = _listen_conn, listen_fd = _listen_fd] {
            serve(listener, listen_fd, server_cpu, sched);
        });
        if (connect) connect_client();
    } catch (...) {
        close_all();  // no netconn may outlive the stack
        throw;
    }
}

tcp_pair::~tcp_pair() { close_all(); }

void tcp_pair::close_all() noexcept {
    _server.join();  // stop_server closes the server end and the listener
    if (_client_conn != nullptr) (void)netconn_delete(std::exchange(_client_conn, nullptr));
    if (_listen_conn != nullptr) (void)netconn_delete(std::exchange(_listen_conn, nullptr));
    if (_client_fd >= 0) (void)lwip_close(_s, std::exchange(_client_fd, -1));
    if (_listen_fd >= 0) (void)lwip_close(_s, std::exchange(_listen_fd, -1));
}

void tcp_pair::open_listener() {
    if (_api == api_kind::netconn) {
        _listen_conn = netconn_new(_s, netconn_type::tcp);
        if (_listen_conn == nullptr || netconn_bind(_listen_conn, bench::k_lo, _port) != err::ok ||
            netconn_listen(_listen_conn, 4) != err::ok)
            throw std::runtime_error("TCP scenario setup failed: netconn listen on port " + std::to_string(_port));
        return;
    }
    _listen_fd = lwip_socket(_s, AF_INET, SOCK_STREAM, 0);
    const sockaddr_in at = endpoint::addr_of(_port);
    if (_listen_fd < 0 || lwip_bind(_s, _listen_fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
        lwip_listen(_s, _listen_fd, 4) != 0)
        throw std::runtime_error("TCP scenario setup failed: socket listen on port " + std::to_string(_port) +
                                 " (errno " + std::to_string(errno) + ")");
}

void tcp_pair::connect_client() {
    if (_api == api_kind::netconn) {
        _client_conn = netconn_new(_s, netconn_type::tcp);
        if (_client_conn == nullptr) throw std::runtime_error("TCP scenario setup failed: netconn_new");
        set_up_end(_s, _client_conn, -1, false);
        if (const err e = netconn_connect(_client_conn, bench::k_lo, _port); e != err::ok)
            throw std::runtime_error(std::string("TCP scenario setup failed: netconn_connect: ") + err_name(e));
        return;
    }
    _client_fd = lwip_socket(_s, AF_INET, SOCK_STREAM, 0);
    if (_client_fd < 0) throw std::runtime_error("TCP scenario setup failed: lwip_socket");
    set_up_end(_s, nullptr, _client_fd, false);
    const sockaddr_in at = endpoint::addr_of(_port);
    if (lwip_connect(_s, _client_fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
        throw std::runtime_error("TCP scenario setup failed: lwip_connect (errno " + std::to_string(errno) + ")");
}

// ---- the server end (netconn, socket) --------------------------------------------------------------

void tcp_pair::serve(netconn* listener, int listen_fd, int cpu, sched_policy sched) {
    const app_thread_setup setup(cpu, sched);
    std::vector<std::byte> buffer(_rx.size());  // the socket server end's own receive buffer
    for (;;) {
        netconn* conn = nullptr;
        int fd = -1;
        if (_api == api_kind::netconn) {
            auto accepted = netconn_accept(listener);  // the listener waits forever
            if (!accepted) return;                         // closed by stop_server
            conn = *accepted;
        } else {
            fd = lwip_accept(_s, listen_fd, nullptr, nullptr);
            if (fd < 0) return;  // closed by stop_server
        }
        bool stopping = false;
        {
            const std::lock_guard<std::mutex> lock(_server_mutex);
            stopping = _stopping;
            if (!stopping) {
                _server_conn = conn;
                _server_fd = fd;
            }
        }
        set_up_end(_s, conn, fd, true);
        if (!stopping) serve_connection(conn, fd, buffer);
        {
            const std::lock_guard<std::mutex> lock(_server_mutex);
            _server_conn = nullptr;
            _server_fd = -1;
        }
        if (conn != nullptr) (void)netconn_delete(conn);
        if (fd >= 0) (void)lwip_close(_s, fd);
        _connections_closed.fetch_add(1);
        if (stopping || _role != tcp_server_role::one_exchange) return;
    }
}

void tcp_pair::serve_connection(netconn* conn, int fd, std::vector<std::byte>& buffer) {
    std::uint64_t unanswered = 0;
    for (;;) {
        std::size_t got = 0;
        if (conn != nullptr) {
            auto piece = netconn_recv_tcp(conn);
            if (!piece || piece->len() == 0) return;  // closed, failed, or the end of the stream
            for (const pbuf* q = piece->p; q != nullptr; q = q->next) _server_check.feed(q->payload, q->len);
            got = piece->len();
        } else {
            const ssize_t n = lwip_recv(_s, fd, buffer.data(), buffer.size(), 0);
            if (n <= 0) return;
            _server_check.feed(buffer.data(), static_cast<std::size_t>(n));
            got = static_cast<std::size_t>(n);
        }
        if (_role == tcp_server_role::sink) continue;
        unanswered += got;
        bool replied = false;
        for (; unanswered >= _period; unanswered -= _period) {
            if (!write_on(conn, fd, _reply, _period)) return;
            replied = true;
        }
        if (replied && _role == tcp_server_role::one_exchange) return;
    }
}

void tcp_pair::stop_server() {
    const std::lock_guard<std::mutex> lock(_server_mutex);
    _stopping = true;
    // Closing from this thread wakes the server thread wherever it waits (accept,
    // receive, write); it then deletes its own connection.
    if (_server_conn != nullptr) (void)netconn_close(_server_conn);
    if (_server_fd >= 0) (void)lwip_close(_s, _server_fd);
    if (_listen_conn != nullptr) (void)netconn_close(_listen_conn);
    if (_listen_fd >= 0) (void)lwip_close(_s, _listen_fd);
    _server_fd = _listen_fd = -1;
}

// ---- the client end ------------------------------------------------------------------------

bool tcp_pair::write_on(netconn* conn, int fd, const std::byte* data, std::size_t len) {
    auto last_progress = steady::now();
    for (std::size_t off = 0; off < len;) {
        std::size_t queued = 0;
        bool again = false;  // timed out, or the pools were empty with nothing in flight (the
                             // receiver still holds the pbufs): retry once it has read some
        if (conn != nullptr) {
            auto n = netconn_write(conn, data + off, len - off, 0);  // no copy: the pattern outlives the stack
            if (n) queued = *n;
            else again = n.error() == err::timeout || n.error() == err::mem;
        } else {
            const ssize_t n = lwip_send(_s, fd, data + off, len - off, 0);
            if (n > 0) queued = static_cast<std::size_t>(n);
            else again = errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == ENOMEM;
        }
        if (queued > 0) {
            off += queued;
            last_progress = steady::now();
        } else if (!again || !may_retry(last_progress, _cancel)) {
            return false;
        } else {
            std::this_thread::yield();
        }
    }
    return true;
}

bool tcp_pair::read_on(netconn* conn, int fd, stream_check& check, std::uint64_t total) {
    auto last_progress = steady::now();
    while (check.bytes() < total) {
        bool timed_out = false;
        if (conn != nullptr) {
            auto piece = netconn_recv_tcp(conn);
            if (piece && piece->len() == 0) return false;  // the end of the stream
            if (piece) {
                for (const pbuf* q = piece->p; q != nullptr; q = q->next) check.feed(q->payload, q->len);
                last_progress = steady::now();
                continue;
            }
            timed_out = piece.error() == err::timeout;
        } else {
            const ssize_t n = lwip_recv(_s, fd, _rx.data(), _rx.size(), 0);
            if (n == 0) return false;
            if (n > 0) {
                check.feed(_rx.data(), static_cast<std::size_t>(n));
                last_progress = steady::now();
                continue;
            }
            timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (!timed_out || !may_retry(last_progress, _cancel)) return false;
    }
    return true;
}

bool tcp_pair::write(std::size_t len) {
    if (_raw) return write_all(_s, _raw->client, _request, len, _cancel);
    return write_on(_client_conn, _client_fd, _request, len);
}

bool tcp_pair::read_until(std::uint64_t total) {
    if (_raw) return wait_bytes(_raw->client, total, _cancel);
    return read_on(_client_conn, _client_fd, _client_check, total);
}

bool tcp_pair::exchange_once() {
    if (_raw) {
        // The connected callback writes the request; the server end replies and closes
        // from its receive callback (close_after_reply).
        const std::uint64_t want = _raw->client.check.bytes() + _period;
        if (_s.call([&] { return _raw->connect_client(); }) != err::ok) return false;
        const bool ok = wait_bytes(_raw->client, want, _cancel);
        (void)_s.call([&]() -> err {
            close_end(_raw->client);
            return err::ok;
        });
        return ok;
    }
    const std::uint64_t want = _client_check.bytes() + _period;
    bool ok = false;
    try {
        connect_client();
        _connections_opened.fetch_add(1);
        ok = write_on(_client_conn, _client_fd, _request, _period) &&
             read_on(_client_conn, _client_fd, _client_check, want);
    } catch (const std::runtime_error&) {
        ok = false;  // the connection failed: an error of this op
    }
    if (_client_conn != nullptr) (void)netconn_delete(std::exchange(_client_conn, nullptr));
    if (_client_fd >= 0) (void)lwip_close(_s, std::exchange(_client_fd, -1));
    return ok;
}

void tcp_pair::wait_server_finished() const {
    if (_raw || _role != tcp_server_role::one_exchange) return;
    // A connected client is always accepted: the server thread closes what it accepts.
    (void)wait_until([&] { return _connections_closed.load() >= _connections_opened.load(); },
                     std::chrono::seconds(10), _cancel);
}

std::uint64_t tcp_pair::server_bytes() const {
    return _raw ? _raw->server.check.bytes() : _server_check.bytes();
}

std::uint64_t tcp_pair::mismatches() const {
    return _raw ? _raw->server.check.mismatches() + _raw->client.check.mismatches()
                : _server_check.mismatches() + _client_check.mismatches();
}

}  // namespace lwbench::harness::scenarios
