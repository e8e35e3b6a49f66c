// tcp_support.hpp — helpers for the TCP tests: an application end (recording
// receiver and bulk sender on the raw API), a listener that accepts into ends, a
// bounded wait that checks its condition in core context, and an independent
// IPv4 + TCP segment builder / parser for fake-peer tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "lwbench/detail/tcp_priv.hpp"  // tcp_seg, for describe()
#include "lwbench/tcp.hpp"
#include "lwbench/wire/tcp.hpp"
#include "unit_support.hpp"

namespace lwbench::test {

// ---- application ends ------------------------------------------------------------------------

/// One side of a connection as an application sees it (all fields core state: read
/// them in core context, e.g. inside wait_core or in_core).
struct tcp_end {
    tcp_pcb* pcb = nullptr;
    bytes received;
    bool eof = false;
    bool connected = false;
    std::optional<err> error;  ///< set by the err callback (the pcb is gone)
    std::uint64_t acked = 0;   ///< bytes the sent callback reported
    bool auto_recved = true;   ///< call tcp_recved for what arrives (false: let the window close)
    std::size_t unrecved = 0;  ///< bytes received but not yet tcp_recved
    // bulk sending
    const std::uint8_t* source = nullptr;
    std::size_t total = 0, queued = 0;
    bool copy = true;
    bool shut_when_done = false;  ///< half close (send FIN) once everything is queued

    static err on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err) {
        auto* self = static_cast<tcp_end*>(arg);
        if (!p) {
            self->eof = true;
            return err::ok;
        }
        const bytes b = chain_bytes(p);
        EXPECT_TRUE(chain_ok(p));
        self->received.insert(self->received.end(), b.begin(), b.end());
        pbuf_free(p);
        if (self->auto_recved) {
            tcp_recved(pcb, static_cast<std::uint32_t>(b.size()));
        } else {
            self->unrecved += b.size();
        }
        return err::ok;
    }
    static err on_sent(void* arg, tcp_pcb*, std::uint32_t len) {
        auto* self = static_cast<tcp_end*>(arg);
        self->acked += len;
        self->pump();
        return err::ok;
    }
    static void on_err(void* arg, err e) {
        auto* self = static_cast<tcp_end*>(arg);
        self->error = e;
        self->pcb = nullptr;
    }
    static err on_connected(void* arg, tcp_pcb*, err) {
        auto* self = static_cast<tcp_end*>(arg);
        self->connected = true;
        self->pump();
        return err::ok;
    }
    /// Takes a pcb: installs this end's callbacks.
    void attach(tcp_pcb* p) {
        pcb = p;
        tcp_arg(p, this);
        tcp_recv(p, &on_recv);
        tcp_sent(p, &on_sent);
        tcp_err(p, &on_err);
    }
    /// Starts sending `n` bytes from `data` (refilled from the sent callback). Core context.
    void send(const std::uint8_t* data, std::size_t n, bool copy_data, bool shut_after = false) {
        source = data;
        total = n;
        queued = 0;
        copy = copy_data;
        shut_when_done = shut_after;
        pump();
    }
    void pump() {
        if (!pcb || !source) return;
        while (queued < total) {
            const std::uint32_t room = tcp_sndbuf(pcb);
            if (room == 0) break;
            const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(room, total - queued));
            if (tcp_write(pcb, source + queued, n, copy ? tcp_write_flags::copy : 0) != err::ok) break;
            queued += n;
        }
        (void)tcp_output(pcb);
        if (queued == total && shut_when_done) {
            shut_when_done = false;
            EXPECT_EQ(tcp_shutdown(pcb, false, true), err::ok);
        }
    }
    /// Opens the window for everything received so far. Core context.
    void recved_all() {
        if (pcb && unrecved) tcp_recved(pcb, static_cast<std::uint32_t>(unrecved));
        unrecved = 0;
    }
};

