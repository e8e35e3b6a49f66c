// netconn_tcp.cpp — the sequential API over TCP (lwIP's api_lib.c + api_msg.c for
// TCP): the caller-side calls, each one API message through stack::call, and the
// core-side callbacks that fill the receive and accept mailboxes and finish delayed
// writes as ACKs free send space. The contract is in netconn.hpp.
#include <algorithm>
#include <chrono>
#include <new>
#include <optional>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/tcp.hpp"
#include "lwbench/tcpip.hpp"
#include "netconn_tcp.hpp"

LWBENCH_NS_BEGIN
namespace detail {

void netconn_event(netconn* conn) {
    if (conn->event) conn->event(conn, conn->event_arg);
}

void post_from_core(netconn* conn, futex_sem& sem) { sem.post(stack_access::wakes(conn->owner)); }

}  // namespace detail

namespace {

using flag = netconn::tcp_flag;

bool has(const netconn* conn, std::uint8_t f) { return (conn->tcp_flags.load(std::memory_order_acquire) & f) != 0; }
void set_flags(netconn* conn, std::uint8_t f) { conn->tcp_flags.fetch_or(f, std::memory_order_acq_rel); }
void clear_flags(netconn* conn, std::uint8_t f) {
    conn->tcp_flags.fetch_and(static_cast<std::uint8_t>(~f), std::memory_order_acq_rel);
}

/// The deadline of a wait of `ms` milliseconds (0: none).
std::optional<std::chrono::steady_clock::time_point> deadline_after(int ms) {
    if (ms <= 0) return std::nullopt;
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
}

/// What an operation on a netconn without a pcb returns: the error that ended the
/// connection, else err::clsd.
err gone(const netconn* conn) {
    const err e = conn->pending_err.load(std::memory_order_acquire);
    return e != err::ok ? e : err::clsd;
}

// ---- core context: moving received data to the application ------------------------------

/// Moves data that waited in core context into the receive mailbox while it has room,
/// then the end of stream behind it. Core context.
void flush_rx_backlog(netconn* conn) {
    detail::wake_list* later = &detail::stack_access::wakes(conn->owner);  // the receiver wakes after release
    if (conn->rx_backlog &&
        conn->recvmbox.try_push({conn->rx_backlog, {}, 0, conn->rx_backlog->tot_len}, later))
        conn->rx_backlog = nullptr;
    if (!conn->rx_backlog && conn->rx_backlog_eof && conn->recvmbox.try_push({nullptr, {}, 0, 0}, later))
        conn->rx_backlog_eof = false;
}

/// Queues in-order data (or, p == nullptr, the end of the stream) for the receiver.
/// Never drops: what the mailbox cannot take waits in rx_backlog, bounded by the
/// receive window (the data is not tcp_recved until the application read it).
err on_recv(void* arg, tcp_pcb*, pbuf* p, err) {
    auto* conn = static_cast<netconn*>(arg);
    if (!p) {
        conn->rx_backlog_eof = true;
    } else if (conn->rx_backlog) {
        pbuf_cat(conn->rx_backlog, p);
    } else {
        conn->rx_backlog = p;
    }
    flush_rx_backlog(conn);
    detail::netconn_event(conn);
    return err::ok;
}

// ---- core context: writing ------------------------------------------------------------------

/// Queues as much of the current write as the send buffer takes and sends it.
/// true when the write is finished (all queued, an error, or dontblock / non-blocking).
bool write_more(netconn* conn, bool may_wait) {
    auto& w = conn->current_write;
    tcp_pcb* pcb = conn->tcp;
    bool out_of_memory = false;
    while (w.done < w.len) {
        const std::uint32_t room = tcp_sndbuf(pcb);
        if (room == 0) break;
        const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(room, w.len - w.done));
        std::uint8_t tf = (w.flags & netconn_write_flags::copy) ? tcp_write_flags::copy : 0;
        if (w.done + n < w.len || (w.flags & netconn_write_flags::more)) tf |= tcp_write_flags::more;
        const err e = tcp_write(pcb, w.data + w.done, n, tf, w.on_release, w.release_arg);
        if (e == err::mem) {
            out_of_memory = true;
            break;
        }
        if (e != err::ok) {
            w.result = e;
            break;
        }
        w.done += n;
    }
    (void)tcp_output(pcb);
    conn->snd_space.store(tcp_sndbuf(pcb), std::memory_order_release);
    if (w.result != err::ok || w.done == w.len || !may_wait) return true;
    // Pools empty with nothing in flight: no ACK will come to retry on. Give up.
    if (out_of_memory && !pcb->unacked && !pcb->unsent) {
        if (w.done == 0) w.result = err::mem;
        return true;
    }
    return false;
}

