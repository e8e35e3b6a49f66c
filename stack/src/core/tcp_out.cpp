// tcp_out.cpp — TCP segment output: the send queue (tcp_write, SYN/FIN), tcp_output
// (windows, Nagle, congestion window), retransmission, window probes, ACKs and RSTs.
//
// Zero copy on the wire. A queued segment keeps its payload pbufs for as long as it
// may be retransmitted, so those pbufs are never handed to the netif themselves: a
// receiver on the zero-copy loopback gets the very pbufs it is sent and moves their
// payload pointers as it strips headers. Each transmission instead sends a fresh
// header pbuf followed by one *view* per payload pbuf: a ref pbuf over the same bytes
// that holds a reference on the payload pbuf and drops it when the view is freed
// (release_view). Receivers own their views; the sender's segment stays untouched,
// and the payload bytes are copied by nobody.
#include <algorithm>
#include <cstring>

#include "lwbench/detail/stack_access.hpp"
#include "lwbench/detail/tcp_priv.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/wire/tcp.hpp"

LWBENCH_NS_BEGIN

using namespace detail;
namespace flag = wire::tcp_flag;

namespace {

void release_view(void* backing, const void*) { pbuf_free(static_cast<pbuf*>(backing)); }

/// Bytes a pool pbuf can still take after its payload (copy writes append there).
std::size_t tailroom(const pbuf* p) {
    if (p->type != pbuf_type::pool) return 0;
    const std::byte* end = p->buf_start + k_pool_bufsize;
    return static_cast<std::size_t>(end - (p->bytes() + p->len));
}


void append_unsent(tcp_pcb* pcb, tcp_seg* seg) {
    if (pcb->unsent_tail) {
        pcb->unsent_tail->next = seg;
    } else {
        pcb->unsent = seg;
    }
    pcb->unsent_tail = seg;
}

/// Builds header + views for one segment and hands it to IP. `seq` and `flags` may
/// differ from the segment's own for probes; `seg` may be null (header only).
err transmit(tcp_pcb* pcb, const tcp_seg* seg, std::uint32_t seq, std::uint8_t flags) {
    stack& s = *pcb->owner;
    netif* n = ip4_route(s, pcb->remote_ip);
    if (!n) return err::rte;
    wire::tcp_repr r;
    r.src_port = pcb->local_port;
    r.dst_port = pcb->remote_port;
    r.seq = seq;
    r.flags = flags;
    if (pcb->state != tcp_state::syn_sent) {
        r.flags |= flag::ack;
        r.ack = pcb->rcv_nxt;
    }
    r.window = announce_window(pcb);
    if (flags & flag::syn) r.mss = effective_mss(tcp_core_of(s), pcb, tcp_core_of(s).cfg.mss);
    const std::size_t hlen = r.header_len();
    pbuf* h = detail::stack_access::pools(s).alloc(pbuf_layer::ip, hlen, pbuf_type::pool);
    if (!h) return err::mem;
    wire::emit_tcp({h->bytes(), hlen}, r);
    if (seg)
        for (pbuf* q = seg->data; q; q = q->next) {
            pbuf* view = detail::stack_access::pools(s).alloc_ref(q->payload, q->len, true, &release_view, q);
            if (!view) {
                pbuf_free(h);
                return err::mem;
            }
            pbuf_ref(q);  // dropped by release_view when the view is freed
            pbuf_cat(h, view);
        }
    if (n->caps.chksum_gen_tcp) {
        const std::uint16_t c = inet_chksum_pseudo(h, wire::k_proto_tcp, h->tot_len, pcb->local_ip, pcb->remote_ip);
        std::memcpy(h->bytes() + 16, &c, 2);
    }
    const err e = ip4_output_if(s, h, pcb->local_ip, pcb->remote_ip, pcb->ttl, pcb->tos, wire::k_proto_tcp, n);
    pbuf_free(h);
    if (e != err::ok) return e;
    s.st().tcp_xmit.inc();
    pcb->flags &= static_cast<std::uint16_t>(~(pcb_flag::ack_now | pcb_flag::ack_delay));  // the ACK went with it
    return err::ok;
}

/// Sends one queued segment (new or resent) and does the sender's bookkeeping.
err send_segment(tcp_pcb* pcb, tcp_seg* seg) {
    const bool resend = seg->sent;
    const err e = transmit(pcb, seg, seg->seq, seg->flags);
    if (e != err::ok) return e;
    seg->sent = true;
    if (resend) pcb->owner->st().tcp_rexmit.inc();
    // Karn: time only a segment sent for the first time, one at a time.
    if (!resend && pcb->rtt_start_us < 0) {
        pcb->rtt_start_us = tcp_core_of(*pcb->owner).now_us();
        pcb->rtt_seq = seg->seq;
    }
    if (pcb->rto_due == 0) pcb->rto_due = tcp_core_of(*pcb->owner).deadline_ms(pcb->rto_ms);
    return err::ok;
}

}  // namespace

