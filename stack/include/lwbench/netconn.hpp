// netconn.hpp — the sequential API (lwIP's netconn) for UDP and TCP.
//
// Runs in the caller's thread. Every operation that touches the core goes through
// stack::call (the dispatcher: lock the core or post to the tcpip thread, by mode).
// Receiving does not touch the core: each netconn has a bounded receive mailbox that
// the core fills from its udp/tcp recv callback, and netconn_recv waits on it.
//  - UDP: a full mailbox drops the datagram (counted).
//  - TCP: nothing is dropped; what does not fit waits in core context (lwIP's
//    refused data) and moves on when the application reads, and the receive window
//    bounds it. A receive that consumed data reopens the window with one API message
//    (netconn_tcp_recvd; lwIP's netconn_tcp_recvd), counted in stats::tcp_recvd_calls.
//  - TCP writes (netconn_write): one API message queues what the send buffer takes.
//    A blocking write that does not fit waits on the netconn's own semaphore, with the
//    core released (lwIP's delayed write: in both threading modes the rest is queued
//    from the sent callback, in core context, as ACKs free space), counted in
//    stats::tcp_write_waits. So a write of at most one send buffer is exactly one API
//    message in message passing, and never holds the core while it waits in core locking.
//  - Full duplex: one thread may receive while another writes on the same netconn, and
//    netconn_close from a third thread wakes both (they return err::clsd).
//
// Lifetime: netconn_close() shuts the netconn down from any thread — the pcb is
// removed (nothing more is delivered) and receivers blocked in netconn_recv wake with
// err::clsd. netconn_delete() closes (if needed) and frees it; no other thread may
// still be using the netconn then (the socket layer guarantees that with reference
// counts). Every netconn must be deleted before its stack is destroyed (the stack's
// destructor aborts otherwise: see the teardown contract in tcpip.hpp).
//
// Context: the functions that touch the core or wait (new, close, delete, bind,
// connect, disconnect, send*, recv, getaddr) are for application threads, not core
// context (checking builds abort there); the setters and netconn_recv_pending /
// netconn_next_datagram_len are safe from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "lwbench/detail/bounded_queue.hpp"
#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct udp_pcb;
class netconn;

struct tcp_pcb;

enum class netconn_type : std::uint8_t { udp, tcp };

/// netconn_write flags (lwIP's NETCONN_COPY / NETCONN_MORE / NETCONN_DONTBLOCK).
namespace netconn_write_flags {
/// Copy the data into pool pbufs (one counted copy); without it the stack references
/// the caller's memory (no copy): it must stay valid and unchanged until on_release
/// runs for each piece (after the peer acknowledged it), or outlive the stack.
inline constexpr std::uint8_t copy = 0x01;
inline constexpr std::uint8_t more = 0x02;       ///< more data follows: no PSH
inline constexpr std::uint8_t dontblock = 0x04;  ///< queue what fits now, never wait
}  // namespace netconn_write_flags

/// netconn_recv_tcp flags.
namespace netconn_recv_flags {
inline constexpr std::uint8_t dontwait = 0x01;     ///< never wait (err::wouldblock if nothing is queued)
inline constexpr std::uint8_t noautorecved = 0x02; ///< do not reopen the window: call netconn_tcp_recvd
}  // namespace netconn_recv_flags

/// A datagram and its address (lwIP's netbuf), owning one reference on its pbuf.
/// Move-only; stack-allocated by the application, so sending needs no heap.
class netbuf {
public:
    netbuf() = default;
    ~netbuf() { reset(); }
    netbuf(netbuf&& o) noexcept : p(std::exchange(o.p, nullptr)), addr(o.addr), port(o.port) {}
    netbuf& operator=(netbuf&& o) noexcept {
        if (this != &o) {
            reset();
            p = std::exchange(o.p, nullptr);
            addr = o.addr;
            port = o.port;
        }
        return *this;
    }
    netbuf(const netbuf&) = delete;
    netbuf& operator=(const netbuf&) = delete;

    /// A pool buffer of `len` bytes with header room: write the payload into data()
    /// and send it with no copy by the stack. err::mem if the pool is exhausted.
    err alloc(stack& s, std::size_t len);
    /// References caller memory (no copy). `stable`: the memory stays valid until
    /// on_release runs (zero-copy end to end). Otherwise it is valid only for the
    /// duration of the send call, and the stack copies it if it must keep it longer.
    err ref(stack& s, const void* data, std::size_t len, bool stable, pbuf_free_fn on_release = nullptr,
            void* arg = nullptr);
    /// Frees the pbuf (if any).
    void reset() noexcept;
    /// First pbuf's bytes (the whole payload for alloc'ed buffers up to one pool element).
    [[nodiscard]] std::byte* data() const noexcept { return p ? p->bytes() : nullptr; }
    [[nodiscard]] std::size_t len() const noexcept { return p ? p->tot_len : 0; }
    /// Copies up to n bytes from offset off into dst (counted as a payload copy).
    std::size_t copy_to(void* dst, std::size_t n, std::size_t off = 0) const;