/// A listening pcb that hands each accepted connection to the next free end.
struct tcp_server {
    tcp_pcb* pcb = nullptr;
    std::vector<std::unique_ptr<tcp_end>> ends;
    std::size_t accepted = 0;
    bool refuse = false;

    static err on_accept(void* arg, tcp_pcb* newpcb, err) {
        auto* self = static_cast<tcp_server*>(arg);
        if (self->refuse) return err::val;
        self->ends.push_back(std::make_unique<tcp_end>());
        self->ends.back()->attach(newpcb);
        ++self->accepted;
        return err::ok;
    }
    /// Listens on port (core context). Returns the err of bind/listen.
    err listen(stack& s, std::uint16_t port, std::uint8_t backlog = 8) {
        pcb = tcp_new(s);
        if (!pcb) return err::mem;
        if (const err e = tcp_bind(pcb, ip4_addr::any(), port); e != err::ok) return e;
        if (const err e = tcp_listen(pcb, backlog); e != err::ok) return e;
        tcp_arg(pcb, this);
        tcp_accept(pcb, &on_accept);
        return err::ok;
    }
    tcp_end* first() { return ends.empty() ? nullptr : ends.front().get(); }
};

/// Declared right after a test's tcp_end / tcp_server locals: frees every pcb of `s`
/// (in core context) when the scope ends, before those locals are destroyed. Without
/// it a timer or a late segment could call a callback whose arg (a local) is already
/// gone, between the end of the test body and the fixture's TearDown.
struct pcbs_freed_at_scope_end {
    stack& s;
    ~pcbs_freed_at_scope_end() { in_core(s, [&] { tcp_free_all(s); }); }
};

