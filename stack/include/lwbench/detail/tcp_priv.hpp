// detail/tcp_priv.hpp — TCP internals shared by tcp.cpp, tcp_in.cpp and tcp_out.cpp:
// the per-stack TCP core (pools, lists, clock, timer), segment descriptors, pcb flags,
// and the functions one file offers the others. Core context only. Not public API.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "lwbench/tcp.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

/// One queued segment: on a pcb's unsent, unacked or ooseq list.
/// Invariant: `len` == data->tot_len (0 when data is null); the sequence space it
/// occupies is len + SYN + FIN. Sent segments are never modified except by trimming
/// acknowledged bytes off the front.
struct tcp_seg {
    tcp_seg* next = nullptr;
    pbuf* data = nullptr;    ///< payload chain (pool pbufs for copies, ref pbufs for no-copy writes)
    std::uint32_t seq = 0;
    std::uint32_t len = 0;   ///< payload bytes
    std::uint8_t flags = 0;  ///< wire::tcp_flag SYN / FIN / PSH
    bool copied = false;     ///< data is pool pbufs this segment owns and may still append to
    bool sent = false;       ///< transmitted at least once (Karn: a resend is never timed)
    [[nodiscard]] std::uint32_t seq_len() const noexcept;
};

namespace detail {

namespace pcb_flag {
inline constexpr std::uint16_t ack_delay = 0x0001;   ///< an ACK is owed (delayed)
inline constexpr std::uint16_t ack_now = 0x0002;     ///< an ACK must go out now
inline constexpr std::uint16_t nodelay = 0x0004;     ///< Nagle off
inline constexpr std::uint16_t fin_queued = 0x0008;  ///< our FIN is queued: no more writes
inline constexpr std::uint16_t rx_shut = 0x0010;     ///< receive side shut: data is dropped
inline constexpr std::uint16_t in_recovery = 0x0020; ///< NewReno fast recovery
inline constexpr std::uint16_t app_closed = 0x0040;  ///< tcp_close called: the stack owns the pcb
inline constexpr std::uint16_t output_retry = 0x0080;///< an output failed (no pbuf): retry on the timer
}  // namespace pcb_flag

enum class pcb_list : std::uint8_t { none, bound, listen, active };

/// TCP's state in one stack. Created by the first TCP call; freed with the stack.
struct tcp_core {
    tcp_core(stack& st, const tcp_config& c);
    ~tcp_core();
    tcp_core(const tcp_core&) = delete;
    tcp_core& operator=(const tcp_core&) = delete;

    stack& s;
    tcp_config cfg;
    std::vector<tcp_pcb> pcb_storage;
    std::vector<tcp_seg> seg_storage;
    tcp_pcb* free_pcbs = nullptr;
    tcp_seg* free_segs = nullptr;
    std::size_t pcbs_in_use = 0, segs_available = 0;
    tcp_pcb* bound = nullptr;   ///< closed but bound
    tcp_pcb* listening = nullptr;
    tcp_pcb* active = nullptr;  ///< SYN_SENT .. TIME_WAIT
    int timer_id = 0;           ///< 0: the cyclic timer is not registered
    std::uint32_t isn_key = 0;
    std::chrono::steady_clock::time_point epoch;  ///< of now_us
    std::uint64_t epoch_ms = 0;                   ///< of now_ms (the coarse clock)
    std::uint32_t clock_resolution_ms = 0;        ///< of now_ms

    /// Milliseconds since the core was made, for timer deadlines, from the coarse
    /// monotonic clock — what the kernel's own TCP timers use (jiffies): a few ns to
    /// read instead of tens, which matters because every ACK restarts the
    /// retransmission timer and every other segment arms the delayed ACK. It lags
    /// real time by up to clock_resolution_ms (one scheduler tick). Never 0 (0 means
    /// "timer off" in the pcb deadlines).
    [[nodiscard]] std::uint64_t now_ms() const noexcept;
    /// The deadline `ms` from now: now_ms() + ms + clock_resolution_ms, so that a
    /// timer never fires early although now_ms() lags (it may fire up to two
    /// resolutions plus one timer tick late).
    [[nodiscard]] std::uint64_t deadline_ms(std::uint32_t ms) const noexcept;
    /// Microseconds since the core was made, from the precise clock: RTT samples, ISNs.
    [[nodiscard]] std::int64_t now_us() const noexcept;
    tcp_seg* seg_alloc() noexcept;
    void seg_free(tcp_seg* seg) noexcept;  ///< frees its data too
    void free_list(tcp_seg* list) noexcept;  ///< seg_free on every segment of a list
};

/// The stack's TCP core, created on first use.
tcp_core& tcp_core_of(stack& s);

// ---- tcp.cpp -----------------------------------------------------------------------
void pcb_link(tcp_pcb* pcb, pcb_list to);
/// Unlinks and returns the pcb to the pool (frees its queues, fixes the listener's backlog).
void pcb_free(tcp_pcb* pcb);
/// Frees the pcb and reports `why` to its err callback (after the free).
void pcb_fail(tcp_pcb* pcb, err why);
/// The connection ended normally (TIME_WAIT over, our FIN acked in LAST_ACK, RST in a
/// closing state): frees the pcb if the stack owns it (tcp_close was called, or a
/// listener's child not yet accepted); otherwise it stays the application's, in state
/// closed and off every list, until tcp_close.
void pcb_finish(tcp_pcb* pcb);
std::uint32_t new_isn(tcp_core& core, const tcp_pcb* pcb);
/// Starts the cyclic timer if it is not running.
void timer_needed(tcp_core& core);
/// Effective MSS towards the peer: min(our MSS, the peer's, MTU - 40).
std::uint16_t effective_mss(tcp_core& core, const tcp_pcb* pcb, std::uint16_t peer_mss);
/// Enters TIME_WAIT (starts 2*MSL, stops the retransmission timers).
void enter_time_wait(tcp_pcb* pcb);
/// RFC 6298: a new RTT sample (microseconds).
void rtt_sample(tcp_pcb* pcb, std::int64_t rtt_us);
/// Restarts the retransmission timer with the current RTO (or stops it when nothing
/// is in flight).
void rto_restart(tcp_pcb* pcb);

// ---- tcp_out.cpp ---------------------------------------------------------------------
/// Queues SYN or FIN as a segment (FIN joins the last unsent segment when it can).
err enqueue_flags(tcp_pcb* pcb, std::uint8_t flags);
/// Sends a header-only segment <SEQ=snd_max><ACK=rcv_nxt><ACK> (clears the owed ACK).
err send_empty_ack(tcp_pcb* pcb);
/// Sends RST: <SEQ=seq><ACK=ack><RST (+ACK if with_ack)> from local to remote.
void send_rst(stack& s, std::uint32_t seq, std::uint32_t ack, bool with_ack, ip4_addr local, ip4_addr remote,
              std::uint16_t local_port, std::uint16_t remote_port);
/// Resends the oldest unacknowledged segment (fast retransmit, NewReno partial ACK).
void rexmit_first(tcp_pcb* pcb);
/// Retransmission timeout: every unacked segment goes back to the front of unsent.
void rexmit_all(tcp_pcb* pcb);
/// Zero-window probe <SEQ=snd_una-1><ACK=rcv_nxt>: the peer answers with its window.
void send_window_probe(tcp_pcb* pcb);
/// The window to announce now (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
std::uint16_t announce_window(tcp_pcb* pcb);

}  // namespace detail
LWBENCH_NS_END
