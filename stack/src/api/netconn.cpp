// netconn.cpp — the sequential API: every core operation goes through stack::call.
// The calls common to UDP and TCP live here; TCP's own are in netconn_tcp.cpp.
#include "lwbench/netconn.hpp"

#include <chrono>
#include <new>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"
#include "netconn_tcp.hpp"

LWBENCH_NS_BEGIN

// ---- netbuf ------------------------------------------------------------------------

err netbuf::alloc(stack& s, std::size_t len) {
    reset();
    p = pbuf_alloc(s, pbuf_layer::transport, len, pbuf_type::pool);
    return p ? err::ok : err::mem;
}

err netbuf::ref(stack& s, const void* data, std::size_t len, bool stable, pbuf_free_fn on_release, void* arg) {
    reset();
    p = pbuf_alloc_ref(s, data, len, stable, on_release, arg);
    return p ? err::ok : err::mem;
}

void netbuf::reset() noexcept {
    if (p) pbuf_free(p);
    p = nullptr;
}

std::size_t netbuf::copy_to(void* dst, std::size_t n, std::size_t off) const {
    return p ? pbuf_copy_partial(p, dst, n, off) : 0;
}

// ---- netconn -----------------------------------------------------------------------

netconn::netconn(stack& s, netconn_type t, std::size_t queue_depth) : owner(s), type(t), recvmbox(queue_depth) {
    detail::stack_access::netconn_created(s);
}

netconn::~netconn() {
    rx_entry e;
    while (recvmbox.pop(e, /*nonblocking=*/true) == detail::pop_status::ok) {
        if (!e.p) continue;  // a TCP end of stream
        owner.st().drop(drop_reason::recv_closed);  // delivered but never read: a counted drop
        pbuf_free(e.p);
    }
    if (lastdata) pbuf_free(lastdata);
    detail::stack_access::netconn_deleted(owner);  // last touch of the stack
}

namespace {

/// udp recv callback (core context): queue the datagram for the application thread.
void recv_into_mbox(void* arg, udp_pcb*, pbuf* p, ip4_addr src, std::uint16_t port) {
    auto* conn = static_cast<netconn*>(arg);
    if (!conn->recvmbox.try_push({p, src, port, p->tot_len}, &detail::stack_access::wakes(conn->owner))) {
        conn->owner.st().drop(drop_reason::recv_queue_full);
        conn->recv_drops.inc();
        pbuf_free(p);
        return;
    }
    if (conn->event) conn->event(conn, conn->event_arg);
}

}  // namespace

netconn* netconn_new(stack& s, netconn_type type) {
    assert_not_core_context(s, "netconn_new");
    auto* conn = new (std::nothrow) netconn(s, type, s.config().recv_queue_depth);
    if (!conn) return nullptr;
    const err e = s.call([&] {
        if (type == netconn_type::tcp) return detail::tcp_netconn_create(conn);
        conn->pcb = udp_new(s);
        if (!conn->pcb) return err::mem;
        udp_recv(conn->pcb, recv_into_mbox, conn);
        return err::ok;
    });
    if (e != err::ok) {
        delete conn;
        return nullptr;
    }
    return conn;
}

err netconn_close(netconn* conn) {
    if (!conn) return err::arg;
    assert_not_core_context(conn->owner, "netconn_close");
    if (conn->closed.exchange(true)) return err::ok;
    conn->owner.call([&] {
        if (conn->type == netconn_type::tcp) {
            detail::tcp_netconn_close_core(conn);
            return err::ok;
        }
        udp_remove(conn->pcb);  // nothing is delivered to this netconn from now on
        conn->pcb = nullptr;
        detail::netconn_event(conn);
        return err::ok;
    });
    conn->recvmbox.close();  // wakes receivers: they get err::clsd once it is drained
    if (conn->type == netconn_type::tcp) detail::tcp_netconn_close_after(conn);
    return err::ok;
}

err netconn_delete(netconn* conn) {
    if (!conn) return err::arg;
    netconn_close(conn);
    delete conn;  // frees datagrams still queued
    return err::ok;
}

namespace {
/// Runs f(udp pcb) in core context; err::clsd once closed, err::val on a TCP netconn.
template <class F>
err with_pcb(netconn* conn, F&& f) {
    if (!conn) return err::arg;
    if (conn->type != netconn_type::udp) return err::val;
    return conn->owner.call([&] { return conn->pcb ? f(conn->pcb) : err::clsd; });
}
}  // namespace

