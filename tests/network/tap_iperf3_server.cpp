// tap_iperf3_server.cpp — lwbench's stack on a TAP link as an iperf3 server
// (iperf3_server.hpp): the kernel's iperf3 client in the namespace measures our TCP
// through the socket API, in the threading and input mode given (--mode,
// --input-mode), with a live mode switch if asked (--switch-every). Answers ARP and
// ping like every netif.
//
// Run it inside the namespace that holds the TAP (scripts/netns.sh exec). It prints
// "ready" on stdout once the netif is up and port --port listens, serves iperf3 tests
// one after the other until stdin reaches end of file or --seconds pass (it always
// stops by itself; a test under way then is aborted), then prints one JSON object:
// one record per test (iperf3_server.hpp), the mode switches, the stack's counters
// and its drops by reason; exit 0. Bad flags: a message and exit 2; a device that
// cannot be opened or a port that cannot listen: a message and exit 1.
#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "iperf3_server.hpp"
#include "tap_tool.hpp"

namespace lw = lwbench;

int main(int argc, char** argv) {
    lw::tap_tool::stack_options opt;
    opt.seconds = 60;
    std::uint16_t port = lw::iperf3::k_default_port;
    CLI::App app{"lwbench's stack on a TAP link as an iperf3 server (TCP; issue 15 tests)"};
    lw::tap_tool::add_stack_options(app, opt);
    app.add_option("--port", port, "TCP port of the iperf3 server")->capture_default_str()->check(CLI::Range(1, 65535));
    if (const auto status = lw::tap_tool::parse_flags(app, argc, argv)) return *status;
    lw::tap_tool::tap_stack ts;
    if (const int status = lw::tap_tool::open_tap_stack(opt, "tap_iperf3_server", ts); status != 0) return status;
    nlohmann::json out;
    {
        lw::iperf3::server server(*ts.s);
        std::string error;
        if (!server.listen(port, error)) {
            std::cerr << "tap_iperf3_server: " << error << '\n';
            return 1;
        }
        const auto deadline = lw::tap_tool::deadline_after(opt.seconds);
        std::atomic<bool> stop{false};
        std::thread serving([&] { server.serve(stop); });
        std::uint64_t switches = 0;
        {
            lw::tap_tool::mode_switcher switcher(*ts.s, std::chrono::milliseconds(opt.switch_every_ms));
            std::cout << "ready" << std::endl;
            lw::tap_tool::wait_for_end(deadline);
            switches = switcher.stop();
        }
        stop = true;
        serving.join();  // bounded: serve() rechecks `stop` every k_poll
        out["tests"] = server.results();
        out["mode_switches"] = switches;
    }  // the listener is closed before the netif goes
    out.update(lw::tap_tool::detach_and_count(ts));
    std::cout << out.dump() << std::endl;
    return 0;
}
