// tcp_raw.hpp — private to harness/src/scenarios/: the raw-API ends of the TCP scenario
// kinds (bulk_tcp.cpp, request_response_tcp.cpp, connection_rate_tcp.cpp; tcp_pair.hpp
// puts them beside the netconn and socket ends), on our stack's raw TCP API
// (stack/include/lwbench/tcp.hpp): a listener and a client over the zero-copy
// loopback, Nagle off on both ends, no-copy writes of a payload buffer that never
// changes, and a receiving end that checks every byte (stream_check.hpp).
//
// Threading: the ends' pcbs and echo state are core state (changed in the callbacks
// or inside stack::call); `wakes` and the checks' counts are atomics an application
// thread polls (the bounded wait of timing.hpp), as the UDP raw endpoint does.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "lwbench/harness/stream_check.hpp"
#include "lwbench/tcp.hpp"
#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

/// The listening port of a TCP point (bulk_tcp: connection i listens on k_tcp_port + i).
inline constexpr std::uint16_t k_tcp_port = 5001;

/// One raw end: its pcb (null once closed or freed by the stack), the check of what
/// it receives, and what it does on receive.
struct tcp_raw_end {
    tcp_raw_end(const std::byte* pattern, std::size_t period) : check(pattern, period) {}
    tcp_pcb* pcb = nullptr;
    stream_check check;
    std::atomic<std::uint64_t> wakes{0};  ///< receives, acknowledgements, connects, errors
    // echo server: `echo` bytes of `reply` per `echo` bytes received
    std::size_t echo = 0;
    std::uint64_t unanswered = 0;
    const std::byte* reply = nullptr;
    bool close_after_reply = false;  ///< connection rate: the server closes after its reply
    // connection rate client: written by the connected callback
    const std::byte* request = nullptr;
    std::uint32_t request_len = 0;
};

/// Sets e's callbacks on pcb (core context) and turns Nagle off.
void attach(tcp_raw_end& e, tcp_pcb* pcb);
/// Clears the callbacks and closes (aborts if the stack has no segment for the FIN);
/// true when it aborted (a callback must then return err::abrt). Core context.
bool close_end(tcp_raw_end& e);

/// Queues `len` bytes at `data` (no copy) on e's pcb from an application thread (one
/// stack::call per attempt), waiting for acknowledgements while the send buffer is
/// full. False when the connection is gone or no room came within 10 s.
bool write_all(stack& s, tcp_raw_end& e, const std::byte* data, std::size_t len, const std::atomic<bool>* cancel);
/// Waits (bounded, 10 s) until e's check has seen `total` bytes.
bool wait_bytes(const tcp_raw_end& e, std::uint64_t total, const std::atomic<bool>* cancel);

/// A listener on 127.0.0.1:`port` and, unless `connect` is false, one client
/// connected to it: `client` and `server` are the two ends. The listener accepts one
/// connection at a time into `server` (connection rate: one after the other).
class tcp_raw_pair {
public:
    /// `payload` (the client's pattern) and `reply` (the server's) hold `period` bytes
    /// and must outlive the stack (no-copy writes reference them).
    tcp_raw_pair(stack& s, const std::byte* payload, const std::byte* reply, std::size_t period, std::uint16_t port,
                 bool connect);
    ~tcp_raw_pair();
    tcp_raw_pair(const tcp_raw_pair&) = delete;
    tcp_raw_pair& operator=(const tcp_raw_pair&) = delete;
    /// Connects a new client pcb (core context: inside stack::call); its connected
    /// callback writes client.request, if set.
    err connect_client();
    tcp_raw_end client, server;

private:
    stack& _s;
    std::uint16_t _port;
    tcp_pcb* _listener = nullptr;
};

/// Fills a pattern buffer of n bytes (never changed afterwards).
std::vector<std::byte> tcp_pattern(std::size_t n, unsigned seed);

}  // namespace lwbench::harness::scenarios