err netconn_bind(netconn* conn, ip4_addr addr, std::uint16_t port) {
    if (conn && conn->type == netconn_type::tcp) return detail::tcp_netconn_bind(conn, addr, port);
    return with_pcb(conn, [&](udp_pcb* pcb) { return udp_bind(pcb, addr, port); });
}

err netconn_connect(netconn* conn, ip4_addr addr, std::uint16_t port) {
    if (conn && conn->type == netconn_type::tcp) return detail::tcp_netconn_connect(conn, addr, port);
    return with_pcb(conn, [&](udp_pcb* pcb) { return udp_connect(pcb, addr, port); });
}

err netconn_disconnect(netconn* conn) {
    return with_pcb(conn, [&](udp_pcb* pcb) {
        udp_disconnect(pcb);
        return err::ok;
    });
}

err netconn_sendto_pbuf(netconn* conn, pbuf* p, ip4_addr addr, std::uint16_t port, bool connected) {
    if (!p) return err::arg;
    return with_pcb(conn, [&](udp_pcb* pcb) { return connected ? udp_send(pcb, p) : udp_sendto(pcb, p, addr, port); });
}

err netconn_send(netconn* conn, netbuf& nb) { return netconn_sendto_pbuf(conn, nb.p, {}, 0, true); }

err netconn_sendto(netconn* conn, netbuf& nb, ip4_addr addr, std::uint16_t port) {
    return netconn_sendto_pbuf(conn, nb.p, addr, port, false);
}

result<netbuf> netconn_recv(netconn* conn, bool dontwait) {
    if (!conn) return err::arg;
    assert_not_core_context(conn->owner, "netconn_recv");
    if (conn->type == netconn_type::tcp) return netconn_recv_tcp(conn, dontwait ? netconn_recv_flags::dontwait : 0);
    netconn::rx_entry e;
    detail::pop_status st;
    const int timeout = conn->recv_timeout_ms.load(std::memory_order_relaxed);
    if (dontwait || conn->nonblocking.load(std::memory_order_relaxed)) {
        st = conn->recvmbox.pop(e, true);
    } else if (timeout > 0) {
        st = conn->recvmbox.pop(e, false, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout));
    } else {
        st = conn->recvmbox.pop(e);
    }
    switch (st) {
        case detail::pop_status::ok: break;
        case detail::pop_status::empty: return err::wouldblock;
        case detail::pop_status::timeout: return err::timeout;
        case detail::pop_status::closed: return err::clsd;
    }
    netbuf nb;
    nb.p = e.p;
    nb.addr = e.addr;
    nb.port = e.port;
    return nb;
}

result<std::pair<ip4_addr, std::uint16_t>> netconn_getaddr(netconn* conn, bool local) {
    std::pair<ip4_addr, std::uint16_t> out;
    if (conn && conn->type == netconn_type::tcp) {
        const err t = conn->owner.call([&] { return detail::tcp_netconn_getaddr(conn, local, out); });
        if (t != err::ok) return t;
        return out;
    }
    const err e = with_pcb(conn, [&](udp_pcb* pcb) {
        if (local) {
            out = {pcb->local_ip, pcb->local_port};
            return err::ok;
        }
        if (!(pcb->flags & udp_flags::connected)) return err::conn;
        out = {pcb->remote_ip, pcb->remote_port};
        return err::ok;
    });
    if (e != err::ok) return e;
    return out;
}

err netconn_set_recvtimeout(netconn* conn, int ms) {
    if (!conn || ms < 0) return err::arg;
    conn->recv_timeout_ms.store(ms);
    return err::ok;
}
void netconn_set_nonblocking(netconn* conn, bool on) { conn->nonblocking.store(on); }
err netconn_set_recvbufsize(netconn* conn, std::size_t datagrams) {
    if (!conn) return err::arg;
    return conn->recvmbox.set_limit(datagrams) ? err::ok : err::arg;  // capacity == recv_queue_depth
}
std::size_t netconn_recv_pending(const netconn* conn) { return conn->recvmbox.size(); }
std::size_t netconn_next_datagram_len(const netconn* conn) {
    netconn::rx_entry e;
    return conn->recvmbox.peek(e) ? e.len : 0;
}

LWBENCH_NS_END