/// Ends the waiting write or connect with `e` and wakes its thread. Core context.
void fail_waiters(netconn* conn, err e) {
    if (conn->current_write.active) {
        conn->current_write.active = false;
        conn->current_write.result = e;
        detail::post_from_core(conn, conn->op_done);
    }
    if (has(conn, flag::connect_waiter)) {
        clear_flags(conn, flag::connect_waiter | flag::connecting);
        conn->connect_result = e;
        detail::post_from_core(conn, conn->op_done);
    }
}

err on_sent(void* arg, tcp_pcb* pcb, std::uint32_t) {
    auto* conn = static_cast<netconn*>(arg);
    conn->snd_space.store(tcp_sndbuf(pcb), std::memory_order_release);
    if (conn->current_write.active && write_more(conn, true)) {
        conn->current_write.active = false;
        detail::post_from_core(conn, conn->op_done);
    }
    detail::netconn_event(conn);
    return err::ok;
}

/// The stack freed the pcb (reset, timeout, abort): every waiter learns why.
void on_err(void* arg, err e) {
    auto* conn = static_cast<netconn*>(arg);
    conn->tcp = nullptr;
    conn->pending_err.store(e, std::memory_order_release);
    clear_flags(conn, flag::connecting);
    fail_waiters(conn, e);
    if (conn->rx_backlog) pbuf_free(conn->rx_backlog);
    conn->rx_backlog = nullptr;
    conn->recvmbox.close();  // receivers drain what was queued, then see pending_err
    detail::netconn_event(conn);
}

err on_connected(void* arg, tcp_pcb* pcb, err) {
    auto* conn = static_cast<netconn*>(arg);
    conn->snd_space.store(tcp_sndbuf(pcb), std::memory_order_release);
    set_flags(conn, flag::connected);
    clear_flags(conn, flag::connecting);
    if (has(conn, flag::connect_waiter)) {
        clear_flags(conn, flag::connect_waiter);
        conn->connect_result = err::ok;
        detail::post_from_core(conn, conn->op_done);
    }
    detail::netconn_event(conn);
    return err::ok;
}

void install(netconn* conn, tcp_pcb* pcb) {
    conn->tcp = pcb;
    tcp_arg(pcb, conn);
    tcp_recv(pcb, &on_recv);
    tcp_sent(pcb, &on_sent);
    tcp_err(pcb, &on_err);
}

void detach(tcp_pcb* pcb) {
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_err(pcb, nullptr);
    tcp_accept(pcb, nullptr);
}

/// A connection completed on a listener: a new netconn for it, queued for accept.
/// A full accept mailbox (the backlog) refuses it: the stack resets it.
err on_accept(void* arg, tcp_pcb* newpcb, err) {
    auto* listener = static_cast<netconn*>(arg);
    stack& s = listener->owner;
    auto* conn = new (std::nothrow) netconn(s, netconn_type::tcp, s.config().recv_queue_depth);
    if (!conn) return err::mem;
    conn->event = listener->event;  // same socket layer; set here so no thread races it
    conn->event_arg = listener->event_arg;
    install(conn, newpcb);
    conn->snd_space.store(tcp_sndbuf(newpcb), std::memory_order_relaxed);
    conn->tcp_flags.store(flag::connected, std::memory_order_release);
    if (!listener->acceptmbox->try_push(conn, &detail::stack_access::wakes(s))) {
        detach(newpcb);
        conn->tcp = nullptr;
        delete conn;
        return err::mem;
    }
    detail::netconn_event(listener);
    return err::ok;
}

