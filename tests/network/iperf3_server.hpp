// iperf3_server.hpp — an iperf3 server (TCP tests only) on lwbench's socket API, so
// that the iperf3 client, a program no one here wrote, measures our TCP.
//
// The iperf3 protocol, as its public source describes it (written here from that
// description): a test starts with a control connection to port 5201 on which the
// client sends a 37-byte cookie (36 characters and a NUL). The server then drives the
// test with one-byte states (PARAM_EXCHANGE, CREATE_STREAMS, TEST_START,
// TEST_RUNNING, EXCHANGE_RESULTS, DISPLAY_RESULTS); the client answers with its
// parameters, TEST_END and IPERF_DONE. Parameters and results are JSON objects, each
// preceded by its length (4 bytes, network order). The data streams are further
// connections to the same port, each opened with the same cookie; the client sends on
// them (or, with -R, the server does) until the client's clock ends the test.
// The client sends its results first, so the server knows how many bytes the client
// sent on each stream: before it answers with its own, it keeps reading until it has
// them all (bounded in time), so both sides report the same byte count. When we send
// (-R), the streams end at TEST_END, as iperf3's own server ends them.
//
// Supported: TCP, -P 1..k_max_streams, -R, -t / -n / -k, -l up to k_max_block, -b
// (with -R we pace what we send), --get-server-output (ignored: no server output is
// sent). Refused with iperf3's "not implemented" error (the client prints it and exits
// 1): UDP, SCTP, --bidir, --omit, -w, -M, -S, -C, --fq-rate.
// One test at a time, as the iperf3 server does; a data connection with a wrong cookie
// gets ACCESS_DENIED and is closed.
//
// Threads: serve() runs on the caller's (application) thread and holds the control
// connection; each data stream has its own application thread. Every blocking call
// has a receive/send timeout (k_poll), so every loop rechecks its stop conditions,
// and every phase of a test has a deadline: nothing waits unboundedly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN
class stack;
LWBENCH_NS_END

namespace lwbench::iperf3 {

/// The port iperf3 uses by default.
inline constexpr std::uint16_t k_default_port = 5201;
/// Parallel streams one test may open (-P).
inline constexpr int k_max_streams = 8;
/// Largest block (-l) a stream sends with one call, bytes.
inline constexpr std::int64_t k_max_block = 1 << 20;
/// How often every blocking socket call returns to recheck its stop conditions.
inline constexpr std::chrono::milliseconds k_poll{100};
/// The longest a test may run (its -t plus setup and results), whatever it asks for.
inline constexpr std::chrono::seconds k_max_test{120};

class server {
public:
    explicit server(stack& s) : _s(s) {}
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Opens the listening socket on `port` (any of our addresses). False, with the
    /// errno text in `error`, if it cannot.
    bool listen(std::uint16_t port, std::string& error);
    /// Serves one test after another until `stop` is set (then within k_poll, or
    /// aborting the test under way). Records each test it started (results()).
    void serve(const std::atomic<bool>& stop);
    /// One record per test: outcome (completed, refused, failed) and why, direction,
    /// streams, block size, the bytes each stream moved on our side and on the
    /// client's, the test's length. Call after serve() returned.
    [[nodiscard]] const nlohmann::json& results() const { return _results; }

private:
    stack& _s;
    int _listener = -1;
    nlohmann::json _results = nlohmann::json::array();
};

}  // namespace lwbench::iperf3
