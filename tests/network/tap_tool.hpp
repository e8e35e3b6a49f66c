// tap_tool.hpp — what the helper programs of tests/network (lwbench_tap_udp_echo,
// lwbench_tap_iperf3_server, …) share: the flags that build our stack on a TAP, opening
// it, the live threading-mode switcher, the bounded "run until stdin closes or
// --seconds pass", and the stack's counters as JSON. Each program keeps only its own
// protocol; these facts live here once.
//
// Context: every function here is for the program's application threads, never core
// context.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "lwbench/tap_netif.hpp"
#include "lwbench/tcpip.hpp"

namespace lwbench::tap_tool {

/// The flags of every helper program (defaults: the topology of scripts/netns.sh).
struct stack_options {
    std::string ifname = "lwbtap0";
    std::string ip = "192.0.2.2";
    std::string netmask = "255.255.255.0";
    std::string mode = "core_locking";  ///< a threading_mode name
    std::string input = "auto";         ///< an input_mode name, or auto: paired_input_mode(mode)
    double seconds = 30;                ///< the program stops by itself after this long at most
    unsigned switch_every_ms = 0;       ///< switch the threading mode live every this many ms (0: never)
};

/// Registers --ifname, --ip, --netmask, --mode (also spelt --threading), --input-mode
/// (also --input), --seconds and --switch-every on `app`, with `opt`'s values as defaults.
void add_stack_options(CLI::App& app, stack_options& opt);

/// Parses the command line: nullopt to go on, or the exit status to end with now (0
/// after --help; 2 after printing what is wrong with a flag).
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv);

/// Our stack with its TAP netif (declared in this order: the netif goes first).
struct tap_stack {
    std::unique_ptr<stack> s;
    std::unique_ptr<tap_netif> tap;
};

/// Builds the stack from `opt` and attaches it to the TAP. Returns 0, or the exit
/// status the program should end with after printing the reason on stderr (prefixed
/// by `program`): 2 for a bad flag value (mode, address), 1 if the device cannot be
/// opened.
int open_tap_stack(const stack_options& opt, const char* program, tap_stack& out);

/// Switches a live stack between message passing and core locking (and the paired
/// input mode with each) every `every` on its own thread, while traffic flows; with a
/// zero period it does nothing. Destroying it stops it.
class mode_switcher {
public:
    mode_switcher(stack& s, std::chrono::milliseconds every);
    ~mode_switcher();
    mode_switcher(const mode_switcher&) = delete;
    mode_switcher& operator=(const mode_switcher&) = delete;
    /// Stops the thread (within one switch) and returns how many switches succeeded.
    std::uint64_t stop();

private:
    void run(stack& s, std::chrono::milliseconds every);

    std::mutex _mutex;
    std::condition_variable _wake;
    bool _stop = false;
    std::uint64_t _switches = 0;
    std::thread _thread;
};

/// Now plus `seconds`.
std::chrono::steady_clock::time_point deadline_after(double seconds);

/// Waits until stdin reaches end of file or `deadline` passes (whichever is first).
void wait_for_end(std::chrono::steady_clock::time_point deadline);

/// Detaches the netif (stops its driver thread; the ARP teardown is counted too) and
/// returns the counters of the run: frames the TAP received and sent, the stack's
/// traffic counters (Ethernet, ARP, ICMP, UDP, TCP), the threading mode it ended in,
/// and its drops by reason ("drops": name -> count). The stack stays alive.
nlohmann::json detach_and_count(tap_stack& ts);

}  // namespace lwbench::tap_tool