/// Detaches the pcb and hands it to the stack to finish the close (reset if there is
/// no segment for the FIN). Core context.
void close_pcb(netconn* conn) {
    tcp_pcb* pcb = conn->tcp;
    detach(pcb);
    conn->tcp = nullptr;
    if (tcp_close(pcb) != err::ok) tcp_abort(pcb);
}

/// The connection's pcb in a state where `conn` may send or receive, or why not.
err usable(netconn* conn) {
    if (!conn->tcp) return gone(conn);
    if (has(conn, flag::listening) || !has(conn, flag::connected)) return err::conn;
    return err::ok;
}

}  // namespace

// ---- type-generic entries (netconn.cpp) ----------------------------------------------------

namespace detail {

err tcp_netconn_create(netconn* conn) {
    tcp_pcb* pcb = tcp_new(conn->owner);
    if (!pcb) return err::mem;
    install(conn, pcb);
    return err::ok;
}

void tcp_netconn_close_core(netconn* conn) {
    if (conn->tcp) close_pcb(conn);
    set_flags(conn, flag::tx_shut | flag::rx_shut);
    if (conn->rx_backlog) pbuf_free(conn->rx_backlog);
    conn->rx_backlog = nullptr;
    fail_waiters(conn, err::clsd);
    netconn_event(conn);
}

void tcp_netconn_close_after(netconn* conn) {
    conn->recvmbox.close();
    if (has(conn, flag::listening)) {
        conn->acceptmbox->close();
        netconn* waiting = nullptr;
        while (conn->acceptmbox->pop(waiting, true) == pop_status::ok) netconn_delete(waiting);
    }
}

err tcp_netconn_bind(netconn* conn, ip4_addr addr, std::uint16_t port) {
    return conn->owner.call([&] { return conn->tcp ? tcp_bind(conn->tcp, addr, port) : gone(conn); });
}

err tcp_netconn_connect(netconn* conn, ip4_addr addr, std::uint16_t port) {
    const bool wait = !conn->nonblocking.load(std::memory_order_relaxed);
    const err started = conn->owner.call([&] {
        if (!conn->tcp) return gone(conn);
        if (has(conn, flag::connected)) return err::isconn;
        if (has(conn, flag::connecting)) return err::already;
        if (has(conn, flag::listening)) return err::isconn;
        if (const err e = tcp_connect(conn->tcp, addr, port, &on_connected); e != err::ok) return e;
        set_flags(conn, flag::connecting | (wait ? flag::connect_waiter : 0));
        return err::inprogress;
    });
    if (started != err::inprogress || !wait) return started;
    const auto until = deadline_after(conn->send_timeout_ms.load(std::memory_order_relaxed));
    if (until ? conn->op_done.acquire_until(*until) : (conn->op_done.acquire(), true)) return conn->connect_result;
    // The send timeout passed: stop waiting; the open goes on (poll, then netconn_err).
    const bool finished = conn->owner.call([&] {
        if (!has(conn, flag::connect_waiter)) return err::ok;
        clear_flags(conn, flag::connect_waiter);
        return err::inprogress;
    }) == err::ok;
    if (!finished) return err::inprogress;
    conn->op_done.acquire();  // it finished meanwhile: its post is there
    return conn->connect_result;
}

err tcp_netconn_getaddr(netconn* conn, bool local, std::pair<ip4_addr, std::uint16_t>& out) {
    tcp_pcb* pcb = conn->tcp;
    if (!pcb) return gone(conn);
    if (local) {
        out = {pcb->local_ip, pcb->local_port};
        return err::ok;
    }
    if (!has(conn, flag::connected)) return err::conn;
    out = {pcb->remote_ip, pcb->remote_port};
    return err::ok;
}

}  // namespace detail

