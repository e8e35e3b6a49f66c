// iperf3_server.cpp — the iperf3 server on our socket API (iperf3_server.hpp): the
// control connection's protocol, the data stream threads, one test at a time.
#include "iperf3_server.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "lwbench/sockets.hpp"
#include "lwbench/tcpip.hpp"

namespace lwbench::iperf3 {
namespace {

using clock = std::chrono::steady_clock;

/// The cookie that names a test: 36 characters and a NUL.
constexpr std::size_t k_cookie_size = 37;
/// The most a control message (parameters, results) may hold: ours, not iperf3's.
constexpr std::uint32_t k_max_json = 64 * 1024;
/// Phases other than the data transfer (cookie, parameters, streams, results) must
/// finish within this.
constexpr std::chrono::seconds k_phase_limit{10};
/// After TEST_END, how long receivers may take to read what the client says it sent.
constexpr std::chrono::seconds k_drain_limit{5};
constexpr int k_default_block = 128 * 1024;

/// The one-byte states of the control connection (the values of iperf3's iperf_api.h).
enum class state : std::int8_t {
    test_start = 1,
    test_running = 2,
    test_end = 4,
    param_exchange = 9,
    create_streams = 10,
    server_terminate = 11,
    client_terminate = 12,
    exchange_results = 13,
    display_results = 14,
    iperf_done = 16,
    access_denied = -1,
    server_error = -2,
};

/// iperf3's error numbers (i_errno) this server sends after SERVER_ERROR; the client
/// prints its own text for each.
enum class error_number : std::int32_t { unimplemented = 13, recv_params = 114, recv_results = 117 };

bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK; }

/// Receive and send timeouts of k_poll, so no call on fd blocks longer.
bool set_poll_timeouts(stack& s, int fd) {
    timeval interval{0, static_cast<suseconds_t>(std::chrono::microseconds(k_poll).count())};
    return lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &interval, sizeof interval) == 0 &&
           lwip_setsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &interval, sizeof interval) == 0;
}

/// One connection of ours, read and written whole, each call bounded by a deadline and
/// by the server's stop flag. The socket must have k_poll timeouts (set_poll_timeouts).
class channel {
public:
    channel(stack& s, int fd, const std::atomic<bool>& stop) : _s(s), _fd(fd), _stop(stop) {}

    bool read_exact(void* buf, std::size_t n, clock::time_point deadline) {
        auto* out = static_cast<char*>(buf);
        for (std::size_t done = 0; done < n;) {
            if (_stop.load() || clock::now() > deadline) return false;
            const ssize_t k = lwip_recv(_s, _fd, out + done, n - done, 0);
            if (k > 0) done += static_cast<std::size_t>(k);
            else if (k == 0 || !would_block()) return false;  // the end of the stream, or an error
        }
        return true;
    }
    bool write_all(const void* buf, std::size_t n, clock::time_point deadline) {
        const auto* in = static_cast<const char*>(buf);
        for (std::size_t done = 0; done < n;) {
            if (_stop.load() || clock::now() > deadline) return false;
            const ssize_t k = lwip_send(_s, _fd, in + done, n - done, 0);
            if (k > 0) done += static_cast<std::size_t>(k);
            else if (k == 0 || !would_block()) return false;
        }
        return true;
    }
    std::optional<std::int8_t> read_state(clock::time_point deadline) {
        std::int8_t st = 0;
        if (!read_exact(&st, 1, deadline)) return std::nullopt;
        return st;
    }
    bool send_state(state st, clock::time_point deadline) {
        const auto byte = static_cast<std::int8_t>(st);
        return write_all(&byte, 1, deadline);
    }
    /// A length-prefixed JSON object; nullopt if it does not arrive whole, is longer
    /// than k_max_json or does not parse.
    std::optional<nlohmann::json> read_json(clock::time_point deadline) {
        std::uint32_t length = 0;
        if (!read_exact(&length, sizeof length, deadline)) return std::nullopt;
        length = ntohl(length);
        if (length == 0 || length > k_max_json) return std::nullopt;
        std::string text(length, '\0');
        if (!read_exact(text.data(), text.size(), deadline)) return std::nullopt;
        auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
        return parsed;
    }
    bool write_json(const nlohmann::json& j, clock::time_point deadline) {
        const std::string text = j.dump();
        const std::uint32_t length = htonl(static_cast<std::uint32_t>(text.size()));
        return write_all(&length, sizeof length, deadline) && write_all(text.data(), text.size(), deadline);
    }
    /// SERVER_ERROR, then iperf3's error number and an errno of 0 (each 4 bytes,
    /// network order): the client prints the error's text and ends.
    bool send_error(error_number e, clock::time_point deadline) {
        const std::array<std::uint32_t, 2> words = {htonl(static_cast<std::uint32_t>(e)), htonl(0)};
        return send_state(state::server_error, deadline) && write_all(words.data(), sizeof words, deadline);
    }

private:
    stack& _s;
    int _fd;
    const std::atomic<bool>& _stop;
};