namespace detail {

std::uint16_t announce_window(tcp_pcb* pcb) {
    const tcp_config& cfg = tcp_core_of(*pcb->owner).cfg;
    const std::uint32_t current = seq_gt(pcb->rcv_ann_right, pcb->rcv_nxt) ? pcb->rcv_ann_right - pcb->rcv_nxt : 0;
    // Move the right edge only by at least min(buffer/2, MSS) (RFC 9293 3.8.6.2.2), and never left.
    if (pcb->rcv_wnd >= current + std::min<std::uint32_t>(cfg.wnd / 2, pcb->mss) || pcb->rcv_wnd == cfg.wnd) {
        pcb->rcv_ann_right = pcb->rcv_nxt + pcb->rcv_wnd;
        return static_cast<std::uint16_t>(std::min<std::uint32_t>(pcb->rcv_wnd, 0xffff));
    }
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(current, 0xffff));
}

err enqueue_flags(tcp_pcb* pcb, std::uint8_t flags) {
    if ((flags & flag::fin) && pcb->unsent_tail && !(pcb->unsent_tail->flags & (flag::syn | flag::fin))) {
        pcb->unsent_tail->flags |= flag::fin;
    } else {
        tcp_seg* seg = tcp_core_of(*pcb->owner).seg_alloc();
        if (!seg) return err::mem;
        seg->seq = pcb->snd_lbb;
        seg->flags = flags;
        append_unsent(pcb, seg);
    }
    pcb->snd_lbb += 1;
    if (flags & flag::fin) pcb->flags |= pcb_flag::fin_queued;
    return err::ok;
}

err send_empty_ack(tcp_pcb* pcb) {
    // snd_max, not snd_nxt: after a timeout snd_nxt walks back over data the peer may
    // already hold, and an ACK below its rcv_nxt would be unacceptable to it (dropped
    // unread), so neither side would ever learn the other's progress. But never beyond
    // the peer's right edge (a peer that shrank its window): once its window closes,
    // it accepts an empty segment only at its rcv_nxt, which is that edge.
    const std::uint32_t right_edge = pcb->snd_una + pcb->snd_wnd;
    return transmit(pcb, nullptr, seq_gt(pcb->snd_max, right_edge) ? right_edge : pcb->snd_max, 0);
}

void send_rst(stack& s, std::uint32_t seq, std::uint32_t ack, bool with_ack, ip4_addr local, ip4_addr remote,
              std::uint16_t local_port, std::uint16_t remote_port) {
    netif* n = ip4_route(s, remote);
    if (!n) return;
    wire::tcp_repr r;
    r.src_port = local_port;
    r.dst_port = remote_port;
    r.seq = seq;
    r.ack = with_ack ? ack : 0;
    r.flags = static_cast<std::uint8_t>(flag::rst | (with_ack ? flag::ack : 0));
    pbuf* h = detail::stack_access::pools(s).alloc(pbuf_layer::ip, r.header_len(), pbuf_type::pool);
    if (!h) return;
    wire::emit_tcp({h->bytes(), r.header_len()}, r);
    const ip4_addr src = local.is_any() ? n->ip : local;
    if (n->caps.chksum_gen_tcp) {
        const std::uint16_t c = inet_chksum_pseudo(h, wire::k_proto_tcp, h->tot_len, src, remote);
        std::memcpy(h->bytes() + 16, &c, 2);
    }
    if (ip4_output_if(s, h, src, remote, 64, 0, wire::k_proto_tcp, n) == err::ok) s.st().tcp_xmit.inc();
    pbuf_free(h);
}

