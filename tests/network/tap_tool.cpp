// tap_tool.cpp — the shared parts of the TAP helper programs (tap_tool.hpp).
#include "tap_tool.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <iostream>

namespace lwbench::tap_tool {

void add_stack_options(CLI::App& app, stack_options& opt) {
    app.add_option("--ifname", opt.ifname, "TAP device to attach to")->capture_default_str();
    app.add_option("--ip", opt.ip, "our address")->capture_default_str();
    app.add_option("--netmask", opt.netmask, "our netmask")->capture_default_str();
    app.add_option("--mode,--threading", opt.mode, "threading mode: message_passing | core_locking | combining")
        ->capture_default_str();
    app.add_option("--input-mode,--input", opt.input, "input mode: mailbox | inline | combining | auto (the paired one)")
        ->capture_default_str();
    app.add_option("--switch-every", opt.switch_every_ms,
                   "switch the threading mode (and its paired input mode) every this many ms (0: never)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 60000u));
    app.add_option("--seconds", opt.seconds, "stop after this long at most")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
}

std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or what is wrong
        return code == 0 ? 0 : 2;
    }
    return std::nullopt;
}

int open_tap_stack(const stack_options& opt, const char* program, tap_stack& out) {
    const auto mode = parse_threading_mode(opt.mode);
    const auto input = opt.input == "auto" && mode ? std::optional(paired_input_mode(*mode)) : parse_input_mode(opt.input);
    const auto ip = ip4_addr::parse(opt.ip);
    const auto netmask = ip4_addr::parse(opt.netmask);
    if (!mode || !input || !ip || !netmask) {
        std::cerr << program << ": bad " << (!mode ? "--mode '" + opt.mode + "'"
                                             : !input ? "--input-mode '" + opt.input + "'"
                                             : !ip    ? "--ip '" + opt.ip + "'"
                                                      : "--netmask '" + opt.netmask + "'")
                  << '\n';
        return 2;
    }
    stack_config cfg;
    cfg.mode = *mode;
    cfg.input = *input;
    out.s = std::make_unique<stack>(cfg);
    tap_config tap_cfg;
    tap_cfg.ifname = opt.ifname;
    tap_cfg.ip = *ip;
    tap_cfg.netmask = *netmask;
    auto opened = tap_netif::open(*out.s, tap_cfg);
    if (!opened.tap) {
        std::cerr << program << ": " << opened.error << '\n';
        return 1;
    }
    out.tap = std::move(opened.tap);
    return 0;
}

mode_switcher::mode_switcher(stack& s, std::chrono::milliseconds every) {
    if (every.count() > 0) _thread = std::thread([this, &s, every] { run(s, every); });
}

mode_switcher::~mode_switcher() { (void)stop(); }

std::uint64_t mode_switcher::stop() {
    {
        std::lock_guard lock(_mutex);
        _stop = true;
    }
    _wake.notify_all();
    if (_thread.joinable()) _thread.join();
    return _switches;
}

void mode_switcher::run(stack& s, std::chrono::milliseconds every) {
    constexpr std::array k_modes = {threading_mode::message_passing, threading_mode::core_locking};
    for (std::size_t next = 0;; next = (next + 1) % k_modes.size()) {
        {
            std::unique_lock lock(_mutex);
            if (_wake.wait_for(lock, every, [&] { return _stop; })) return;
        }
        if (s.set_threading_mode(k_modes[next]) == err::ok &&
            s.set_input_mode(paired_input_mode(k_modes[next])) == err::ok) {
            std::lock_guard lock(_mutex);
            ++_switches;
        }
    }
}

std::chrono::steady_clock::time_point deadline_after(double seconds) {
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

void wait_for_end(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        pollfd in{STDIN_FILENO, POLLIN, 0};
        if (::poll(&in, 1, static_cast<int>(std::min<long>(left.count(), 200))) > 0) {
            char c[256];
            if (::read(STDIN_FILENO, c, sizeof c) <= 0) return;  // EOF (or stdin gone)
        }
    }
}

nlohmann::json detach_and_count(tap_stack& ts) {
    nlohmann::json out;
    if (ts.tap) {
        out["frames_received"] = ts.tap->frames_received();
        out["frames_sent"] = ts.tap->frames_sent();
        ts.tap.reset();  // before reading the counters: the ARP teardown counts too
    }
    const stack& s = *ts.s;
    const auto& st = s.st();
    out["threading_mode_at_end"] = to_string(s.get_threading_mode());
    out["eth_recv"] = st.eth_recv.get();
    out["arp_recv"] = st.arp_recv.get();
    out["arp_xmit"] = st.arp_xmit.get();
    out["icmp_recv"] = st.icmp_recv.get();
    out["icmp_xmit"] = st.icmp_xmit.get();
    out["udp_recv"] = st.udp_recv.get();
    out["tcp"] = {{"xmit", st.tcp_xmit.get()},         {"recv", st.tcp_recv.get()},
                  {"rexmit", st.tcp_rexmit.get()},     {"fast_rexmit", st.tcp_fast_rexmit.get()},
                  {"rto", st.tcp_rto.get()},           {"window_updates", st.tcp_window_updates.get()},
                  {"persist_probes", st.tcp_persist_probes.get()}};
    out["drops"] = nlohmann::json::object();
    for (const auto& [name, count] : st.drops_by_name()) out["drops"][name] = count;
    return out;
}

}  // namespace lwbench::tap_tool