/// What the client asked for (the parameters this server honours).
struct test_params {
    bool reverse = false;
    int streams = 1;
    std::int64_t block = k_default_block;
    double seconds = 0;  ///< -t; 0 with -n / -k (the client ends the test by a count)
    std::int64_t bitrate = 0;  ///< -b, bits/s; 0: as fast as possible (we pace only what we send, -R)
};

/// Reads the client's parameters into `out`; returns why the test is refused, or an
/// empty string.
std::string parse_params(const nlohmann::json& j, test_params& out) {
    for (const char* unsupported : {"udp", "sctp", "bidirectional", "window", "MSS", "TOS", "congestion", "fqrate"})
        if (j.contains(unsupported)) return std::string("parameter '") + unsupported + "' is not implemented";
    if (!j.contains("tcp")) return "only TCP tests are implemented";
    const auto integer = [&](const char* key, std::int64_t fallback, std::int64_t low, std::int64_t high,
                             std::int64_t& value) -> std::string {
        value = fallback;
        if (!j.contains(key)) return {};
        if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < low || j[key].get<std::int64_t>() > high)
            return std::string("parameter '") + key + "' must be an integer in " + std::to_string(low) + ".." +
                   std::to_string(high);
        value = j[key].get<std::int64_t>();
        return {};
    };
    std::int64_t omit = 0, streams = 1, block = k_default_block, seconds = 0, bitrate = 0;
    for (auto problem : {integer("omit", 0, 0, 0, omit), integer("parallel", 1, 1, k_max_streams, streams),
                         integer("len", k_default_block, 1, k_max_block, block),
                         integer("time", 0, 0, std::chrono::seconds(k_max_test).count(), seconds),
                         integer("bandwidth", 0, 0, std::numeric_limits<std::int64_t>::max(), bitrate)})
        if (!problem.empty()) return problem;
    out.reverse = j.contains("reverse") && j["reverse"] == true;
    out.bitrate = bitrate;
    out.streams = static_cast<int>(streams);
    out.block = block;
    out.seconds = static_cast<double>(seconds);
    return {};
}

/// One data stream: its socket and what moved on it.
struct stream {
    int fd = -1;
    std::atomic<std::uint64_t> bytes{0};
    /// Receiving: once `finish` is set, stop when this many bytes arrived.
    std::atomic<std::uint64_t> target{std::numeric_limits<std::uint64_t>::max()};
    std::thread worker;
};

/// What tells the stream threads to stop.
struct stream_stop {
    const std::atomic<bool>& server_stop;
    clock::time_point hard_deadline;  ///< no stream thread runs past it
    /// Set after the targets and drain_deadline: senders stop, receivers stop at their
    /// target or at drain_deadline.
    std::atomic<bool> finish{false};
    std::atomic<clock::rep> drain_deadline{std::numeric_limits<clock::rep>::max()};

    [[nodiscard]] bool aborted() const { return server_stop.load() || clock::now() > hard_deadline; }
};

/// Reads the stream until told to stop, counting bytes (the client sends).
void receive_loop(stack& s, stream& st, const stream_stop& stop) {
    std::vector<char> buf(64 * 1024);
    while (!stop.aborted()) {
        if (stop.finish.load() && (st.bytes.load() >= st.target.load() ||
                                   clock::now().time_since_epoch().count() > stop.drain_deadline.load()))
            return;
        const ssize_t n = lwip_recv(s, st.fd, buf.data(), buf.size(), 0);
        if (n > 0) st.bytes.fetch_add(static_cast<std::uint64_t>(n));
        else if (n == 0 || !would_block()) return;  // the client closed, or an error
    }
}

