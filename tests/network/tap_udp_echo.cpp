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
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <span>
#include <nlohmann/json.hpp>
#include <thread>

#include "lwbench/sockets.hpp"
#include "lwbench/tap_netif.hpp"
#include "lwbench/tcpip.hpp"

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

struct options {
    std::string ifname = "lwbtap0";
    std::string ip = "192.0.2.2";
    std::string netmask = "255.255.255.0";
    std::string threading = "core_locking";
    std::string input = "inline";
    std::uint16_t port = 7;
    reply_kind reply = reply_kind::echo;
    double seconds = 30;
    unsigned switch_every_ms = 0;  ///< 0: never switch modes
};

/// Switches the live stack between the two threading modes (input mode paired) every
/// `every` until `stop` is set and `wake` notified; returns how many switches succeeded.
std::uint64_t switch_loop(lw::stack& s, std::chrono::milliseconds every, const std::atomic<bool>& stop,
                          std::mutex& m, std::condition_variable& wake) {
    constexpr std::array k_modes = {lw::threading_mode::message_passing, lw::threading_mode::core_locking};
    std::uint64_t switches = 0;
    for (std::size_t next = 0;; next = (next + 1) % k_modes.size()) {
        {
            std::unique_lock lock(m);
            if (wake.wait_for(lock, every, [&] { return stop.load(); })) return switches;
        }
        if (s.set_threading_mode(k_modes[next]) == lw::err::ok &&
            s.set_input_mode(lw::paired_input_mode(k_modes[next])) == lw::err::ok)
            ++switches;
    }
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

/// Waits until stdin reaches end of file or `deadline` passes.
void wait_for_end(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd in{STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&in, 1, static_cast<int>(std::min<long>(left.count(), 200)));
        if (ready > 0) {
            char c[256];
            if (::read(STDIN_FILENO, c, sizeof c) <= 0) return;  // EOF (or stdin gone)
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    CLI::App app{"lwbench's stack on a TAP link: ARP, ping and a UDP echo server (issue 15 tests)"};
    app.add_option("--ifname", opt.ifname, "TAP device to attach to")->capture_default_str();
    app.add_option("--ip", opt.ip, "our address")->capture_default_str();
    app.add_option("--netmask", opt.netmask, "our netmask")->capture_default_str();
    app.add_option("--threading", opt.threading, "message_passing | core_locking")->capture_default_str();
    app.add_option("--input", opt.input, "mailbox | inline")->capture_default_str();
    app.add_option("--port", opt.port, "UDP echo port")->capture_default_str();
    app.add_option("--reply", opt.reply, "echo (the same bytes) | sockperf (a sockperf server's answer)")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, reply_kind>{{"echo", reply_kind::echo}, {"sockperf", reply_kind::sockperf}}))
        ->capture_default_str();
    app.add_option("--switch-every", opt.switch_every_ms,
                   "switch the threading mode (and its paired input mode) every this many ms (0: never)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 60000u));
    app.add_option("--seconds", opt.seconds, "stop after this long at most")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or what is wrong
        return code == 0 ? 0 : 2;
    }

    lw::stack_config cfg;
    const auto threading = lw::parse_threading_mode(opt.threading);
    const auto input = lw::parse_input_mode(opt.input);
    const auto ip = lw::ip4_addr::parse(opt.ip);
    const auto netmask = lw::ip4_addr::parse(opt.netmask);
    if (!threading || !input || !ip || !netmask) {
        std::cerr << "tap_udp_echo: bad --threading, --input, --ip or --netmask\n";
        return 2;
    }
    cfg.mode = *threading;
    cfg.input = *input;
    lw::stack s(cfg);
    lw::tap_config tap_cfg;
    tap_cfg.ifname = opt.ifname;
    tap_cfg.ip = *ip;
    tap_cfg.netmask = *netmask;
    auto opened = lw::tap_netif::open(s, tap_cfg);
    if (!opened.tap) {
        std::cerr << "tap_udp_echo: " << opened.error << '\n';
        return 1;
    }
    std::atomic<bool> stop{false};
    std::atomic<setup> state{setup::pending};
    std::uint64_t echoed = 0;
    std::thread echo([&] { echoed = echo_loop(s, opt.port, opt.reply, stop, state); });
    std::mutex switch_mutex;
    std::condition_variable switch_wake;
    std::uint64_t switches = 0;
    std::thread switcher;
    using std::chrono::milliseconds;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(opt.seconds));
    while (state == setup::pending && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    const bool bound = state == setup::bound;
    if (bound) {
        if (opt.switch_every_ms > 0)
            switcher = std::thread([&] {
                switches = switch_loop(s, std::chrono::milliseconds(opt.switch_every_ms), stop, switch_mutex, switch_wake);
            });
        std::cout << "ready" << std::endl;
        wait_for_end(deadline);
    } else {
        std::cerr << "tap_udp_echo: could not bind the echo socket to port " << opt.port << '\n';
    }
    {
        std::lock_guard lock(switch_mutex);
        stop = true;
    }
    switch_wake.notify_all();
    if (switcher.joinable()) switcher.join();
    echo.join();

    nlohmann::json out;
    out["bound"] = bound;
    out["echoed"] = echoed;
    out["mode_switches"] = switches;
    out["threading_mode_at_end"] = lw::to_string(s.get_threading_mode());
    out["frames_received"] = opened.tap->frames_received();
    out["frames_sent"] = opened.tap->frames_sent();
    opened.tap.reset();  // before reading the counters of the ARP teardown
    const auto& st = s.st();
    out["eth_recv"] = st.eth_recv.get();
    out["arp_recv"] = st.arp_recv.get();
    out["arp_xmit"] = st.arp_xmit.get();
    out["icmp_recv"] = st.icmp_recv.get();
    out["icmp_xmit"] = st.icmp_xmit.get();
    out["udp_recv"] = st.udp_recv.get();
    out["drops"] = nlohmann::json::object();
    for (const auto& [name, count] : st.drops_by_name()) out["drops"][name] = count;
    std::cout << out.dump() << std::endl;
    return bound ? 0 : 1;
}
