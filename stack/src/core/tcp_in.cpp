// tcp_in.cpp — TCP segment input: validation (dropped and counted), demultiplexing,
// and the state machine of RFC 9293 3.10.7 ("SEGMENT ARRIVES"): handshake, sequence
// acceptability, RST and SYN checks (with RFC 5961 challenge ACKs), ACK processing
// (RTT, congestion control with NewReno fast recovery, window updates), in-order and
// out-of-order data, FIN.
#include <algorithm>
#include <optional>

#include "lwbench/detail/tcp_priv.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/wire/tcp.hpp"

LWBENCH_NS_BEGIN

using namespace detail;
namespace flag = wire::tcp_flag;

namespace {

/// A validated incoming segment, header removed.
struct segment {
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t wnd = 0;
    std::optional<std::uint16_t> mss;
    pbuf* data = nullptr;  ///< payload (owned; null when empty)
    std::uint32_t len = 0;  ///< payload bytes
    ip4_addr src, dst;
    std::uint16_t sport = 0, dport = 0;

    [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
    [[nodiscard]] std::uint32_t seq_len() const {
        return len + (has(flag::syn) ? 1u : 0u) + (has(flag::fin) ? 1u : 0u);
    }
    void drop_data() {
        pbuf_free(data);
        data = nullptr;
        len = 0;
    }
};

/// Whether processing may go on with the pcb.
enum class outcome : std::uint8_t { keep, freed };

void ack_now(tcp_pcb* pcb) { pcb->flags |= pcb_flag::ack_now; }

std::uint32_t rcv_window(const tcp_pcb* pcb) {
    return seq_gt(pcb->rcv_ann_right, pcb->rcv_nxt) ? pcb->rcv_ann_right - pcb->rcv_nxt : 0;
}

/// RFC 9293 3.10.7.4 first check: is any part of the segment inside the window?
bool acceptable(const tcp_pcb* pcb, const segment& seg) {
    const std::uint32_t wnd = rcv_window(pcb);
    const std::uint32_t n = seg.seq_len();
    const auto in_window = [&](std::uint32_t x) { return seq_geq(x, pcb->rcv_nxt) && seq_lt(x, pcb->rcv_nxt + wnd); };
    if (n == 0) return wnd == 0 ? seg.seq == pcb->rcv_nxt : in_window(seg.seq);
    if (wnd == 0) return false;
    return in_window(seg.seq) || in_window(seg.seq + n - 1);
}

/// Trims the segment to the receive window: bytes before rcv_nxt and after the right edge.
void trim_to_window(const tcp_pcb* pcb, segment& seg) {
    if (seq_lt(seg.seq, pcb->rcv_nxt)) {
        std::uint32_t cut = pcb->rcv_nxt - seg.seq;
        if (seg.has(flag::syn)) {
            seg.flags &= static_cast<std::uint8_t>(~flag::syn);
            --cut;
        }
        cut = std::min(cut, seg.len);
        if (cut == seg.len) {
            seg.drop_data();
        } else if (cut > 0) {
            seg.data = pbuf_free_header(seg.data, cut);
            seg.len -= cut;
        }
        seg.seq = pcb->rcv_nxt;
    }
    const std::uint32_t wnd = rcv_window(pcb);
    if (seg.len > wnd) {
        if (wnd == 0) {
            seg.drop_data();
        } else {
            pbuf_realloc(seg.data, wnd);
            seg.len = wnd;
        }
        seg.flags &= static_cast<std::uint8_t>(~flag::fin);  // the FIN lies beyond the window
    }
}

/// Hands in-order data to the application (or frees it and reopens the window).
outcome deliver(tcp_pcb* pcb, pbuf* p, std::uint32_t len) {
    pcb->rcv_wnd -= std::min(pcb->rcv_wnd, len);
    if ((pcb->flags & pcb_flag::rx_shut) || !pcb->recv) {
        pbuf_free(p);
        tcp_recved(pcb, len);
        return outcome::keep;
    }
    return pcb->recv(pcb->arg, pcb, p, err::ok) == err::abrt ? outcome::freed : outcome::keep;
}

/// The peer's FIN is in order: advance, change state, tell the application.
outcome receive_fin(tcp_pcb* pcb, bool our_fin_acked) {
    pcb->rcv_nxt += 1;
    ack_now(pcb);
    switch (pcb->state) {
        case tcp_state::syn_rcvd:
        case tcp_state::established: pcb->state = tcp_state::close_wait; break;
        case tcp_state::fin_wait_1:
            if (our_fin_acked) {
                enter_time_wait(pcb);
            } else {
                pcb->state = tcp_state::closing;
            }
            break;
        case tcp_state::fin_wait_2: enter_time_wait(pcb); break;
        default: return outcome::keep;
    }
    if (pcb->recv && !(pcb->flags & pcb_flag::rx_shut))
        return pcb->recv(pcb->arg, pcb, nullptr, err::ok) == err::abrt ? outcome::freed : outcome::keep;
    return outcome::keep;
}

/// Queues an out-of-order segment (sorted, overlaps trimmed). Takes the data.
void queue_ooseq(tcp_pcb* pcb, segment& seg) {
    tcp_core& core = tcp_core_of(*pcb->owner);
    tcp_seg** pp = &pcb->ooseq;
    while (*pp && seq_leq((*pp)->seq + (*pp)->seq_len(), seg.seq)) pp = &(*pp)->next;  // entirely before
    if (*pp && seq_leq((*pp)->seq, seg.seq) && seq_geq((*pp)->seq + (*pp)->seq_len(), seg.seq + seg.seq_len())) {
        seg.drop_data();  // a duplicate of what is queued
        return;
    }
    if (*pp && seq_lt((*pp)->seq, seg.seq)) {
        // Overlaps the end of *pp: keep only our bytes after it.
        const std::uint32_t cut = (*pp)->seq + (*pp)->seq_len() - seg.seq;
        seg.data = pbuf_free_header(seg.data, cut);
        seg.len -= cut;
        seg.seq += cut;
        pp = &(*pp)->next;
    }
    if (*pp && seq_lt((*pp)->seq, seg.seq + seg.seq_len())) {
        // Overlaps the start of the next one: keep our bytes before it.
        const std::uint32_t keep = (*pp)->seq - seg.seq;
        seg.flags &= static_cast<std::uint8_t>(~flag::fin);
        if (keep == 0) {
            seg.drop_data();
            return;
        }
        pbuf_realloc(seg.data, keep);
        seg.len = keep;
    }
    if (seg.seq_len() == 0) return;
    tcp_seg* q = core.seg_alloc();
    if (!q) {
        pcb->owner->st().drop(drop_reason::tcp_ooseq_full);
        seg.drop_data();
        return;
    }
    q->seq = seg.seq;
    q->len = seg.len;
    q->data = seg.data;
    q->flags = seg.flags & flag::fin;
    q->next = *pp;
    *pp = q;
    seg.data = nullptr;
    seg.len = 0;
}

/// Segment text and FIN (RFC 9293 3.10.7.4, seventh and eighth). Takes the data.
outcome receive_text(tcp_pcb* pcb, segment& seg, bool our_fin_acked) {
    const bool takes_text = pcb->state == tcp_state::established || pcb->state == tcp_state::fin_wait_1 ||
                            pcb->state == tcp_state::fin_wait_2;
    if (!takes_text) {
        // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer already sent FIN. A
        // retransmitted FIN gets its ACK again (TIME_WAIT restarts 2*MSL).
        if (seg.has(flag::fin) || seg.len) ack_now(pcb);
        if (pcb->state == tcp_state::time_wait && seg.has(flag::fin)) enter_time_wait(pcb);
        seg.drop_data();
        return outcome::keep;
    }
    if (seg.seq != pcb->rcv_nxt) {
        if (seg.seq_len() > 0) {
            queue_ooseq(pcb, seg);
            ack_now(pcb);  // a duplicate ACK tells the sender about the hole (RFC 5681 4.2)
        }
        return outcome::keep;
    }
    const bool filled_hole = pcb->ooseq != nullptr;
    bool fin = seg.has(flag::fin);
    if (seg.len > 0) {
        pcb->rcv_nxt += seg.len;
        // Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): at least every second full segment.
        if (pcb->flags & pcb_flag::ack_delay) {
            ack_now(pcb);
        } else {
            pcb->flags |= pcb_flag::ack_delay;
            pcb->delack_due = tcp_core_of(*pcb->owner).deadline_ms(tcp_core_of(*pcb->owner).cfg.delack_ms);
        }
        pbuf* p = seg.data;
        const std::uint32_t n = seg.len;
        seg.data = nullptr;
        seg.len = 0;
        if (deliver(pcb, p, n) == outcome::freed) return outcome::freed;
    }
    // Out-of-order segments that now follow in order.
    while (!fin && pcb->ooseq && seq_leq(pcb->ooseq->seq, pcb->rcv_nxt)) {
        tcp_seg* q = pcb->ooseq;
        pcb->ooseq = q->next;
        const std::uint32_t cut = pcb->rcv_nxt - q->seq;
        if (cut >= q->len) {
            fin = (q->flags & flag::fin) && cut == q->len;
            tcp_core_of(*pcb->owner).seg_free(q);
            continue;
        }
        pbuf* p = pbuf_free_header(q->data, cut);
        const std::uint32_t n = q->len - cut;
        fin = (q->flags & flag::fin) != 0;
        q->data = nullptr;
        tcp_core_of(*pcb->owner).seg_free(q);
        pcb->rcv_nxt += n;
        if (deliver(pcb, p, n) == outcome::freed) return outcome::freed;
    }
    if (filled_hole) ack_now(pcb);  // RFC 5681 4.2: ACK at once when a gap closes
    if (fin) {
        tcp_core_of(*pcb->owner).free_list(pcb->ooseq);  // nothing lies beyond the FIN
        pcb->ooseq = nullptr;
        return receive_fin(pcb, our_fin_acked);
    }
    return outcome::keep;
}

/// Removes acknowledged data from the send queues; returns payload bytes acked and
/// whether our FIN was among them.
std::uint32_t drop_acked(tcp_pcb* pcb, std::uint32_t ack, bool& fin_acked) {
    tcp_core& core = tcp_core_of(*pcb->owner);
    std::uint32_t bytes = 0;
    for (tcp_seg** list : {&pcb->unacked, &pcb->unsent}) {
        while (tcp_seg* seg = *list) {
            const std::uint32_t end = seg->seq + seg->seq_len();
            if (seq_leq(end, ack)) {
                bytes += seg->len;
                if (seg->flags & flag::fin) fin_acked = true;
                *list = seg->next;
                core.seg_free(seg);
                continue;
            }
            if (seq_gt(ack, seg->seq)) {  // partly acknowledged: trim the front
                std::uint32_t cut = ack - seg->seq;
                if (seg->flags & flag::syn) {
                    seg->flags &= static_cast<std::uint8_t>(~flag::syn);
                    --cut;
                }
                seg->data = pbuf_free_header(seg->data, cut);
                seg->len -= cut;
                seg->seq = ack;
                bytes += cut;
            }
            break;
        }
    }
    if (!pcb->unacked) pcb->unacked_tail = nullptr;
    if (!pcb->unsent) pcb->unsent_tail = nullptr;
    return bytes;
}

/// ACK processing for synchronized states (RFC 9293 3.10.7.4 fifth, RFC 5681, RFC 6582,
/// RFC 6298). Returns freed if the pcb went away; `fin_acked` tells whether our FIN is acked.
outcome process_ack(tcp_pcb* pcb, const segment& seg, bool& fin_acked) {
    stack& s = *pcb->owner;
    const std::uint32_t ack = seg.ack;
    const std::uint32_t una_before = pcb->snd_una;
    if (seq_gt(ack, pcb->snd_max)) {  // acknowledges something not yet sent
        ack_now(pcb);
        s.st().drop(drop_reason::tcp_unacceptable);
        return outcome::keep;
    }
    // While we persist, an acceptable ACK answers our probes: the peer is alive, and
    // its window may stay closed for as long as it keeps answering (RFC 9293 3.8.6.1).
    if (pcb->persist_due) pcb->nrtx = 0;
    std::uint32_t acked_bytes = 0;
    if (seq_lt(ack, pcb->snd_una)) {
        // An old duplicate: ignore its ACK, and its window (below).
    } else if (ack == pcb->snd_una) {
        // Duplicate ACK (RFC 5681 2): no data, no SYN/FIN, same window, data outstanding.
        if (seg.len == 0 && !seg.has(flag::syn | flag::fin) && seg.wnd == pcb->snd_wnd && pcb->snd_nxt != pcb->snd_una) {
            ++pcb->dupacks;
            const bool recovering = (pcb->flags & pcb_flag::in_recovery) != 0;
            if (pcb->dupacks == 3 && !recovering && seq_gt(ack, pcb->recover)) {
                // Fast retransmit, enter fast recovery (RFC 6582 3.2 step 2-3).
                pcb->recover = pcb->snd_max;
                pcb->ssthresh = std::max<std::uint32_t>((pcb->snd_nxt - pcb->snd_una) / 2, 2u * pcb->mss);
                s.st().tcp_fast_rexmit.inc();
                rexmit_first(pcb);
                pcb->cwnd = pcb->ssthresh + 3u * pcb->mss;
                pcb->flags |= pcb_flag::in_recovery;
            } else if (pcb->dupacks > 3 && recovering) {
                pcb->cwnd += pcb->mss;  // inflate: a segment has left the network
            }
        }
    } else {
        // New data acknowledged.
        pcb->dupacks = 0;
        pcb->nrtx = 0;
        acked_bytes = drop_acked(pcb, ack, fin_acked);
        const std::uint32_t acked_seq = ack - pcb->snd_una;
        pcb->snd_una = ack;
        if (seq_lt(pcb->snd_nxt, ack)) pcb->snd_nxt = ack;
        pcb->snd_buf += acked_bytes;
        if (pcb->rtt_start_us >= 0 && seq_gt(ack, pcb->rtt_seq)) {
            rtt_sample(pcb, tcp_core_of(s).now_us() - pcb->rtt_start_us);
            pcb->rtt_start_us = -1;
        }
        if (pcb->flags & pcb_flag::in_recovery) {
            if (seq_geq(ack, pcb->recover)) {  // full ACK: leave fast recovery (RFC 6582 step 3)
                const std::uint32_t flight = pcb->snd_nxt - pcb->snd_una;
                pcb->cwnd = std::min(pcb->ssthresh, std::max(flight, std::uint32_t{pcb->mss}) + pcb->mss);
                pcb->flags &= static_cast<std::uint16_t>(~pcb_flag::in_recovery);
            } else {  // partial ACK: resend the next hole, deflate
                rexmit_first(pcb);
                pcb->cwnd = pcb->cwnd > acked_seq ? pcb->cwnd - acked_seq : pcb->mss;
                if (acked_seq >= pcb->mss) pcb->cwnd += pcb->mss;
                pcb->cwnd = std::max<std::uint32_t>(pcb->cwnd, pcb->mss);
            }
        } else if (pcb->cwnd < pcb->ssthresh) {  // slow start
            pcb->cwnd += std::min<std::uint32_t>(acked_seq, pcb->mss);
        } else {  // congestion avoidance
            pcb->cwnd += std::max<std::uint32_t>(1, std::uint32_t{pcb->mss} * pcb->mss / pcb->cwnd);
        }
        rto_restart(pcb);  // RFC 6298 (5.2), (5.3)
    }
    // Send window update (RFC 9293 3.10.7.4), from the newest segment only. SND.WND
    // counts from SND.UNA, so SND.UNA + SND.WND is the peer's right edge only if the
    // window came with the acknowledgement SND.UNA now holds:
    //  - a segment that acknowledges new data updates it even when its SEQ is older
    //    than SND.WL1 (the peer's retransmission after a timeout carries its newest
    //    ACK and window). RFC 9293's SND.WL1 test alone would keep the window of an
    //    older ACK, move SND.UNA forward under it, and so overshoot the peer's right
    //    edge: data sent beyond it is refused, and once the peer's window closes, our
    //    SND.NXT lies beyond its RCV.NXT, where it refuses our ACKs too;
    //  - an older acknowledgement (below SND.UNA) never updates it, for the same reason;
    //  - otherwise (the same acknowledgement) SND.WL1/SND.WL2 pick the newest segment.
    if (seq_gt(ack, una_before) ||
        (ack == una_before &&
         (seq_lt(pcb->snd_wl1, seg.seq) || (pcb->snd_wl1 == seg.seq && seq_leq(pcb->snd_wl2, ack))))) {
        pcb->snd_wnd = seg.wnd;
        pcb->snd_wl1 = seg.seq;
        pcb->snd_wl2 = ack;
        if (pcb->snd_wnd > 0) pcb->persist_due = 0;  // the window opened: leave persist
    }
    if (acked_bytes > 0 && pcb->sent && !(pcb->flags & pcb_flag::app_closed))
        if (pcb->sent(pcb->arg, pcb, acked_bytes) == err::abrt) return outcome::freed;
    return outcome::keep;
}

/// SYN_RCVD -> ESTABLISHED: hand a passive child to its listener, or report an active open.
outcome become_established(tcp_pcb* pcb) {
    pcb->state = tcp_state::established;
    if (tcp_pcb* l = pcb->listener) {
        pcb->listener = nullptr;
        if (l->backlog_pending > 0) --l->backlog_pending;
        const err r = l->accept ? l->accept(l->arg, pcb, err::ok) : err::val;
        if (r == err::abrt) return outcome::freed;
        if (r != err::ok) {
            tcp_abort(pcb);
            return outcome::freed;
        }
        return outcome::keep;
    }
    if (pcb->connected && pcb->connected(pcb->arg, pcb, err::ok) == err::abrt) return outcome::freed;
    return outcome::keep;
}

/// Segment for a pcb in SYN_SENT (RFC 9293 3.10.7.3).
void input_syn_sent(tcp_pcb* pcb, segment& seg) {
    stack& s = *pcb->owner;
    const bool ack_ok = seg.has(flag::ack) && seq_gt(seg.ack, pcb->iss) && seq_leq(seg.ack, pcb->snd_max);
    if (seg.has(flag::ack) && !ack_ok) {
        if (!seg.has(flag::rst)) send_rst(s, seg.ack, 0, false, seg.dst, seg.src, seg.dport, seg.sport);
        s.st().drop(drop_reason::tcp_unacceptable);
        return;
    }
    if (seg.has(flag::rst)) {
        if (ack_ok) return pcb_fail(pcb, err::rst);  // connection refused
        s.st().drop(drop_reason::tcp_unacceptable);
        return;
    }
    if (!seg.has(flag::syn)) {
        s.st().drop(drop_reason::tcp_unacceptable);
        return;
    }
    tcp_core& core = tcp_core_of(s);
    pcb->irs = seg.seq;
    pcb->rcv_nxt = seg.seq + 1;
    pcb->rcv_ann_right = pcb->rcv_nxt;
    pcb->mss = effective_mss(core, pcb, seg.mss.value_or(536));
    pcb->cwnd = std::min<std::uint32_t>(4u * pcb->mss, std::max<std::uint32_t>(2u * pcb->mss, 4380));
    pcb->snd_wnd = seg.wnd;
    pcb->snd_wl1 = seg.seq;
    pcb->snd_wl2 = seg.ack;
    seg.drop_data();  // data on a SYN is not kept: the peer sends it again
    if (ack_ok) {
        bool fin_acked = false;
        (void)drop_acked(pcb, seg.ack, fin_acked);
        pcb->snd_una = seg.ack;
        if (pcb->rtt_start_us >= 0) rtt_sample(pcb, core.now_us() - pcb->rtt_start_us);
        pcb->rtt_start_us = -1;
        pcb->nrtx = 0;
        rto_restart(pcb);
        ack_now(pcb);
        pcb->state = tcp_state::established;
        if (pcb->connected && pcb->connected(pcb->arg, pcb, err::ok) == err::abrt) return;
        (void)tcp_output(pcb);
        return;
    }
    // Simultaneous open: answer with SYN,ACK (our SYN again, now with ACK).
    pcb->state = tcp_state::syn_rcvd;
    rexmit_first(pcb);
}

/// Segment for a listening pcb (RFC 9293 3.10.7.2).
void input_listen(tcp_pcb* l, segment& seg) {
    stack& s = *l->owner;
    if (seg.has(flag::rst)) return s.st().drop(drop_reason::tcp_unacceptable);
    if (seg.has(flag::ack)) {
        send_rst(s, seg.ack, 0, false, seg.dst, seg.src, seg.dport, seg.sport);
        return s.st().drop(drop_reason::tcp_unacceptable);
    }
    if (!seg.has(flag::syn)) return s.st().drop(drop_reason::tcp_unacceptable);
    if (l->backlog_pending >= l->backlog) return s.st().drop(drop_reason::tcp_backlog_full);
    tcp_pcb* pcb = tcp_new(s);
    if (!pcb) return s.st().drop(drop_reason::tcp_backlog_full);
    tcp_core& core = tcp_core_of(s);
    pcb->local_ip = seg.dst;
    pcb->local_port = seg.dport;
    pcb->remote_ip = seg.src;
    pcb->remote_port = seg.sport;
    pcb->listener = l;
    pcb->arg = l->arg;
    pcb->ttl = l->ttl;
    pcb->tos = l->tos;
    pcb->flags = l->flags & pcb_flag::nodelay;
    pcb->irs = seg.seq;
    pcb->rcv_nxt = seg.seq + 1;
    pcb->rcv_ann_right = pcb->rcv_nxt;
    pcb->iss = new_isn(core, pcb);
    pcb->snd_una = pcb->snd_nxt = pcb->snd_max = pcb->snd_lbb = pcb->iss;
    pcb->recover = pcb->iss;
    pcb->snd_wnd = seg.wnd;
    pcb->snd_wl1 = seg.seq;
    pcb->snd_wl2 = pcb->iss;
    pcb->mss = effective_mss(core, pcb, seg.mss.value_or(536));
    pcb->cwnd = std::min<std::uint32_t>(4u * pcb->mss, std::max<std::uint32_t>(2u * pcb->mss, 4380));
    pcb->state = tcp_state::syn_rcvd;
    seg.drop_data();
    if (enqueue_flags(pcb, flag::syn) != err::ok) {
        pcb_free(pcb);
        return s.st().drop(drop_reason::tcp_backlog_full);
    }
    ++l->backlog_pending;
    pcb_link(pcb, pcb_list::active);
    (void)tcp_output(pcb);
}

/// Segment for a synchronized pcb or one in SYN_RCVD (RFC 9293 3.10.7.4).
void input_synchronized(tcp_pcb* pcb, segment& seg) {
    stack& s = *pcb->owner;
    const auto unacceptable = [&] {
        s.st().drop(drop_reason::tcp_unacceptable);
        seg.drop_data();
    };
    // A retransmitted SYN in SYN_RCVD: our SYN,ACK was lost.
    if (pcb->state == tcp_state::syn_rcvd && seg.has(flag::syn) && !seg.has(flag::ack) && seg.seq == pcb->irs) {
        rexmit_first(pcb);
        return unacceptable();
    }
    // First: sequence number. RFC 9293 3.10.7.4: with a zero receive window no data is
    // acceptable, but the ACK (and window) a segment at RCV.NXT carries still is —
    // otherwise two ends whose windows are both closed deadlock, each one's ACKs
    // riding on data the other refuses. Such a segment loses its data (counted) and
    // goes on as a bare ACK.
    if (rcv_window(pcb) == 0 && seg.seq == pcb->rcv_nxt && seg.has(flag::ack) && !seg.has(flag::syn) &&
        !seg.has(flag::rst) && seg.seq_len() > 0) {
        s.st().drop(drop_reason::tcp_unacceptable);
        seg.drop_data();
        seg.flags &= static_cast<std::uint8_t>(~flag::fin);
        ack_now(pcb);  // tell the sender the window is still closed
    }
    if (!acceptable(pcb, seg)) {
        if (!seg.has(flag::rst)) {
            ack_now(pcb);
            (void)tcp_output(pcb);
        }
        return unacceptable();
    }
    // Second: RST (RFC 5961 3.2: only an exact match resets; in window gets a challenge ACK).
    if (seg.has(flag::rst)) {
        seg.drop_data();
        if (seg.seq != pcb->rcv_nxt) {
            send_empty_ack(pcb);
            return s.st().drop(drop_reason::tcp_unacceptable);
        }
        if (pcb->state == tcp_state::syn_rcvd && pcb->listener) return pcb_free(pcb);  // back to LISTEN
        const bool tell = pcb->state != tcp_state::closing && pcb->state != tcp_state::last_ack &&
                          pcb->state != tcp_state::time_wait;
        return tell ? pcb_fail(pcb, err::rst) : pcb_finish(pcb);
    }
    // Fourth: SYN in a synchronized state (RFC 5961 4.2: challenge ACK).
    if (seg.has(flag::syn)) {
        if (pcb->state == tcp_state::syn_rcvd && pcb->listener) {
            seg.drop_data();
            return pcb_free(pcb);
        }
        send_empty_ack(pcb);
        return unacceptable();
    }
    trim_to_window(pcb, seg);
    // Fifth: ACK.
    if (!seg.has(flag::ack)) return unacceptable();
    if (pcb->state == tcp_state::syn_rcvd) {
        if (!(seq_gt(seg.ack, pcb->snd_una) && seq_leq(seg.ack, pcb->snd_max))) {
            send_rst(s, seg.ack, 0, false, seg.dst, seg.src, seg.dport, seg.sport);
            return unacceptable();
        }
        if (become_established(pcb) == outcome::freed) return seg.drop_data();
    }
    bool fin_acked = false;
    if (process_ack(pcb, seg, fin_acked) == outcome::freed) return seg.drop_data();
    switch (pcb->state) {
        case tcp_state::fin_wait_1:
            if (fin_acked) pcb->state = tcp_state::fin_wait_2;
            break;
        case tcp_state::closing:
            if (fin_acked) enter_time_wait(pcb);
            break;
        case tcp_state::last_ack:
            if (fin_acked) {
                seg.drop_data();
                return pcb_finish(pcb);
            }
            break;
        default: break;
    }
    // Seventh and eighth: text and FIN.
    if (receive_text(pcb, seg, fin_acked || pcb->state == tcp_state::fin_wait_2) == outcome::freed)
        return seg.drop_data();
    (void)tcp_output(pcb);
}

}  // namespace

void tcp_input(stack& s, pbuf* p, netif* inp, ip4_addr src, ip4_addr dst) {
    assert_core_context(s, "tcp_input");
    auto& st = s.st();
    const auto drop = [&](drop_reason r) {
        st.drop(r);
        pbuf_free(p);
    };
    if (p->tot_len < wire::tcp_view::min_size) return drop(drop_reason::tcp_too_short);
    switch (wire::tcp_view::check({p->bytes(), p->len})) {
        case wire::tcp_check::ok: break;
        case wire::tcp_check::too_short: return drop(drop_reason::ip_header_split);
        case wire::tcp_check::bad_header_len: {
            const std::size_t hlen = p->len >= 13 ? (std::to_integer<unsigned>(p->bytes()[12]) >> 4) * 4u : 0;
            return drop(hlen >= wire::tcp_view::min_size && hlen <= p->tot_len ? drop_reason::ip_header_split
                                                                               : drop_reason::tcp_bad_header_len);
        }
    }
    const auto hdr = *wire::tcp_view::parse({p->bytes(), p->len});
    if (inp->caps.chksum_check_tcp && inet_chksum_pseudo(p, wire::k_proto_tcp, p->tot_len, src, dst) != 0)
        return drop(drop_reason::tcp_bad_checksum);
    segment seg;
    // The options are walked only when there are any: data segments and ACKs carry
    // none, and copying the walk's nested optionals cost a store-forwarding stall.
    if (!hdr.options().empty()) {
        const auto opts = wire::parse_tcp_options(hdr.options());
        if (!opts) return drop(drop_reason::tcp_bad_options);
        seg.mss = opts->mss;
    }
    if (dst.is_broadcast() || dst.is_multicast() || src.is_broadcast() || src.is_multicast() || src.is_any())
        return drop(drop_reason::tcp_unacceptable);  // TCP is unicast only

    seg.seq = hdr.seq();
    seg.ack = hdr.ack();
    seg.flags = hdr.flags();
    seg.wnd = hdr.window();
    seg.src = src;
    seg.dst = dst;
    seg.sport = hdr.src_port();
    seg.dport = hdr.dst_port();
    const std::size_t hlen = hdr.header_len();
    seg.len = p->tot_len - static_cast<std::uint32_t>(hlen);
    if (seg.len > 0) {
        seg.data = pbuf_free_header(p, hlen);
    } else {
        pbuf_free(p);
    }
    p = nullptr;
    st.tcp_recv.inc();

    tcp_core& core = tcp_core_of(s);
    for (tcp_pcb* pcb = core.active; pcb; pcb = pcb->next)
        if (pcb->local_port == seg.dport && pcb->remote_port == seg.sport && pcb->remote_ip == src &&
            pcb->local_ip == dst) {
            if (pcb->state == tcp_state::syn_sent) {
                input_syn_sent(pcb, seg);
            } else {
                input_synchronized(pcb, seg);
            }
            seg.drop_data();
            return;
        }
    tcp_pcb* best = nullptr;
    for (tcp_pcb* l = core.listening; l; l = l->next)
        if (l->local_port == seg.dport && (l->local_ip == dst || (l->local_ip.is_any() && !best))) best = l;
    if (best) {
        input_listen(best, seg);
        seg.drop_data();
        return;
    }
    // No connection (RFC 9293 3.10.7.1): answer with RST unless it was one.
    if (!seg.has(flag::rst)) {
        if (seg.has(flag::ack)) {
            send_rst(s, seg.ack, 0, false, dst, src, seg.dport, seg.sport);
        } else {
            send_rst(s, 0, seg.seq + seg.seq_len(), true, dst, src, seg.dport, seg.sport);
        }
    }
    seg.drop_data();
    st.drop(drop_reason::tcp_no_port);
}

LWBENCH_NS_END
