// tap_dhcp_client.cpp — lwbench's stack on a TAP link with no address of its own: its
// DHCP client (stack/src/core/dhcp.cpp) asks the server on the kernel's side
// (dnsmasq, started by scripts/netns.sh dhcp-start) for one. Answers ARP and ping once
// leased, like any netif.
//
// Run it inside the namespace that holds the TAP (scripts/netns.sh exec). It starts the
// client, prints "ready", then answers one command per stdin line with one JSON line on
// stdout, until stdin reaches end of file or --seconds pass (it always stops by itself):
//   status   the client's state, lease and counters, and the stack's drops by reason
//   release  netifapi_dhcp_release (RELEASE to the server; the client stops), then status
//   start    netifapi_dhcp_start (a new discovery), then status
// Every call goes through netifapi_dhcp_* from this (application) thread. At the end it
// prints the final status and exits 0. Bad flags: a message and exit 2; a device that
// cannot be opened or a client that cannot start: a message and exit 1.
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "lwbench/dhcp.hpp"
#include "lwbench/tap_netif.hpp"
#include "lwbench/tcpip.hpp"

namespace lw = lwbench;

namespace {

nlohmann::json status_json(lw::stack& s, lw::netif* n) {
    nlohmann::json out;
    auto got = lw::netifapi_dhcp_get(s, n);
    if (!got.ok()) {
        out["error"] = lw::err_name(got.error());
        return out;
    }
    const lw::dhcp_status& st = got.value();
    out["state"] = lw::to_string(st.state);
    out["ip"] = st.lease.ip.to_string();
    out["server"] = st.lease.server.to_string();
    out["lease_s"] = st.lease.lease_s;
    out["xid"] = st.xid;
    const auto& c = st.counters;
    out["counters"] = {{"discovers", c.discovers}, {"requests", c.requests}, {"retransmissions", c.retransmissions},
                       {"offers", c.offers},       {"acks", c.acks},         {"naks", c.naks},
                       {"leases", c.leases},       {"renewals", c.renewals}, {"rebinds", c.rebinds},
                       {"expiries", c.expiries},   {"releases", c.releases}, {"send_errors", c.send_errors}};
    if (auto nif = lw::netifapi_get(s, n); nif.ok()) out["netif_ip"] = nif->ip.to_string();
    out["icmp_xmit"] = s.st().icmp_xmit.get();
    out["dhcp_xmit"] = s.st().dhcp_xmit.get();
    out["dhcp_recv"] = s.st().dhcp_recv.get();
    out["drops"] = nlohmann::json::object();
    for (const auto& [name, count] : s.st().drops_by_name()) out["drops"][name] = count;
    return out;
}

/// Reads one line from stdin, waiting until `deadline` at most; nullopt at EOF or deadline.
std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline) {
    std::string line;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd in{STDIN_FILENO, POLLIN, 0};
        if (::poll(&in, 1, static_cast<int>(std::min<long>(left.count(), 200))) <= 0) continue;
        char c;
        if (::read(STDIN_FILENO, &c, 1) != 1) return std::nullopt;
        if (c == '\n') return line;
        line.push_back(c);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string ifname = "lwbtap0", threading = "core_locking";
    std::uint32_t divisor = 1;
    double seconds = 120;
    CLI::App app{"lwbench's stack on a TAP link, addressed by its DHCP client (issue 15 tests)"};
    app.add_option("--ifname", ifname, "TAP device to attach to")->capture_default_str();
    app.add_option("--threading", threading, "message_passing | core_locking (input: the paired mode)")
        ->capture_default_str();
    app.add_option("--time-divisor", divisor, "the client's clock runs this many times fast (dhcp_config)")
        ->capture_default_str()
        ->check(CLI::Range(1u, lw::k_dhcp_max_time_divisor));
    app.add_option("--seconds", seconds, "stop after this long at most")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    const auto mode = lw::parse_threading_mode(threading);
    if (!mode) {
        std::cerr << "tap_dhcp_client: bad --threading '" << threading << "'\n";
        return 2;
    }
    lw::stack_config cfg;
    cfg.mode = *mode;
    cfg.input = lw::paired_input_mode(*mode);
    lw::stack s(cfg);
    lw::tap_config tap_cfg;
    tap_cfg.ifname = ifname;  // no address: DHCP gives one
    auto opened = lw::tap_netif::open(s, tap_cfg);
    if (!opened.tap) {
        std::cerr << "tap_dhcp_client: " << opened.error << '\n';
        return 1;
    }
    lw::netif* n = opened.tap->get();
    lw::dhcp_config dhcp_cfg;
    dhcp_cfg.time_divisor = divisor;
    dhcp_cfg.tick = std::chrono::milliseconds(divisor > 1 ? 10 : 250);
    if (const lw::err e = lw::netifapi_dhcp_start(s, n, dhcp_cfg); e != lw::err::ok) {
        std::cerr << "tap_dhcp_client: dhcp_start: " << lw::err_name(e) << '\n';
        return 1;
    }
    std::cout << "ready" << std::endl;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(seconds));
    while (const auto line = read_line(deadline)) {
        nlohmann::json out;
        if (*line == "release") {
            const lw::err e = lw::netifapi_dhcp_release(s, n);
            out = status_json(s, n);
            out["result"] = lw::err_name(e);
        } else if (*line == "start") {
            const lw::err e = lw::netifapi_dhcp_start(s, n, dhcp_cfg);
            out = status_json(s, n);
            out["result"] = lw::err_name(e);
        } else if (*line == "status") {
            out = status_json(s, n);
        } else {
            out["error"] = "unknown command '" + *line + "' (status, release, start)";
        }
        std::cout << out.dump() << std::endl;
    }
    auto final_status = status_json(s, n);
    final_status["frames_received"] = opened.tap->frames_received();
    final_status["frames_sent"] = opened.tap->frames_sent();
    opened.tap.reset();  // removes the netif: stops the client
    std::cout << final_status.dump() << std::endl;
    return 0;
}