/// Waits (bounded; yields between checks) until pred() holds, evaluating it in core
/// context. false after `limit`: the caller fails the test.
template <class Pred>
bool wait_core(stack& s, Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        {
            core_guard g(s);
            if (pred()) return true;
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
}

/// `server` listens on addr:port, `client` connects to it; true once both sides are
/// established (bounded wait). Not from core context.
inline bool open_connection(stack& s, tcp_server& server, tcp_end& client, ip4_addr addr, std::uint16_t port) {
    const err e = in_core(s, [&] {
        if (const err l = server.listen(s, port); l != err::ok) return l;
        tcp_pcb* p = tcp_new(s);
        if (!p) return err::mem;
        client.attach(p);
        return tcp_connect(p, addr, port, &tcp_end::on_connected);
    });
    EXPECT_EQ(e, err::ok);
    return e == err::ok && wait_core(s, [&] {
               return client.connected && server.accepted == 1 && client.pcb->state == tcp_state::established &&
                      server.first()->pcb->state == tcp_state::established;
           });
}

/// The pcb's state and sequence variables, for failure messages. Core context.
inline std::string describe(const tcp_pcb* p) {
    if (!p) return "(no pcb)";
    std::size_t unsent = 0, unacked = 0, ooseq = 0;
    for (const tcp_seg* q = p->unsent; q; q = q->next) ++unsent;
    for (const tcp_seg* q = p->unacked; q; q = q->next) ++unacked;
    for (const tcp_seg* q = p->ooseq; q; q = q->next) ++ooseq;
    std::ostringstream o;
    o << tcp_state_name(p->state) << " una=" << p->snd_una - p->iss << " nxt=" << p->snd_nxt - p->iss
      << " max=" << p->snd_max - p->iss << " lbb=" << p->snd_lbb - p->iss << " wnd=" << p->snd_wnd
      << " cwnd=" << p->cwnd << " ssthresh=" << p->ssthresh << " rcv_nxt=" << p->rcv_nxt - p->irs
      << " rcv_wnd=" << p->rcv_wnd << " unsent=" << unsent << " unacked=" << unacked << " ooseq=" << ooseq
      << " rto=" << p->rto_ms << " rto_due=" << p->rto_due << " persist_due=" << p->persist_due
      << " nrtx=" << int{p->nrtx} << " flags=" << std::hex << p->flags << std::dec;
    return o.str();
}

// ---- an independent IPv4 + TCP segment builder and parser ---------------------------------

struct tcp_spec {
    ip4_addr src = ip4_addr::from_octets(10, 0, 0, 2);
    ip4_addr dst = ip4_addr::from_octets(10, 0, 0, 1);
    std::uint16_t sport = 5000, dport = 80;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t wnd = 8192;
    std::optional<std::uint16_t> mss;
    bytes payload;
};

/// TCP checksum over the pseudo header and b[20..] (checksum field zeroed first).
inline void fix_tcp_checksum(bytes& b) {
    const std::size_t tcp_len = b.size() - 20;
    put_be16(b, 36, 0);
    bytes ph(b.begin() + 12, b.begin() + 20);
    ph.push_back(0);
    ph.push_back(6);
    ph.push_back(static_cast<std::uint8_t>(tcp_len >> 8));
    ph.push_back(static_cast<std::uint8_t>(tcp_len));
    put_be16(b, 36, ref_chksum({b.data() + 20, tcp_len}, ref_sum(ph)));
}

inline bytes build_tcp(const tcp_spec& t) {
    const std::size_t hlen = t.mss ? 24 : 20;
    bytes b(20 + hlen + t.payload.size());
    b[0] = 0x45;
    put_be16(b, 2, static_cast<std::uint16_t>(b.size()));
    put_be16(b, 6, 0x4000);
    b[8] = 64;
    b[9] = 6;
    put_addr(b, 12, t.src);
    put_addr(b, 16, t.dst);
    put_be16(b, 20, t.sport);
    put_be16(b, 22, t.dport);
    put_be16(b, 24, static_cast<std::uint16_t>(t.seq >> 16));
    put_be16(b, 26, static_cast<std::uint16_t>(t.seq));
    put_be16(b, 28, static_cast<std::uint16_t>(t.ack >> 16));
    put_be16(b, 30, static_cast<std::uint16_t>(t.ack));
    b[32] = static_cast<std::uint8_t>((hlen / 4) << 4);
    b[33] = t.flags;
    put_be16(b, 34, t.wnd);
    if (t.mss) {
        b[40] = 2;
        b[41] = 4;
        put_be16(b, 42, *t.mss);
    }
    std::copy(t.payload.begin(), t.payload.end(), b.begin() + 20 + static_cast<std::ptrdiff_t>(hlen));
    fix_tcp_checksum(b);
    fix_ip_checksum(b);
    return b;
}

/// A segment the stack sent, as read back from captured bytes.
struct seen_segment {
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t wnd = 0;
    std::optional<std::uint16_t> mss;
    bytes payload;
    bool checksum_ok = false;
    [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

inline seen_segment parse_tcp(const bytes& b) {
    seen_segment s;
    EXPECT_GE(b.size(), 40u);
    if (b.size() < 40) return s;
    const std::size_t ihl = (b[0] & 0x0f) * 4u;
    const auto be32 = [&](std::size_t o) { return (std::uint32_t{be16(b, o)} << 16) | be16(b, o + 2); };
    s.sport = be16(b, ihl);
    s.dport = be16(b, ihl + 2);
    s.seq = be32(ihl + 4);
    s.ack = be32(ihl + 8);
    const std::size_t hlen = (b[ihl + 12] >> 4) * 4u;
    s.flags = b[ihl + 13];
    s.wnd = be16(b, ihl + 14);
    const auto opts = wire::parse_tcp_options(
        {reinterpret_cast<const std::byte*>(b.data()) + ihl + 20, hlen - 20});
    if (opts) s.mss = opts->mss;
    s.payload.assign(b.begin() + static_cast<std::ptrdiff_t>(ihl + hlen), b.end());
    bytes copy = b;
    fix_tcp_checksum(copy);
    s.checksum_ok = be16(copy, 36) == be16(b, 36);
    return s;
}

}  // namespace lwbench::test
