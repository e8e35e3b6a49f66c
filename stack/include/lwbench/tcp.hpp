// tcp.hpp — TCP protocol control blocks and the raw TCP API (lwIP's tcp_*), RFC 9293.
//
// Threading: every function here runs in core context only — inside a tcpip-thread
// callback or while holding the core lock (core_guard). They never lock by
// themselves; debug and sanitizer builds assert it (assert_core_context). Every
// callback below also runs in core context and may call this API.
//
// Ownership: pcbs come from a pool preallocated per stack (tcp_config::max_pcbs),
// never from the heap per connection. A pcb belongs to the application from tcp_new
// (or the accept callback) until tcp_close or tcp_abort; after tcp_close the stack
// owns it (it finishes the close, then frees it) and calls no callback any more.
// A connection that ends normally before tcp_close (both FINs exchanged) leaves the
// pcb in state closed until the application closes it. When the stack frees a pcb
// by itself on failure (reset, retransmission timeout) it calls the err callback
// afterwards: the pcb is gone by then.
//
// Callbacks that return err: returning err::abrt means "I called tcp_abort on this
// pcb" — the stack then never touches it again. Any other value is as err::ok,
// except for the accept callback (below).
//
// The files: tcp.cpp (pcbs, the API, timers), tcp_in.cpp (segment input and the
// state machine), tcp_out.cpp (segment queues and output); shared internals live in
// lwbench/detail/tcp_priv.hpp.
#pragma once

#include <cstdint>

#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct netif;
struct tcp_pcb;
struct tcp_seg;

/// RFC 9293 connection states.
enum class tcp_state : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_rcvd,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};
/// "closed", "listen", … ("unknown" for a value out of range), never null.
const char* tcp_state_name(tcp_state s) noexcept;

// ---- sequence numbers: modulo-2^32 comparisons (RFC 9293 3.4) ------------------------
/// a < b in sequence space (a lies less than 2^31 before b).
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) < 0; }
constexpr bool seq_leq(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) <= 0; }
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) > 0; }
constexpr bool seq_geq(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b) >= 0; }
/// lo <= a <= hi in sequence space.
constexpr bool seq_between(std::uint32_t a, std::uint32_t lo, std::uint32_t hi) noexcept {
    return a - lo <= hi - lo;
}

// ---- callbacks -------------------------------------------------------------------------
/// A connection was established on a listening pcb: `newpcb` is the application's
/// from now on (its arg starts as the listener's). Return err::ok to keep it; any
/// other value refuses it (the stack aborts it), err::abrt if you aborted it yourself.
using tcp_accept_fn = err (*)(void* arg, tcp_pcb* newpcb, err e);
/// An active open completed (SYN acknowledged).
using tcp_connected_fn = err (*)(void* arg, tcp_pcb* pcb, err e);
/// In-order data arrived: takes ownership of p (pbuf_free it, now or later) and calls
/// tcp_recved(pcb, n) once it has consumed n bytes, which reopens the receive window.
/// p == nullptr: the peer closed its sending side (end of stream). Without a recv
/// callback the stack frees the data and reopens the window itself.
using tcp_recv_fn = err (*)(void* arg, tcp_pcb* pcb, pbuf* p, err e);
/// `len` more bytes of sent data were acknowledged (send buffer space came back).
using tcp_sent_fn = err (*)(void* arg, tcp_pcb* pcb, std::uint32_t len);
/// The stack freed the pcb: err::rst (reset by the peer, or connection refused),
/// err::timeout (retransmissions exhausted), err::abrt (tcp_abort or stack shutdown).
using tcp_err_fn = void (*)(void* arg, err e);
/// The initial sequence number for a new connection (tests use it to start near 2^32).
using tcp_isn_fn = std::uint32_t (*)(void* arg);

// ---- configuration (per stack) -----------------------------------------------------------
struct tcp_config {
    std::uint16_t mss = 1460;         ///< our MSS (clamped to the netif MTU - 40)
    std::uint16_t wnd = 0xffff;       ///< receive buffer per connection (no window scaling)
    std::uint32_t snd_buf = 0xffff;   ///< send buffer per connection, bytes
    std::uint32_t tick_ms = 20;       ///< period of the TCP timer (lwIP's tcp_tmr)
    std::uint32_t delack_ms = 40;     ///< delayed-ACK limit (RFC 9293 3.8.6.3: < 500 ms)
    std::uint32_t initial_rto_ms = 1000;  ///< RFC 6298 (2.1)
    std::uint32_t min_rto_ms = 1000;      ///< RFC 6298 (2.4); tests lower it
    std::uint32_t max_rto_ms = 60000;     ///< RFC 6298 (2.5)
    std::uint32_t time_wait_ms = 60000;   ///< 2 * MSL
    std::uint8_t max_retries = 12;        ///< retransmissions of one segment, or unanswered window probes, before err::timeout
    std::uint8_t syn_retries = 6;         ///< SYN / SYN-ACK retransmissions before err::timeout
    std::size_t max_pcbs = 64;            ///< pcb pool size
    std::size_t max_segs = 2048;          ///< segment descriptors (send queues + out-of-order)
    tcp_isn_fn isn = nullptr;             ///< null: RFC 6528 clock + keyed hash of the 4-tuple
    void* isn_arg = nullptr;
};