/// Sends blocks of `block` bytes until told to stop, counting the bytes the stack
/// accepted (-R: we send). With a bitrate (bits/s, > 0: the client's -b) a block waits
/// until the bytes sent so far are due at that rate (pacing, as iperf3's server does).
void send_loop(stack& s, stream& st, const stream_stop& stop, std::int64_t block, std::int64_t bitrate) {
    std::vector<char> data(static_cast<std::size_t>(block));
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('0' + i % 10);
    const auto start = clock::now();
    while (!stop.aborted() && !stop.finish.load()) {
        if (bitrate > 0) {
            const auto due = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                         8.0 * static_cast<double>(st.bytes.load()) / static_cast<double>(bitrate)));
            if (clock::now() < due) {
                std::this_thread::sleep_until(std::min(due, clock::now() + k_poll));  // then recheck the stop
                continue;
            }
        }
        const ssize_t n = lwip_send(s, st.fd, data.data(), data.size(), 0);
        if (n > 0) st.bytes.fetch_add(static_cast<std::uint64_t>(n));
        else if (n == 0 || !would_block()) return;
    }
}

/// Accepts one connection on `listener` before `deadline` (nullopt: none came, or stop).
std::optional<int> accept_one(stack& s, int listener, const std::atomic<bool>& stop, clock::time_point deadline) {
    while (!stop.load() && clock::now() < deadline) {
        const int fd = lwip_accept(s, listener, nullptr, nullptr);
        if (fd >= 0) return fd;
        if (!would_block()) return std::nullopt;
    }
    return std::nullopt;
}

/// CPU time this process used so far (user, system), seconds.
std::pair<double, double> cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {secs(usage.ru_utime), secs(usage.ru_stime)};
}

/// One test on an accepted control connection. Returns its record.
class test_session {
public:
    test_session(stack& s, int listener, int control, const std::atomic<bool>& stop)
        : _s(s), _listener(listener), _control(control), _stop(stop), _ctl(s, control, stop) {}

    ~test_session() {
        // A test that failed stops its receivers at once too (no drain).
        _stream_stop.drain_deadline = clock::now().time_since_epoch().count();
        _stream_stop.finish = true;
        for (auto& st : _streams) {
            if (st->worker.joinable()) st->worker.join();  // bounded: every loop checks the stop conditions
            (void)lwip_close(_s, st->fd);
        }
    }
    test_session(const test_session&) = delete;
    test_session& operator=(const test_session&) = delete;

