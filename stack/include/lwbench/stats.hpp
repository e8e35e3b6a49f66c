// stats.hpp — the stack's counters: traffic per layer, drops by reason, copies,
// allocations, and the tcpip thread's work.
//
// Two kinds of counter, chosen by who writes them:
//  - `core_counter`: written by one thread at a time — in core context (ordered by
//    the core lock / tcpip thread hand-off), or under the lock of the structure it
//    counts (the pbuf pools' counts, under each pool's lock) — so an increment is a
//    plain load+store of a relaxed atomic: no lock prefix on the hot path, yet
//    readable from any thread.
//  - `shared_counter`: written from any thread with no lock held (the heap fallback,
//    the socket layer's copies): a relaxed fetch_add.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

struct pbuf;

struct core_counter {
    std::atomic<std::uint64_t> v{0};
    void inc(std::uint64_t n = 1) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

struct shared_counter {
    std::atomic<std::uint64_t> v{0};
    void inc(std::uint64_t n = 1) noexcept { v.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

/// Why a packet was dropped. Every drop in the stack increments exactly one of these.
enum class drop_reason : std::uint8_t {
    ip_too_short,       ///< shorter than a minimal IPv4 header
    ip_bad_version,     ///< version != 4
    ip_bad_ihl,         ///< IHL < 5 or header longer than the buffer
    ip_bad_length,      ///< total length larger than the buffer or smaller than the header
    ip_bad_checksum,    ///< header checksum mismatch
    ip_fragment,        ///< fragments are not reassembled (yet): dropped
    ip_not_for_us,      ///< destination is none of our addresses (we do not forward)
    ip_unknown_proto,   ///< no handler for the protocol
    ip_header_split,    ///< IP+transport headers not contiguous in the first pbuf
    ip_netif_down,      ///< arrived on a netif that is down
    udp_too_short,      ///< shorter than a UDP header
    udp_bad_length,     ///< UDP length field disagrees with the IP payload
    udp_bad_checksum,   ///< checksum mismatch
    udp_no_port,        ///< no pcb bound to the destination port
    recv_queue_full,    ///< a netconn/socket receive mailbox was full
    input_queue_full,   ///< the tcpip mailbox (or its message pool) was full on input
    netif_queue_full,   ///< a netif's (loopback) transmit queue was full
    netif_removed,      ///< queued on a netif that was removed before delivery
    recv_closed,        ///< still queued in a receive mailbox when its netconn/socket was deleted
    eth_too_short,      ///< frame shorter than an Ethernet header
    eth_not_for_us,     ///< destination MAC neither ours nor broadcast
    eth_unknown_type,   ///< EtherType other than IPv4 and ARP
    arp_malformed,      ///< too short, or not Ethernet/IPv4 ARP
    arp_unknown_op,     ///< operation other than request and reply
    arp_queue_full,     ///< a resolving entry already held its k_etharp_queue_len packets
    arp_table_full,     ///< no free ARP entry (all resolving)
    arp_unresolved,     ///< held for an address that never answered (or the netif stopped)
    icmp_too_short,     ///< shorter than an ICMP echo header, or that header split across pbufs
    icmp_bad_checksum,  ///< ICMP checksum mismatch
    icmp_unsupported,   ///< a type we do not handle (only echo requests are answered)
    icmp_not_unicast,   ///< echo request to a broadcast address: not answered
    no_pbuf,            ///< pool exhausted: a received frame (driver) or an ICMP reply dropped
    link_rx_error,      ///< driver: read(2) failed, or a frame longer than the link's MTU
    link_tx_error,      ///< driver: write(2) failed or wrote a partial frame
    tcp_too_short,      ///< shorter than a TCP header
    tcp_bad_header_len, ///< data offset < 5 words or longer than the segment
    tcp_bad_checksum,   ///< checksum mismatch
    tcp_bad_options,    ///< malformed option list
    tcp_no_port,        ///< no pcb for the segment (answered with RST unless it was one)
    tcp_backlog_full,   ///< SYN to a listener whose backlog is full
    tcp_unacceptable,   ///< outside the receive window, or not valid in the pcb's state
    tcp_ooseq_full,     ///< out-of-order segment with no segment descriptor left
    dhcp_malformed,     ///< DHCP message refused by the wire view or the option parser
    dhcp_not_ours,      ///< DHCP reply no client of ours waits for (xid, hardware address, op)
    dhcp_unexpected,    ///< DHCP reply of a type the client's state does not expect, or missing a required option
    count_
};
inline constexpr std::size_t k_drop_reasons = static_cast<std::size_t>(drop_reason::count_);
const char* drop_reason_name(drop_reason r) noexcept;

struct stats {
    // pbufs (any thread): the pool counts change under their pool's lock
    core_counter pool_alloc, pool_free, pool_exhausted;
    core_counter ref_alloc, ref_free, ref_exhausted;
    shared_counter heap_alloc, heap_free;  ///< PBUF_RAM-style heap fallbacks
    shared_counter payload_copies;         ///< memcpy of payload bytes inside the stack (count of copies)
    shared_counter payload_copy_bytes;
    // traffic (core context)
    core_counter ip_xmit, ip_recv, udp_xmit, udp_recv, udp_delivered;
    core_counter eth_xmit, eth_recv, arp_xmit, arp_recv, icmp_xmit, icmp_recv;
    std::array<shared_counter, k_drop_reasons> drops;  ///< any thread (input may drop before the core)
    // where work ran (core context)
    core_counter tcpip_msgs_api, tcpip_msgs_input, tcpip_msgs_callback, tcpip_msgs_timer;
    core_counter api_calls_locked;  ///< API messages run inline under the core lock
    /// combining mode, one per call by how it was served: run by the calling thread
    /// itself as the core holder (`_self`), or by another thread holding the core
    /// (`_other`: the caller never took the lock). Inputs published by a driver thread
    /// (combining input) are counted apart from API calls.
    core_counter api_calls_combined_self, api_calls_combined_other;
    core_counter inputs_combined_self, inputs_combined_other;
    // TCP (core context): segments sent (retransmissions included) and received,
    // retransmissions by cause, window updates and zero-window probes sent
    core_counter tcp_xmit, tcp_recv, tcp_rexmit, tcp_fast_rexmit, tcp_rto, tcp_window_updates,
        tcp_persist_probes;
    // netconn over TCP: window-update API calls (netconn_tcp_recvd, core context) and
    // writes that waited for send space with the core released (the writer's thread)
    core_counter tcp_recvd_calls;
    shared_counter tcp_write_waits;
    // DHCP (core context): client messages sent and replies accepted by a client
    core_counter dhcp_xmit, dhcp_recv;

    void drop(drop_reason r) noexcept { drops[static_cast<std::size_t>(r)].inc(); }
    /// Counts the drop and frees the dropped packet (pbuf.cpp): the one step every
    /// input path takes for a packet it refuses.
    void drop(drop_reason r, pbuf* p);
    [[nodiscard]] std::uint64_t dropped(drop_reason r) const noexcept {
        return drops[static_cast<std::size_t>(r)].get();
    }
    [[nodiscard]] std::uint64_t dropped_total() const noexcept;
    /// API messages run, whichever way the mode ran them: posted to the tcpip thread,
    /// inline under the core lock, or combined (by the caller or another holder).
    [[nodiscard]] std::uint64_t api_messages() const noexcept {
        return tcpip_msgs_api.get() + api_calls_locked.get() + api_calls_combined_self.get() +
               api_calls_combined_other.get();
    }
    /// Non-zero drop counters by name.
    [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> drops_by_name() const;
};

LWBENCH_NS_END