    pbuf* p = nullptr;
    ip4_addr addr;           ///< source address of a received datagram
    std::uint16_t port = 0;  ///< source port of a received datagram
};

/// Event hook (lwIP's netconn callback): runs in core context after data or a
/// connection is queued, send space came back, a connection completed or failed, and
/// on close. Used by the socket layer for poll().
using netconn_event_fn = void (*)(netconn* conn, void* arg);

class netconn {
public:
    struct rx_entry {
        pbuf* p = nullptr;
        ip4_addr addr;
        std::uint16_t port = 0;
        std::uint16_t len = 0;  ///< p->tot_len, copied so a peek never touches p
    };

    /// A TCP write in progress (core state while `active`; lwIP's current_msg).
    struct write_op {
        const std::uint8_t* data = nullptr;
        std::size_t len = 0, done = 0;
        std::uint8_t flags = 0;
        pbuf_free_fn on_release = nullptr;
        void* release_arg = nullptr;
        err result = err::ok;
        bool active = false;  ///< the writer waits on op_done for it
    };
    /// TCP connection state as the application threads see it (bits of `tcp_flags`).
    enum tcp_flag : std::uint8_t {
        connecting = 0x01,  ///< an active open is in progress
        connected = 0x02,   ///< established (stays set after a close or an error)
        listening = 0x04,
        eof = 0x08,         ///< the peer's FIN was queued for the receiver
        tx_shut = 0x10,     ///< our sending side is shut (shutdown or close)
        rx_shut = 0x20,     ///< our receiving side is shut
        connect_waiter = 0x40,  ///< a blocking connect waits on op_done
    };

    netconn(stack& s, netconn_type t, std::size_t queue_depth);
    ~netconn();
    netconn(const netconn&) = delete;
    netconn& operator=(const netconn&) = delete;

    stack& owner;
    const netconn_type type;
    udp_pcb* pcb = nullptr;      ///< core state: touched only in core context; null once closed
    tcp_pcb* tcp = nullptr;      ///< core state, as pcb (TCP netconns)
    detail::bounded_queue<rx_entry> recvmbox;  ///< TCP: p == nullptr is the end of the stream
    std::unique_ptr<detail::bounded_queue<netconn*>> acceptmbox;  ///< listeners: accepted, not yet taken
    std::atomic<int> recv_timeout_ms{0};  ///< 0: wait forever
    std::atomic<int> send_timeout_ms{0};  ///< 0: wait forever (TCP writes and connect)
    std::atomic<bool> nonblocking{false};
    std::atomic<bool> closed{false};
    std::atomic<std::uint8_t> tcp_flags{0};      ///< tcp_flag bits, written in core context
    std::atomic<err> pending_err{err::ok};       ///< TCP: the error that ended the connection
    std::atomic<std::uint32_t> snd_space{0};     ///< TCP: tcp_sndbuf as last seen in core context (poll)
    shared_counter recv_drops;  ///< datagrams dropped because recvmbox was full
    netconn_event_fn event = nullptr;
    void* event_arg = nullptr;

    // TCP, core state
    write_op current_write;
    err connect_result = err::ok;
    pbuf* rx_backlog = nullptr;  ///< received data recvmbox had no room for (lwIP's refused data)
    bool rx_backlog_eof = false; ///< the end of stream is queued behind rx_backlog
    /// A blocked writer or connector waits here; the core posts it when done.
    detail::futex_sem op_done;

    std::mutex write_mutex;  ///< one netconn_write at a time (the writer waits holding it)

    // TCP, the receiving thread's (socket layer): a pbuf read in part (lwIP's lastdata)
    std::mutex read_mutex;
    pbuf* lastdata = nullptr;
    std::size_t lastoffset = 0;
};