// ---- the TCP calls ---------------------------------------------------------------------------

err netconn_listen(netconn* conn, int backlog) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    assert_not_core_context(conn->owner, "netconn_listen");
    const auto depth = static_cast<std::uint8_t>(std::clamp(backlog, 1, 255));
    if (has(conn, flag::listening)) return err::ok;
    if (!conn->acceptmbox) {
        conn->acceptmbox = std::unique_ptr<detail::bounded_queue<netconn*>>(
            new (std::nothrow) detail::bounded_queue<netconn*>(depth));
        if (!conn->acceptmbox) return err::mem;
    }
    return conn->owner.call([&] {
        if (!conn->tcp) return gone(conn);
        if (has(conn, flag::connected | flag::connecting)) return err::isconn;
        if (conn->tcp->local_port == 0)
            if (const err e = tcp_bind(conn->tcp, ip4_addr::any(), 0); e != err::ok) return e;
        if (const err e = tcp_listen(conn->tcp, depth); e != err::ok) return e;
        tcp_accept(conn->tcp, &on_accept);
        set_flags(conn, flag::listening);  // after acceptmbox exists: readers check this first
        return err::ok;
    });
}

result<netconn*> netconn_accept(netconn* conn, bool dontwait) {
    if (!conn) return err::arg;
    assert_not_core_context(conn->owner, "netconn_accept");
    if (conn->type != netconn_type::tcp || !has(conn, flag::listening)) return err::val;
    netconn* out = nullptr;
    detail::pop_status st;
    if (dontwait || conn->nonblocking.load(std::memory_order_relaxed)) {
        st = conn->acceptmbox->pop(out, true);
    } else {
        st = conn->acceptmbox->pop(out, false, deadline_after(conn->recv_timeout_ms.load(std::memory_order_relaxed)));
    }
    switch (st) {
        case detail::pop_status::ok: break;
        case detail::pop_status::empty: return err::wouldblock;
        case detail::pop_status::timeout: return err::timeout;
        case detail::pop_status::closed: return err::clsd;
    }
    return out;
}

result<std::size_t> netconn_write(netconn* conn, const void* data, std::size_t len, std::uint8_t flags,
                                  pbuf_free_fn on_release, void* release_arg) {
    if (!conn || (!data && len)) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    assert_not_core_context(conn->owner, "netconn_write");
    if (len == 0) return std::size_t{0};
    const bool may_wait = !(flags & netconn_write_flags::dontblock) && !conn->nonblocking.load(std::memory_order_relaxed);
    std::lock_guard one_writer(conn->write_mutex);  // writes of one netconn never interleave
    auto& w = conn->current_write;
    const err started = conn->owner.call([&] {
        if (const err e = usable(conn); e != err::ok) return e;
        if (has(conn, flag::tx_shut)) return err::conn;
        w = {static_cast<const std::uint8_t*>(data), len, 0, flags, on_release, release_arg, err::ok, false};
        if (write_more(conn, may_wait)) return err::ok;
        w.active = true;  // finished by on_sent (or failed by close / on_err) in core context
        return err::inprogress;
    });
    if (started != err::ok && started != err::inprogress) return started;
    if (started == err::inprogress) {
        conn->owner.st().tcp_write_waits.inc();
        const auto until = deadline_after(conn->send_timeout_ms.load(std::memory_order_relaxed));
        if (until && !conn->op_done.acquire_until(*until)) {
            // The send timeout passed: withdraw the rest of the write, unless the core
            // finished it meanwhile (then its post is there to take).
            const bool withdrawn = conn->owner.call([&] {
                if (!w.active) return err::ok;
                w.active = false;
                w.result = err::timeout;
                return err::inprogress;
            }) == err::inprogress;
            if (!withdrawn) conn->op_done.acquire();
        } else if (!until) {
            conn->op_done.acquire();
        }
    }
    // The core is done with w: it was finished before call() returned, or posted op_done.
    if (w.done > 0) return w.done;
    if (w.result != err::ok) return w.result;
    return err::wouldblock;  // nothing fitted and the caller would not wait
}