void rexmit_first(tcp_pcb* pcb) {
    if (!pcb->unacked) return;
    if (pcb->rtt_start_us >= 0 && seq_geq(pcb->rtt_seq, pcb->unacked->seq)) pcb->rtt_start_us = -1;  // Karn
    if (send_segment(pcb, pcb->unacked) != err::ok) pcb->flags |= pcb_flag::output_retry;
}

void rexmit_all(tcp_pcb* pcb) {
    if (!pcb->unacked) return;
    pcb->unacked_tail->next = pcb->unsent;
    if (!pcb->unsent) pcb->unsent_tail = pcb->unacked_tail;
    pcb->unsent = pcb->unacked;
    pcb->unacked = pcb->unacked_tail = nullptr;
    pcb->snd_nxt = pcb->snd_una;  // go back: resend from the oldest unacknowledged byte
}

void send_window_probe(tcp_pcb* pcb) {
    if (transmit(pcb, nullptr, pcb->snd_una - 1, 0) == err::ok) pcb->owner->st().tcp_persist_probes.inc();
}

}  // namespace detail

// ---- the API --------------------------------------------------------------------------------

err tcp_write(tcp_pcb* pcb, const void* data, std::uint32_t len, std::uint8_t flags, pbuf_free_fn on_release,
              void* release_arg) {
    if (!pcb || (!data && len)) return err::arg;
    stack& s = *pcb->owner;
    assert_core_context(s, "tcp_write");
    switch (pcb->state) {
        case tcp_state::syn_sent:
        case tcp_state::syn_rcvd:
        case tcp_state::established:
        case tcp_state::close_wait: break;
        default: return err::conn;
    }
    if (pcb->flags & pcb_flag::fin_queued) return err::conn;
    if (len == 0) return err::ok;
    if (len > pcb->snd_buf) return err::mem;
    tcp_core& core = tcp_core_of(s);
    const bool copy = (flags & tcp_write_flags::copy) != 0;
    const auto* src = static_cast<const std::byte*>(data);
    // Enough segment descriptors for the worst case, so that nothing is half-queued.
    if (core.segs_available < len / pcb->mss + 1) return err::mem;

    // 1. How much joins the last queued segment (small writes coalesce), then allocate
    //    everything else; nothing is queued unless all of it could be allocated.
    tcp_seg* last = pcb->unsent_tail;
    std::uint32_t joined = 0;
    pbuf* last_tail = nullptr;
    if (last && !last->sent && !(last->flags & (flag::syn | flag::fin)) && last->len < pcb->mss &&
        last->copied == copy && last->data) {
        joined = std::min<std::uint32_t>(len, pcb->mss - last->len);
        if (copy) {
            last_tail = last->data;
            while (last_tail->next) last_tail = last_tail->next;
            joined = std::min<std::uint32_t>(joined, static_cast<std::uint32_t>(tailroom(last_tail)));
        }
    }
    pbuf* joined_ref = nullptr;
    if (joined > 0 && !copy) {
        joined_ref = detail::stack_access::pools(s).alloc_ref(src, joined, true, on_release, release_arg);
        if (!joined_ref) return err::mem;
    }
    tcp_seg* head = nullptr;
    tcp_seg* tail = nullptr;
    for (std::uint32_t pos = joined; pos < len;) {
        const std::uint32_t n = std::min<std::uint32_t>(len - pos, pcb->mss);
        pbuf* p = copy ? detail::stack_access::pools(s).alloc(pbuf_layer::raw, n, pbuf_type::pool)
                       : detail::stack_access::pools(s).alloc_ref(src + pos, n, true, on_release, release_arg);
        tcp_seg* seg = p ? core.seg_alloc() : nullptr;
        if (!seg) {
            pbuf_free(p);
            core.free_list(head);
            pbuf_free(joined_ref);
            return err::mem;
        }
        seg->data = p;
        seg->len = n;
        seg->seq = pcb->snd_lbb + pos;
        seg->copied = copy;
        (tail ? tail->next : head) = seg;
        tail = seg;
        pos += n;
    }
    // 2. Commit: fill in the data, link the new segments.
    if (joined > 0) {
        if (copy) {
            std::memcpy(last_tail->bytes() + last_tail->len, src, joined);
            last_tail->len = static_cast<std::uint16_t>(last_tail->len + joined);
            for (pbuf* q = last->data; q; q = q->next) q->tot_len = static_cast<std::uint16_t>(q->tot_len + joined);
        } else {
            pbuf_cat(last->data, joined_ref);
        }
        last->len += joined;
    }
    if (copy) {
        for (tcp_seg* seg = head; seg; seg = seg->next)
            std::memcpy(seg->data->payload, src + (seg->seq - pcb->snd_lbb), seg->len);
        s.st().payload_copies.inc();  // one copy per write call, as a socket send counts one
        s.st().payload_copy_bytes.inc(len);
    }
    if (head) {
        (pcb->unsent_tail ? pcb->unsent_tail->next : pcb->unsent) = head;
        pcb->unsent_tail = tail;
    }
    pcb->snd_lbb += len;
    pcb->snd_buf -= len;
    if (!(flags & tcp_write_flags::more)) pcb->unsent_tail->flags |= flag::psh;
    return err::ok;
}