    nlohmann::json run() {
        if (!set_poll_timeouts(_s, _control)) return failed("cannot set the control connection's timeouts");
        const int one = 1;
        (void)lwip_setsockopt(_s, _control, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // states are single bytes
        auto deadline = clock::now() + k_phase_limit;
        if (!_ctl.read_exact(_cookie.data(), _cookie.size(), deadline)) return failed("no cookie");
        if (!_ctl.send_state(state::param_exchange, deadline)) return failed("control connection lost");
        const auto params = _ctl.read_json(deadline);
        if (!params) {
            (void)_ctl.send_error(error_number::recv_params, deadline);
            return failed("parameters missing or not a JSON object");
        }
        if (const std::string refusal = parse_params(*params, _params); !refusal.empty()) {
            (void)_ctl.send_error(error_number::unimplemented, deadline);
            _record["outcome"] = "refused";
            _record["reason"] = refusal;
            return _record;
        }
        _record["reverse"] = _params.reverse;
        _record["streams"] = _params.streams;
        _record["block"] = _params.block;
        if (!_ctl.send_state(state::create_streams, deadline)) return failed("control connection lost");
        if (!accept_streams(deadline)) return failed("the data streams did not all arrive");

        const auto running = clock::now();
        const auto cpu_before = cpu_seconds();
        const auto rexmit_before = _s.st().tcp_rexmit.get();
        if (!_ctl.send_state(state::test_start, deadline) || !_ctl.send_state(state::test_running, deadline))
            return failed("control connection lost");
        // The client's clock ends the test (TEST_END): wait for it, bounded by its -t
        // (or k_max_test for a count) plus the phase limit.
        const auto test_deadline =
            _params.seconds > 0
                ? running + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(_params.seconds)) +
                      k_phase_limit
                : running + k_max_test;
        const auto end = _ctl.read_state(std::min(test_deadline, _stream_stop.hard_deadline));
        if (!end) return failed("no TEST_END from the client");
        if (*end != static_cast<std::int8_t>(state::test_end))
            return failed(*end == static_cast<std::int8_t>(state::client_terminate) ? "the client terminated the test"
                                                                                     : "unexpected state " +
                                                                                           std::to_string(*end));
        const double seconds = std::chrono::duration<double>(clock::now() - running).count();
        if (_params.reverse) {
            // Senders stop now, and each stream ends (FIN after what is still queued), as
            // iperf3's own server ends its streams at TEST_END: the client keeps reading
            // its data connections in whole blocks until then, and would wait for a block
            // that never comes before it reads the control connection again.
            stop_streams();
            for (auto& st : _streams) (void)lwip_shutdown(_s, st->fd, SHUT_WR);
        }

        deadline = clock::now() + k_phase_limit;
        if (!_ctl.send_state(state::exchange_results, deadline)) return failed("control connection lost");
        const auto client = _ctl.read_json(deadline);
        std::vector<std::pair<std::int64_t, std::uint64_t>> client_streams;  // (id, bytes) by position
        if (!client || !read_client_streams(*client, client_streams)) {
            (void)_ctl.send_error(error_number::recv_results, deadline);
            if (client) _record["client_results"] = *client;  // what was wrong with them
            return failed("the client's results are missing or malformed");
        }
        if (!_params.reverse) {
            // Read until every stream holds what the client says it sent (bounded).
            for (std::size_t i = 0; i < _streams.size(); ++i) _streams[i]->target = client_streams[i].second;
            _stream_stop.drain_deadline = (clock::now() + k_drain_limit).time_since_epoch().count();
            stop_streams();
        }
        const auto cpu_after = cpu_seconds();
        const std::uint64_t rexmits = _s.st().tcp_rexmit.get() - rexmit_before;
        if (!_ctl.write_json(results_json(client_streams, seconds, cpu_before, cpu_after, rexmits), deadline) ||
            !_ctl.send_state(state::display_results, deadline))
            return failed("control connection lost");
        // IPERF_DONE, or the end of the connection: either ends the test.
        const auto done = _ctl.read_state(deadline);
        _record["outcome"] = "completed";
        _record["iperf_done"] = done == static_cast<std::int8_t>(state::iperf_done);
        _record["seconds"] = seconds;
        _record["retransmits"] = rexmits;
        for (std::size_t i = 0; i < _streams.size(); ++i) {
            _record["bytes"].push_back(_streams[i]->bytes.load());
            _record["client_bytes"].push_back(client_streams[i].second);
        }
        return _record;
    }

private:
    nlohmann::json failed(const std::string& why) {
        _record["outcome"] = "failed";
        _record["reason"] = why;
        return _record;
    }

    /// Accepts the test's data connections (each must open with the test's cookie;
    /// others get ACCESS_DENIED) and starts a thread for each.
    bool accept_streams(clock::time_point deadline) {
        _stream_stop.hard_deadline = clock::now() + k_max_test;
        while (static_cast<int>(_streams.size()) < _params.streams) {
            const auto fd = accept_one(_s, _listener, _stop, deadline);
            if (!fd) return false;
            channel data(_s, *fd, _stop);
            std::array<char, k_cookie_size> cookie{};
            if (!set_poll_timeouts(_s, *fd) || !data.read_exact(cookie.data(), cookie.size(), deadline) ||
                cookie != _cookie) {
                (void)data.send_state(state::access_denied, deadline);
                (void)lwip_close(_s, *fd);
                _record["denied_connections"] = _record.value("denied_connections", 0) + 1;
                continue;
            }
            auto& st = _streams.emplace_back(std::make_unique<stream>());
            st->fd = *fd;
        }
        for (auto& st : _streams) {
            stream& one = *st;
            if (_params.reverse)
                one.worker =
                    std::thread([this, &one] { send_loop(_s, one, _stream_stop, _params.block, _params.bitrate); });
            else
                one.worker = std::thread([this, &one] { receive_loop(_s, one, _stream_stop); });
        }
        return true;
    }