/// A new UDP or TCP netconn (its pcb is created through the dispatcher). nullptr on
/// allocation failure.
netconn* netconn_new(stack& s, netconn_type type = netconn_type::udp);
/// Shuts the netconn down (see file comment). Safe to call twice and from any thread.
err netconn_close(netconn* conn);
/// Closes and frees. err::arg for null.
err netconn_delete(netconn* conn);
/// Errors: arg, clsd, use.
err netconn_bind(netconn* conn, ip4_addr addr, std::uint16_t port);
/// UDP: sets the remote end. TCP: active open; waits until established (at most the
/// send timeout: then err::inprogress, and the open goes on). Non-blocking: starts it
/// and returns err::inprogress (poll for writable, then netconn_err). TCP errors: arg,
/// isconn (connected), already (connecting), rst (refused), timeout, abrt, clsd, rte,
/// use, mem.
err netconn_connect(netconn* conn, ip4_addr addr, std::uint16_t port);
err netconn_disconnect(netconn* conn);
/// TCP: listens with at most `backlog` (1..255) connections handshaking or waiting for
/// netconn_accept; more are refused. Errors: arg, val (not TCP), isconn (connected or
/// connecting), clsd, mem.
err netconn_listen(netconn* conn, int backlog);
/// TCP: the next accepted connection (a new netconn the caller owns). Errors: arg,
/// val (not listening), wouldblock (non-blocking or dontwait, none waiting), timeout
/// (the receive timeout passed), clsd (closed).
result<netconn*> netconn_accept(netconn* conn, bool dontwait = false);
/// TCP: queues len bytes for sending (netconn_write_flags), as lwIP's
/// netconn_write_partly. Blocking: returns once all is queued. Non-blocking (or
/// dontblock): queues what fits, err::wouldblock if nothing did. A send timeout that
/// passes returns what was queued, or err::timeout if nothing. Errors: arg, conn (not
/// connected, or sending side shut), clsd (closed, also by another thread while
/// waiting), rst/abrt/timeout (the connection failed), mem.
result<std::size_t> netconn_write(netconn* conn, const void* data, std::size_t len, std::uint8_t flags,
                                  pbuf_free_fn on_release = nullptr, void* release_arg = nullptr);
/// TCP: the next piece of the stream (a pbuf chain in the netbuf). An empty netbuf
/// (len() == 0) is the end of the stream. Unless noautorecved, reopens the window for
/// it with one API message. Errors: arg, val (not connected TCP), wouldblock, timeout,
/// clsd (closed locally), conn (receiving side shut), rst/abrt/timeout (connection failed).
result<netbuf> netconn_recv_tcp(netconn* conn, std::uint8_t flags = 0);
/// TCP: the application consumed len bytes: reopens the window (one API message;
/// nothing is sent for len == 0). Errors: arg, clsd.
err netconn_tcp_recvd(netconn* conn, std::size_t len);
/// TCP half or full shutdown. Errors: arg, conn (not connected), clsd, mem.
err netconn_shutdown(netconn* conn, bool shut_rx, bool shut_tx);
/// TCP: the error that ended the connection (err::ok if none); err::inprogress
/// while a non-blocking connect is under way.
err netconn_err(const netconn* conn);
/// TCP_NODELAY. Errors: arg, clsd.
err netconn_set_nodelay(netconn* conn, bool on);
/// Sends nb to the connected remote end. Errors: as udp_send, plus clsd.
err netconn_send(netconn* conn, netbuf& nb);
/// Sends nb to addr:port. Errors: as udp_sendto, plus clsd.
err netconn_sendto(netconn* conn, netbuf& nb, ip4_addr addr, std::uint16_t port);
/// As netconn_sendto with a pbuf the caller keeps (the socket layer's path).
err netconn_sendto_pbuf(netconn* conn, pbuf* p, ip4_addr addr, std::uint16_t port, bool connected);
/// Waits for a datagram (UDP) or the next piece of the stream (TCP, as
/// netconn_recv_tcp without flags). Errors: timeout (recv timeout passed), wouldblock
/// (non-blocking and nothing queued, or `dontwait`), clsd (closed).
result<netbuf> netconn_recv(netconn* conn, bool dontwait = false);
/// Local (local=true) or remote address and port. Errors: clsd, conn (no remote).
result<std::pair<ip4_addr, std::uint16_t>> netconn_getaddr(netconn* conn, bool local);
/// Receive timeout in ms: 0 waits forever, > 0 gives up with err::timeout. err::arg
/// (nothing changed) for a negative value or a null conn.
err netconn_set_recvtimeout(netconn* conn, int ms);
/// Send timeout in ms (TCP writes and connect), as netconn_set_recvtimeout.
err netconn_set_sendtimeout(netconn* conn, int ms);
void netconn_set_nonblocking(netconn* conn, bool on);
/// Receive mailbox depth in datagrams, 1..the stack's recv_queue_depth. err::arg
/// (nothing changed) outside that range.
err netconn_set_recvbufsize(netconn* conn, std::size_t datagrams);
/// Datagrams waiting in the receive mailbox.
std::size_t netconn_recv_pending(const netconn* conn);
/// Payload bytes of the oldest datagram waiting (0 if none).
std::size_t netconn_next_datagram_len(const netconn* conn);

LWBENCH_NS_END