/// Sets the TCP configuration of `s`. Only while no pcb exists (the pools are sized
/// from it): err::use otherwise.
err tcp_configure(stack& s, const tcp_config& cfg);
/// The configuration in use.
const tcp_config& tcp_get_config(stack& s);

// ---- the pcb -------------------------------------------------------------------------------
namespace tcp_write_flags {
inline constexpr std::uint8_t copy = 0x01;  ///< copy the data into pool pbufs (else reference it)
inline constexpr std::uint8_t more = 0x02;  ///< more data follows: do not set PSH
}  // namespace tcp_write_flags

/// The fields are core state: read them in core context; change them only through
/// this API. Sequence variables follow RFC 9293 3.3.1.
struct tcp_pcb {
    stack* owner = nullptr;
    tcp_pcb* next = nullptr;  ///< in the core's bound, listen or active list
    tcp_state state = tcp_state::closed;
    std::uint16_t flags = 0;  ///< detail::pcb_flag bits
    std::uint8_t list = 0;    ///< which core list holds it (detail::pcb_list)
    ip4_addr local_ip, remote_ip;
    std::uint16_t local_port = 0, remote_port = 0;
    std::uint8_t ttl = 64, tos = 0;

    // listen: backlog counts children from their SYN until the accept callback took them
    tcp_pcb* listener = nullptr;  ///< passive children: the listening pcb (null when active)
    std::uint8_t backlog = 0, backlog_pending = 0;

    // receive sequence space
    std::uint32_t irs = 0, rcv_nxt = 0;
    std::uint32_t rcv_wnd = 0;         ///< free receive buffer (bytes not yet tcp_recved)
    std::uint32_t rcv_ann_right = 0;   ///< right edge of the window we announced (never moves left)
    tcp_seg* ooseq = nullptr;          ///< out-of-order segments, sorted by seq

    // send sequence space; invariant snd_una <= snd_nxt <= snd_max <= snd_lbb. snd_max
    // is RFC 9293's SND.NXT; snd_nxt is where sending resumes, which a retransmission
    // timeout moves back to snd_una (go-back-N).
    std::uint32_t iss = 0, snd_una = 0, snd_nxt = 0;
    std::uint32_t snd_max = 0;  ///< highest sequence sent so far (+1)
    std::uint32_t snd_lbb = 0;  ///< next sequence number to queue (after the last byte written)
    std::uint32_t snd_wl1 = 0, snd_wl2 = 0;
    std::uint32_t snd_wnd = 0;  ///< the peer's window
    std::uint16_t mss = 536;    ///< effective send MSS (RFC 9293 3.7.1 default until the peer's MSS option)
    std::uint32_t snd_buf = 0;  ///< free send buffer, bytes
    tcp_seg* unsent = nullptr;  ///< queued, not (or, after a timeout, no longer) in flight
    tcp_seg* unsent_tail = nullptr;
    tcp_seg* unacked = nullptr;  ///< in flight, sorted by seq
    tcp_seg* unacked_tail = nullptr;

    // congestion control (RFC 5681, NewReno RFC 6582)
    std::uint32_t cwnd = 0, ssthresh = 0xffffffffu, recover = 0;
    std::uint8_t dupacks = 0;

    // retransmission (RFC 6298); times in microseconds / milliseconds
    std::int64_t srtt_us = -1, rttvar_us = 0;  ///< srtt_us < 0: no sample yet
    std::uint32_t rto_ms = 1000;
    std::uint32_t rtt_seq = 0;     ///< the timed segment's sequence number (Karn)
    std::int64_t rtt_start_us = -1;  ///< < 0: nothing timed
    std::uint8_t nrtx = 0;         ///< consecutive timeouts of the oldest segment, or unanswered window probes
    // timer deadlines (core clock, ms; 0 = off)
    std::uint64_t rto_due = 0, persist_due = 0, delack_due = 0, time_wait_due = 0;
    std::uint32_t persist_backoff_ms = 0;

    // callbacks
    void* arg = nullptr;
    tcp_accept_fn accept = nullptr;
    tcp_connected_fn connected = nullptr;
    tcp_recv_fn recv = nullptr;
    tcp_sent_fn sent = nullptr;
    tcp_err_fn errf = nullptr;
};

