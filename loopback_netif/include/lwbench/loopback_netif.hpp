// loopback_netif.hpp — a zero-copy loopback netif.
//
// Rationale. lwIP's loopback (netif_loop_output) copies every outgoing packet into
// a new pbuf and queues the copy. Ours queues the *same* pbuf chain: output takes
// one reference (pbuf_ref) and the receiver ends up holding the sender's buffer, so
// a datagram crosses the stack with 0 payload copies (the stack's copy counter
// proves it). The one exception: a chain that references volatile caller memory
// (valid only during the send call) is cloned first, and that copy is counted.
//
// Delivery is deferred, never recursive: output only queues and asks the stack for
// a poll (stack::request_poll); the queue is delivered through stack::input() when
// the current core operation ends — so the input mode decides whether the packets
// go through the tcpip mailbox or are processed right there under the core lock.
// The queue is bounded: when it is full, output drops the packet, counts it
// (drop_reason::netif_queue_full) and returns err::mem; it never blocks the core and
// never grows.
//
// Threading: output, poll and removal all run in core context, so the queue needs
// no lock of its own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lwbench/netif.hpp"
#include "lwbench/pcap_writer.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

struct loopback_config {
    std::string name = "lo";
    ip4_addr ip = ip4_addr::from_octets(127, 0, 0, 1);
    ip4_addr netmask = ip4_addr::from_octets(255, 0, 0, 0);
    std::uint16_t mtu = 1500;
    std::size_t queue_len = 256;  ///< packets queued between output and delivery
    std::string pcap_path;        ///< if set, every packet carried is also written there
    /// If set, called for every packet output, in core context, before the packet is
    /// queued: a measurement hook (the harness's added core work per send, core_work.hpp).
    /// It must not call back into the stack.
    void (*on_output)(void* arg) = nullptr;
    void* on_output_arg = nullptr;
};

class loopback_netif {
public:
    /// Creates the netif and adds it to `s`, up, through the dispatcher. Not core context.
    /// err() tells whether adding worked and whether the pcap file could be opened.
    loopback_netif(stack& s, const loopback_config& cfg = {});
    /// Removes itself from the stack (if still attached) and frees queued packets.
    /// Not core context; before the stack is destroyed.
    ~loopback_netif();
    loopback_netif(const loopback_netif&) = delete;
    loopback_netif& operator=(const loopback_netif&) = delete;

    /// The netif, to name it in calls (netifapi_get reads its address thread-safely;
    /// its fields belong to the stack's core once added).
    netif& nif() noexcept { return _netif; }
    [[nodiscard]] err status() const noexcept { return _status; }
    /// Counters (core context writes; relaxed reads from anywhere).
    [[nodiscard]] std::uint64_t transmitted() const noexcept { return _tx.get(); }
    [[nodiscard]] std::uint64_t delivered() const noexcept { return _rx.get(); }
    [[nodiscard]] std::uint64_t queue_drops() const noexcept { return _drops.get(); }
    [[nodiscard]] std::uint64_t volatile_clones() const noexcept { return _clones.get(); }
    /// Flushes the pcap file (if any); call from core context or when traffic is idle.
    void flush_pcap();

private:
    static err output(netif* n, pbuf* p, ip4_addr next_hop);
    static void poll(netif* n);
    static void on_remove(netif* n);
    void drop_queue();

    stack& _s;
    netif _netif;
    std::vector<pbuf*> _ring;
    std::size_t _head = 0, _count = 0;
    std::unique_ptr<pcap_writer> _pcap;
    void (*_on_output)(void*);
    void* _on_output_arg;
    err _status = err::ok;
    core_counter _tx, _rx, _drops, _clones;
};

LWBENCH_NS_END