    /// Tells the stream threads to stop (senders at once, receivers at their target)
    /// and waits for them.
    void stop_streams() {
        _stream_stop.finish = true;
        for (auto& st : _streams)
            if (st->worker.joinable()) st->worker.join();
    }

    /// The client's per-stream (id, bytes), in its order (the order it opened them,
    /// which is the order we accepted them). False if malformed or not one per stream.
    bool read_client_streams(const nlohmann::json& j, std::vector<std::pair<std::int64_t, std::uint64_t>>& out) const {
        if (!j.contains("streams") || !j["streams"].is_array() || j["streams"].size() != _streams.size()) return false;
        for (const auto& st : j["streams"]) {
            if (!st.is_object() || !st.contains("id") || !st["id"].is_number_integer() || !st.contains("bytes") ||
                !st["bytes"].is_number() || st["bytes"].get<double>() < 0)
                return false;
            out.emplace_back(st["id"].get<std::int64_t>(), static_cast<std::uint64_t>(st["bytes"].get<double>()));
        }
        return true;
    }

    /// Our results, in the shape the client reads: CPU use, whether retransmissions
    /// are reported (only as the sender of a single stream: the stack's count is then
    /// that stream's, plus the control connection's, which sends a few bytes), and per
    /// stream (with the client's ids) the bytes it moved on our side.
    nlohmann::json results_json(const std::vector<std::pair<std::int64_t, std::uint64_t>>& client_streams,
                                double seconds, std::pair<double, double> cpu_before, std::pair<double, double> cpu_after,
                                std::uint64_t rexmits) const {
        const double user = cpu_after.first - cpu_before.first, system = cpu_after.second - cpu_before.second;
        const double wall = std::max(seconds, 1e-6);
        const bool has_rexmits = _params.reverse && _streams.size() == 1;
        nlohmann::json out = {{"cpu_util_total", 100.0 * (user + system) / wall},
                              {"cpu_util_user", 100.0 * user / wall},
                              {"cpu_util_system", 100.0 * system / wall},
                              {"sender_has_retransmits", _params.reverse ? (has_rexmits ? 1 : 0) : -1},
                              {"streams", nlohmann::json::array()}};
        for (std::size_t i = 0; i < _streams.size(); ++i)
            out["streams"].push_back({{"id", client_streams[i].first},
                                      {"bytes", _streams[i]->bytes.load()},
                                      {"retransmits", has_rexmits ? static_cast<std::int64_t>(rexmits) : -1},
                                      {"jitter", 0},
                                      {"errors", 0},
                                      {"packets", 0},
                                      {"start_time", 0},
                                      {"end_time", seconds}});
        return out;
    }

    stack& _s;
    int _listener, _control;
    const std::atomic<bool>& _stop;
    channel _ctl;
    std::array<char, k_cookie_size> _cookie{};
    test_params _params;
    stream_stop _stream_stop{_stop, clock::now() + k_max_test};
    std::vector<std::unique_ptr<stream>> _streams;
    nlohmann::json _record = nlohmann::json::object();
};

}  // namespace

server::~server() {
    if (_listener >= 0) (void)lwip_close(_s, _listener);
}

bool server::listen(std::uint16_t port, std::string& error) {
    _listener = lwip_socket(_s, AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    timeval interval{0, static_cast<suseconds_t>(std::chrono::microseconds(k_poll).count())};
    if (_listener < 0 || lwip_bind(_s, _listener, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
        lwip_listen(_s, _listener, k_max_streams + 1) != 0 ||
        lwip_setsockopt(_s, _listener, SOL_SOCKET, SO_RCVTIMEO, &interval, sizeof interval) != 0) {
        error = std::string("cannot listen on port ") + std::to_string(port) + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

void server::serve(const std::atomic<bool>& stop) {
    while (!stop.load()) {
        const auto control = accept_one(_s, _listener, stop, clock::now() + k_poll);
        if (!control) continue;
        nlohmann::json record;
        {
            test_session session(_s, _listener, *control, stop);
            record = session.run();
        }  // the streams are closed before the control connection
        (void)lwip_close(_s, *control);
        _results.push_back(std::move(record));
    }
}

}  // namespace lwbench::iperf3