// ---- the raw API (core context) -------------------------------------------------------------
/// A new pcb in state closed from the pool. nullptr if the pool is exhausted (after
/// reclaiming the oldest TIME_WAIT pcb).
tcp_pcb* tcp_new(stack& s);
void tcp_arg(tcp_pcb* pcb, void* arg);
void tcp_accept(tcp_pcb* pcb, tcp_accept_fn fn);
void tcp_recv(tcp_pcb* pcb, tcp_recv_fn fn);
void tcp_sent(tcp_pcb* pcb, tcp_sent_fn fn);
void tcp_err(tcp_pcb* pcb, tcp_err_fn fn);
/// TCP_NODELAY: send small segments without waiting for outstanding data to be acked.
void tcp_nagle_disable(tcp_pcb* pcb);
void tcp_nagle_enable(tcp_pcb* pcb);

/// Binds a closed pcb to addr:port (port 0: a free ephemeral port). Errors: arg (null
/// or not closed / already bound), use (taken, or no ephemeral port left).
err tcp_bind(tcp_pcb* pcb, ip4_addr addr, std::uint16_t port);
/// Listens on a bound pcb; at most `backlog` connections (at least 1) may be in the
/// handshake or waiting for the accept callback at once; further SYNs are dropped and
/// counted (drop_reason::tcp_backlog_full). Errors: arg (null, not bound, not closed).
err tcp_listen(tcp_pcb* pcb, std::uint8_t backlog);
/// Active open to addr:port (binds to an ephemeral port first if unbound); `connected`
/// runs when the SYN is acknowledged. Errors: arg, val (addr any or port 0), isconn
/// (not closed), rte (no route), use, mem (no segment for the SYN).
err tcp_connect(tcp_pcb* pcb, ip4_addr addr, std::uint16_t port, tcp_connected_fn connected);

/// Queues len bytes for sending (sent by tcp_output, or when ACKs arrive).
///  - flags & copy: copied into pool pbufs (counted as one payload copy per call); `data`
///    may be reused on return.
///  - otherwise no copy: the stack references `data` (ref pbufs) and sends it from
///    there, zero-copy; the memory must stay valid and unchanged until `on_release`
///    runs — once per piece the stack made of it, with the piece's start — which is
///    after the data was acknowledged and every receiver sharing it through the
///    zero-copy loopback freed it. Without a hook it must outlive the stack.
/// Errors: arg, conn (not connected or already shut down for sending), mem (len exceeds
/// tcp_sndbuf, or no pbuf/segment; nothing was queued).
err tcp_write(tcp_pcb* pcb, const void* data, std::uint32_t len, std::uint8_t flags,
              pbuf_free_fn on_release = nullptr, void* release_arg = nullptr);
/// Sends what the windows, Nagle and the congestion window allow, and any pending ACK.
/// Errors: arg, and the output error of the first segment that could not be sent
/// (it stays queued and is retried by the timer).
err tcp_output(tcp_pcb* pcb);
/// The application consumed len bytes: reopens the receive window. A window update
/// goes out at once only when the window the peer knows has shrunk to half the buffer
/// or less and the update at least doubles it (and grows it by at least min(wnd/2,
/// MSS)); otherwise the new window rides on the next ACK.
void tcp_recved(tcp_pcb* pcb, std::uint32_t len);
/// Free send buffer (bytes tcp_write accepts now).
std::uint32_t tcp_sndbuf(const tcp_pcb* pcb);
/// Closes: listening or unconnected pcbs are freed now; connected ones send FIN and
/// are freed by the stack when the close completes (TIME_WAIT included). No callback
/// runs afterwards. Errors: arg, mem (no segment for the FIN: the pcb is unchanged, retry).
err tcp_close(tcp_pcb* pcb);
/// Half close: shut_tx sends FIN (the receive side keeps working), shut_rx discards
/// further data; both = tcp_close. Errors: arg, conn (not connected), mem.
err tcp_shutdown(tcp_pcb* pcb, bool shut_rx, bool shut_tx);
/// Sends RST if connected, frees the pcb, then calls its err callback with err::abrt.
void tcp_abort(tcp_pcb* pcb);

/// Processes a received TCP segment (IP header removed; `src`/`dst` from it). Takes
/// ownership of p. Malformed segments are dropped and counted. Internal: called by
/// ip4_input.
void tcp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst);

/// pcbs in use (every state, TIME_WAIT included), for tests and leak checks.
std::size_t tcp_pcbs_in_use(stack& s);
/// Frees every pcb without sending anything and without callbacks (tests' teardown).
void tcp_free_all(stack& s);

LWBENCH_NS_END