err tcp_output(tcp_pcb* pcb) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "tcp_output");
    if (pcb->state == tcp_state::closed || pcb->state == tcp_state::listen) return err::ok;
    const std::uint32_t wnd = std::min(pcb->snd_wnd, pcb->cwnd);
    err result = err::ok;
    while (tcp_seg* seg = pcb->unsent) {
        const std::uint32_t end = seg->seq + seg->seq_len();
        const bool is_syn = (seg->flags & flag::syn) != 0;
        if (!is_syn && end - pcb->snd_una > wnd) break;  // window or congestion window full
        // Nagle (RFC 9293 3.7.4): while data is unacknowledged, hold back a last, small segment.
        if (pcb->unacked && !(pcb->flags & pcb_flag::nodelay) && !seg->next && seg->len < pcb->mss &&
            !(seg->flags & flag::fin))
            break;
        if (const err e = send_segment(pcb, seg); e != err::ok) {
            pcb->flags |= pcb_flag::output_retry;
            result = e;
            break;
        }
        pcb->unsent = seg->next;
        if (!pcb->unsent) pcb->unsent_tail = nullptr;
        seg->next = nullptr;
        if (pcb->unacked_tail) {
            pcb->unacked_tail->next = seg;
        } else {
            pcb->unacked = seg;
        }
        pcb->unacked_tail = seg;
        if (seq_gt(end, pcb->snd_nxt)) pcb->snd_nxt = end;
        if (seq_gt(pcb->snd_nxt, pcb->snd_max)) pcb->snd_max = pcb->snd_nxt;
    }
    // Persist (RFC 9293 3.8.6.1): data waits, nothing is in flight to bring an ACK, and
    // the peer's window cannot take the next segment. Probes replace the retransmission
    // timer, which has nothing to resend (RFC 6298 (5.2)) and would count a closed
    // window as lost segments until the connection timed out.
    if (pcb->unsent && !pcb->unacked && pcb->snd_nxt == pcb->snd_una && !(pcb->unsent->flags & flag::syn) &&
        pcb->unsent->seq + pcb->unsent->seq_len() - pcb->snd_una > pcb->snd_wnd) {
        pcb->rto_due = 0;
        if (pcb->persist_due == 0) {
            pcb->persist_backoff_ms = pcb->rto_ms;
            pcb->persist_due = tcp_core_of(*pcb->owner).deadline_ms(pcb->persist_backoff_ms);
        }
    } else {
        pcb->persist_due = 0;
    }
    if (pcb->flags & pcb_flag::ack_now) {
        if (const err e = send_empty_ack(pcb); e != err::ok && result == err::ok) result = e;
    }
    return result;
}

LWBENCH_NS_END
