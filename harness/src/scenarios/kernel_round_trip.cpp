// kernel_round_trip.cpp — the Linux kernel's own UDP loopback as a reference point of
// the round_trip scenario (record stack = "kernel").
//
// Two threads ping-pong a datagram through two connected UDP sockets on 127.0.0.1
// (ephemeral ports; loopback only), with blocking send/recv, on the same pinning plan
// as our round trip's two application threads (cpu_plan::app(0) and app(1)). Timed
// with the measuring core like every other point: one sample per round trip
// (sample_loop), counters only in counted repetitions, over every thread of the
// process — so context switches per round trip compare directly with our stack's.
// Bounded: every receive has a 1 s time-out, the loop checks the cancel flag.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "scenario_kinds.hpp"

namespace lwbench::harness {

namespace {

/// A UDP socket on 127.0.0.1 with an ephemeral port and a receive time-out; closed on scope exit.
class loopback_udp_socket {
public:
    loopback_udp_socket() : _fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        if (_fd < 0) throw std::system_error(errno, std::generic_category(), "kernel round trip: socket");
        const timeval limit{1, 0};
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
            bind(_fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
            getsockname(_fd, reinterpret_cast<sockaddr*>(&_addr), &len) != 0) {
            const int e = errno;
            ::close(_fd);
            throw std::system_error(e, std::generic_category(), "kernel round trip: bind 127.0.0.1");
        }
    }
    ~loopback_udp_socket() { ::close(_fd); }
    loopback_udp_socket(const loopback_udp_socket&) = delete;
    loopback_udp_socket& operator=(const loopback_udp_socket&) = delete;

    void connect_to(const loopback_udp_socket& peer) const {
        if (::connect(_fd, reinterpret_cast<const sockaddr*>(&peer._addr), sizeof peer._addr) != 0)
            throw std::system_error(errno, std::generic_category(), "kernel round trip: connect");
    }
    [[nodiscard]] bool send(const void* data, std::size_t len) const {
        return ::send(_fd, data, len, 0) == static_cast<ssize_t>(len);
    }
    /// false on time-out or error.
    [[nodiscard]] bool recv(void* data, std::size_t len) const { return ::recv(_fd, data, len, 0) >= 0; }

private:
    int _fd;
    sockaddr_in _addr{};
};

/// One repetition: `warmup` untimed round trips, then `ops` timed ones.
repetition measure_kernel_round_trip(std::size_t payload, pinning pin, sched_policy policy, const run_options& o,
                                     bool counted) {
    const cpu_plan plan = cpu_plan::of(pin);
    const scenarios::app_thread_setup self(plan.app(0), policy);
    loopback_udp_socket a, b;
    a.connect_to(b);
    b.connect_to(a);
    std::atomic<bool> stop{false};
    scenarios::thread_group peer([&] {
        stop.store(true);
        const char wake = 0;
        (void)a.send(&wake, 1);  // a receive blocked in the echo thread returns; else its 1 s time-out ends it
    });
    peer.spawn([&, payload] {
        const scenarios::app_thread_setup peer_setup(plan.app(1), policy);
        std::vector<std::byte> buf(payload);
        while (!stop.load()) {
            if (!b.recv(buf.data(), buf.size()) || stop.load()) continue;
            (void)b.send(buf.data(), buf.size());
        }
    });
    std::vector<std::byte> buf(payload, std::byte{0x5a});
    const auto round_trip = [&] { return a.send(buf.data(), buf.size()) && a.recv(buf.data(), buf.size()); };
    for (long i = 0; i < o.warmup && !cancel_requested(o.cancel); ++i) (void)round_trip();
    repetition rep;
    counter_window counters(counted, o.hardware_counters);  // after the echo thread exists: counts it too
    rep.counted = counted;
    counters.start();
    const std::int64_t begin = now_ns();
    rep.ops = sample_loop(o.ops, 1, round_trip, rep.samples_ns, rep.errors, o.cancel);
    rep.wall_ns = static_cast<double>(now_ns() - begin);
    counters.stop();
    peer.join();
    throw_if_cancelled(o.cancel);
    rep.counters = counters.read();
    rep.sent = static_cast<std::uint64_t>(rep.ops);
    rep.received = static_cast<std::uint64_t>(rep.ops - rep.errors);
    return rep;
}

}  // namespace

external_point kernel_round_trip_point(std::size_t payload, pinning pin, sched_policy policy, const run_options& o) {
    record identity;
    identity.stack = "kernel";
    identity.scenario = to_string(scenario_kind::round_trip);
    identity.api = to_string(api_kind::socket);
    identity.payload_bytes = static_cast<int>(payload);
    identity.pinning = to_string(pin);
    identity.sched_policy = lwbench::to_string(policy);
    identity.variant = "linux udp loopback 127.0.0.1, blocking send/recv";
    external_point ext;
    ext.label = "kernel round_trip/socket/" + std::to_string(payload) + "B/" + to_string(pin) +
                (policy == sched_policy::other ? "" : std::string("/sched=") + lwbench::to_string(policy));
    ext.basis = rate_basis::operations;
    ext.payload_bytes = static_cast<double>(payload);
    ext.measure = [identity, payload, pin, policy, o](bool counted) -> std::optional<external_point::visit> {
        return external_point::visit{identity, measure_kernel_round_trip(payload, pin, policy, o, counted)};
    };
    return ext;
}

}  // namespace lwbench::harness