result<netbuf> netconn_recv_tcp(netconn* conn, std::uint8_t flags) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    assert_not_core_context(conn->owner, "netconn_recv_tcp");
    if (has(conn, flag::listening)) return err::conn;
    if (has(conn, flag::eof)) return netbuf{};  // the end of the stream stays the end
    if (!has(conn, flag::connected) && conn->pending_err.load(std::memory_order_acquire) == err::ok)
        return conn->closed.load() ? err::clsd : err::conn;
    netconn::rx_entry e;
    detail::pop_status st;
    if ((flags & netconn_recv_flags::dontwait) || conn->nonblocking.load(std::memory_order_relaxed)) {
        st = conn->recvmbox.pop(e, true);
    } else {
        st = conn->recvmbox.pop(e, false, deadline_after(conn->recv_timeout_ms.load(std::memory_order_relaxed)));
    }
    switch (st) {
        case detail::pop_status::ok: break;
        case detail::pop_status::empty: return err::wouldblock;
        case detail::pop_status::timeout: return err::timeout;
        case detail::pop_status::closed: return conn->closed.load() ? err::clsd : gone(conn);
    }
    netbuf nb;
    if (!e.p) {
        set_flags(conn, flag::eof);
        return nb;
    }
    nb.p = e.p;
    if (!(flags & netconn_recv_flags::noautorecved)) (void)netconn_tcp_recvd(conn, e.p->tot_len);
    return nb;
}

err netconn_tcp_recvd(netconn* conn, std::size_t len) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    if (len == 0) return err::ok;
    return conn->owner.call([&] {
        if (!conn->tcp) return gone(conn);
        conn->owner.st().tcp_recvd_calls.inc();
        tcp_recved(conn->tcp, static_cast<std::uint32_t>(len));
        flush_rx_backlog(conn);
        return err::ok;
    });
}

err netconn_shutdown(netconn* conn, bool shut_rx, bool shut_tx) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    if (!shut_rx && !shut_tx) return err::arg;
    return conn->owner.call([&] {
        if (const err u = usable(conn); u != err::ok) return u;
        if (shut_rx && shut_tx) {
            close_pcb(conn);  // tcp_shutdown of both is tcp_close: the stack owns the pcb
        } else if (const err t = tcp_shutdown(conn->tcp, shut_rx, shut_tx); t != err::ok) {
            return t;
        }
        if (shut_tx) {
            set_flags(conn, flag::tx_shut);
            fail_waiters(conn, err::conn);
        }
        if (shut_rx) {
            set_flags(conn, flag::rx_shut);
            conn->rx_backlog_eof = true;  // the receiver reads what is queued, then the end
            flush_rx_backlog(conn);
        }
        detail::netconn_event(conn);
        return err::ok;
    });
}

err netconn_err(const netconn* conn) {
    if (!conn) return err::arg;
    const err e = conn->pending_err.load(std::memory_order_acquire);
    if (e != err::ok) return e;
    return has(conn, flag::connecting) ? err::inprogress : err::ok;
}

err netconn_set_nodelay(netconn* conn, bool on) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::tcp) return err::val;
    return conn->owner.call([&] {
        if (!conn->tcp) return gone(conn);
        on ? tcp_nagle_disable(conn->tcp) : tcp_nagle_enable(conn->tcp);
        return err::ok;
    });
}

err netconn_set_sendtimeout(netconn* conn, int ms) {
    if (!conn || ms < 0) return err::arg;
    conn->send_timeout_ms.store(ms);
    return err::ok;
}

LWBENCH_NS_END
