// tap_udp_echo.cpp — lwbench's stack on a TAP link as a peer for the kernel: answers
// ARP and ping, and echoes UDP datagrams through the socket API from an application
// thread (so every datagram crosses the stack's threading mode and input mode), or
// answers as a sockperf server does (--reply sockperf), for sockperf ping-pong clients.
// With --switch-every MS a thread switches the live stack's threading mode back and
// forth (and the input mode with it, paired_input_mode) every MS milliseconds while
// traffic flows; the report counts the switches.
//
// Run it inside the namespace that holds the TAP (scripts/netns.sh exec). It prints
// "ready" on stdout once the netif is up and the echo socket bound, runs until stdin
// reaches end of file or --seconds pass (whichever is first: it always stops by
// itself), then prints one JSON object with its counters (frames, echoes, the stack's
// drops by reason) and exits 0. Bad flags: a message and exit 2; a device that cannot
// be opened: a message and exit 1.
#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <thread>

#include "lwbench/sockets.hpp"
#include "tap_tool.hpp"

namespace lw = lwbench;

namespace {


enum class setup : int { pending, bound, failed };

/// How a datagram is answered.
enum class reply_kind { echo, sockperf };

/// sockperf's message header (its src/message.h): sequence number (8 bytes), flags
/// (2), length (4), all in network order. A server answers only messages that ask for
/// a pong, and clears the client flag in the answer.
constexpr std::size_t k_sockperf_header = 14;
constexpr unsigned k_sockperf_client = 0x1, k_sockperf_pong_request = 0x2;

/// Turns `datagram` into its answer in place; false if it gets none.
bool make_reply(reply_kind kind, std::span<char> datagram) {
    if (kind == reply_kind::echo) return true;
    if (datagram.size() < k_sockperf_header) return false;
    auto& flags_low = reinterpret_cast<unsigned char&>(datagram[9]);
    if ((flags_low & k_sockperf_pong_request) == 0) return false;
    flags_low = static_cast<unsigned char>(flags_low & ~k_sockperf_client);
    return true;
}

/// Echoes datagrams on `port` until `stop`; returns how many were echoed. `state`
/// leaves `pending` once the socket is bound (or could not be).
std::uint64_t echo_loop(lw::stack& s, std::uint16_t port, reply_kind kind, const std::atomic<bool>& stop,
                        std::atomic<setup>& state) {
    const int fd = lw::lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        state = setup::failed;
        return 0;
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    timeval wake{0, 100'000};  // recheck `stop` every 100 ms
    if (lw::lwip_bind(s, fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
        lw::lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake) != 0) {
        (void)lw::lwip_close(s, fd);
        state = setup::failed;
        return 0;
    }
    state = setup::bound;
    std::uint64_t echoed = 0;
    std::array<char, 2048> buf;
    while (!stop.load(std::memory_order_relaxed)) {
        sockaddr_in from{};
        socklen_t from_len = sizeof from;
        const ssize_t n =
            lw::lwip_recvfrom(s, fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) continue;  // the receive timeout (EAGAIN): check `stop`
        if (!make_reply(kind, {buf.data(), static_cast<std::size_t>(n)})) continue;
        if (lw::lwip_sendto(s, fd, buf.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
                            from_len) == n)
            ++echoed;
    }
    (void)lw::lwip_close(s, fd);
    return echoed;
}

}  // namespace

int main(int argc, char** argv) {
    lw::tap_tool::stack_options opt;
    std::uint16_t port = 7;
    reply_kind reply = reply_kind::echo;
    CLI::App app{"lwbench's stack on a TAP link: ARP, ping and a UDP echo server (issue 15 tests)"};
    lw::tap_tool::add_stack_options(app, opt);
    app.add_option("--port", port, "UDP echo port")->capture_default_str();
    app.add_option("--reply", reply, "echo (the same bytes) | sockperf (a sockperf server's answer)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, reply_kind>{{"echo", reply_kind::echo}, {"sockperf", reply_kind::sockperf}}))
        ->capture_default_str();
    if (const auto status = lw::tap_tool::parse_flags(app, argc, argv)) return *status;
    lw::tap_tool::tap_stack ts;
    if (const int status = lw::tap_tool::open_tap_stack(opt, "tap_udp_echo", ts); status != 0) return status;
    lw::stack& s = *ts.s;
    std::atomic<bool> stop{false};
    std::atomic<setup> state{setup::pending};
    std::uint64_t echoed = 0;
    std::thread echo([&] { echoed = echo_loop(s, port, reply, stop, state); });
    const auto deadline = lw::tap_tool::deadline_after(opt.seconds);
    while (state == setup::pending && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    const bool bound = state == setup::bound;
    std::uint64_t switches = 0;
    if (bound) {
        lw::tap_tool::mode_switcher switcher(s, std::chrono::milliseconds(opt.switch_every_ms));
        std::cout << "ready" << std::endl;
        lw::tap_tool::wait_for_end(deadline);
        switches = switcher.stop();
    } else {
        std::cerr << "tap_udp_echo: could not bind the echo socket to port " << port << '\n';
    }
    stop = true;
    echo.join();

    nlohmann::json out = lw::tap_tool::detach_and_count(ts);
    out["bound"] = bound;
    out["echoed"] = echoed;
    out["mode_switches"] = switches;
    std::cout << out.dump() << std::endl;
    return bound ? 0 : 1;
}
