// tap_netif.hpp — an Ethernet netif over a Linux TAP device (/dev/net/tun with
// IFF_TAP | IFF_NO_PI): the Linux kernel on the other side of the link is a real peer.
//
// Threads. A driver receive thread reads frames and hands each to stack::input, so the
// stack's input mode decides what happens next — posted to the tcpip mailbox, or
// processed inline on this very thread under the core lock (lwIP's tcpip_input vs
// LWIP_TCPIP_CORE_LOCKING_INPUT). Transmit runs in core context (link_output) and
// writes the frame with writev(2).
//
// Copies. The TAP character device offers no zero-copy path: each received frame is
// copied once by the kernel, read(2) straight into a pool pbuf (the stack copies
// nothing after that); each sent frame is copied once by the kernel, writev(2) over
// the pbuf chain as it is (no gathering copy in the driver). Zero copy would need
// another kernel interface (AF_XDP, vhost-net), not this one.
//
// Drops, all counted in the stack's stats: pool exhausted (the frame is read into a
// scratch buffer and discarded: no_pbuf), read errors and frames longer than the MTU
// (link_rx_error), failed or partial writes (link_tx_error); whatever stack::input
// drops it counts itself (input_queue_full, …).
//
// Lifetime. open() adds the netif (up, ARP started, a gratuitous ARP sent) and starts
// the receive thread; the destructor stops that thread (an eventfd wakes its poll;
// the poll also times out every k_rx_poll_timeout, so the thread never waits
// unboundedly), removes the netif and closes the device. Destroy it from an
// application thread (not core context) before its stack.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "lwbench/ethernet.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/netif.hpp"

LWBENCH_NS_BEGIN

class stack;

struct tap_config {
    /// An existing TAP device to attach to (scripts/netns.sh makes one), or a new one.
    std::string ifname = "lwbtap0";
    /// The network namespace (`ip netns add` name) that holds the device, entered only
    /// to attach to it (netns.hpp); empty: the caller's own namespace.
    std::string netns;
    /// Our MAC: locally administered (02:…) by default.
    wire::mac_addr hwaddr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
    ip4_addr ip, netmask, gw;
};

class tap_netif;
/// What open() gives: the netif, or why there is none.
struct tap_open_result {
    std::unique_ptr<tap_netif> tap;
    std::string error;  ///< empty on success
};

class tap_netif {
public:
    /// The receive thread's poll timeout: the most it waits before rechecking.
    static constexpr std::chrono::milliseconds k_rx_poll_timeout{500};
    /// Frames read per wake-up at most, so a flood cannot keep the thread from its stop check.
    static constexpr int k_rx_batch = 64;

    /// Opens cfg.ifname, adds the netif to s and starts the receive thread. On failure
    /// nothing is left open or added, and `error` says what failed (with errno's text).
    /// Not core context.
    static tap_open_result open(stack& s, const tap_config& cfg);
    /// Stops the receive thread, removes the netif, closes the device. Not core context.
    ~tap_netif();
    tap_netif(const tap_netif&) = delete;
    tap_netif& operator=(const tap_netif&) = delete;

    /// The netif (for raw-API users; its fields are core state, see netif.hpp).
    [[nodiscard]] netif* get() noexcept { return &_netif; }
    /// Frames handed to stack::input / written whole. Any thread (relaxed).
    [[nodiscard]] std::uint64_t frames_received() const noexcept { return _received.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t frames_sent() const noexcept { return _sent.load(std::memory_order_relaxed); }

private:
    tap_netif(stack& s, int fd, int stop_fd);
    static err link_output(netif* n, pbuf* p);
    void receive_main();
    /// Reads one frame if one is waiting; false when none was (or on an error).
    bool receive_one();

    stack& _s;
    int _fd;       ///< the TAP device
    int _stop_fd;  ///< eventfd: written once to stop the receive thread
    netif _netif;
    ethernet_link _link;
    std::atomic<std::uint64_t> _received{0}, _sent{0};
    std::thread _rx;
};

LWBENCH_NS_END
