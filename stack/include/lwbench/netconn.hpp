// netconn.hpp — the sequential API (lwIP's netconn) for UDP.
//
// Runs in the caller's thread. Every operation that touches the core goes through
// stack::call (the dispatcher: lock the core or post to the tcpip thread, by mode).
// Receiving does not touch the core: each netconn has a bounded receive mailbox that
// the core fills from its udp recv callback (dropping and counting when it is full),
// and netconn_recv waits on it.
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
#include <utility>

#include "lwbench/detail/bounded_queue.hpp"
#include "lwbench/err.hpp"
#include "lwbench/ip4_addr.hpp"
#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class stack;
struct udp_pcb;
class netconn;

enum class netconn_type : std::uint8_t { udp };

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

/// Receive-side event hook (lwIP's netconn callback): runs in core context after a
/// datagram is queued, and on close. Used by the socket layer for poll().
using netconn_event_fn = void (*)(netconn* conn, void* arg);

class netconn {
public:
    struct rx_entry {
        pbuf* p = nullptr;
        ip4_addr addr;
        std::uint16_t port = 0;
        std::uint16_t len = 0;  ///< p->tot_len, copied so a peek never touches p
    };
    netconn(stack& s, std::size_t queue_depth);
    ~netconn();
    netconn(const netconn&) = delete;
    netconn& operator=(const netconn&) = delete;

    stack& owner;
    udp_pcb* pcb = nullptr;  ///< core state: touched only in core context; null once closed
    detail::bounded_queue<rx_entry> recvmbox;
    std::atomic<int> recv_timeout_ms{0};  ///< 0: wait forever
    std::atomic<bool> nonblocking{false};
    std::atomic<bool> closed{false};
    shared_counter recv_drops;  ///< datagrams dropped because recvmbox was full
    netconn_event_fn event = nullptr;
    void* event_arg = nullptr;
};

/// A new UDP netconn (its pcb is created through the dispatcher). nullptr on
/// allocation failure.
netconn* netconn_new(stack& s, netconn_type type = netconn_type::udp);
/// Shuts the netconn down (see file comment). Safe to call twice and from any thread.
err netconn_close(netconn* conn);
/// Closes and frees. err::arg for null.
err netconn_delete(netconn* conn);
/// Errors: arg, clsd, use.
err netconn_bind(netconn* conn, ip4_addr addr, std::uint16_t port);
err netconn_connect(netconn* conn, ip4_addr addr, std::uint16_t port);
err netconn_disconnect(netconn* conn);
/// Sends nb to the connected remote end. Errors: as udp_send, plus clsd.
err netconn_send(netconn* conn, netbuf& nb);
/// Sends nb to addr:port. Errors: as udp_sendto, plus clsd.
err netconn_sendto(netconn* conn, netbuf& nb, ip4_addr addr, std::uint16_t port);
/// As netconn_sendto with a pbuf the caller keeps (the socket layer's path).
err netconn_sendto_pbuf(netconn* conn, pbuf* p, ip4_addr addr, std::uint16_t port, bool connected);
/// Waits for a datagram. Errors: timeout (recv timeout passed), wouldblock
/// (non-blocking and nothing queued, or `dontwait`), clsd (closed).
result<netbuf> netconn_recv(netconn* conn, bool dontwait = false);
/// Local (local=true) or remote address and port. Errors: clsd, conn (no remote).
result<std::pair<ip4_addr, std::uint16_t>> netconn_getaddr(netconn* conn, bool local);
/// Receive timeout in ms: 0 waits forever, > 0 gives up with err::timeout. err::arg
/// (nothing changed) for a negative value or a null conn.
err netconn_set_recvtimeout(netconn* conn, int ms);
void netconn_set_nonblocking(netconn* conn, bool on);
/// Receive mailbox depth in datagrams, 1..the stack's recv_queue_depth. err::arg
/// (nothing changed) outside that range.
err netconn_set_recvbufsize(netconn* conn, std::size_t datagrams);
/// Datagrams waiting in the receive mailbox.
std::size_t netconn_recv_pending(const netconn* conn);
/// Payload bytes of the oldest datagram waiting (0 if none).
std::size_t netconn_next_datagram_len(const netconn* conn);

LWBENCH_NS_END
