// tcp.cpp — TCP pcbs (pools, lists, ports), the raw API's open/close side, the
// per-stack TCP core, RFC 6298 timing and the cyclic timer (lwIP's tcp_tmr).
// Segment input is in tcp_in.cpp, segment output in tcp_out.cpp.
#include <algorithm>
#include <ctime>
#include <random>

#include "lwbench/detail/ports.hpp"
#include "lwbench/detail/tcp_priv.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/wire/tcp.hpp"

LWBENCH_NS_BEGIN

using namespace detail;
namespace flag = wire::tcp_flag;

std::uint32_t tcp_seg::seq_len() const noexcept {
    return len + ((flags & flag::syn) ? 1u : 0u) + ((flags & flag::fin) ? 1u : 0u);
}

const char* tcp_state_name(tcp_state s) noexcept {
    static constexpr const char* names[] = {"closed",     "listen",     "syn_sent",   "syn_rcvd",
                                            "established", "fin_wait_1", "fin_wait_2", "close_wait",
                                            "closing",     "last_ack",   "time_wait"};
    const auto i = static_cast<std::size_t>(s);
    return i < std::size(names) ? names[i] : "unknown";
}

// ---- the core ----------------------------------------------------------------------------

namespace {

// The timers' clock (see tcp_core::now_ms): CLOCK_MONOTONIC_COARSE where the system
// has it, else the precise steady clock (resolution taken as 1 ms).
#if defined(CLOCK_MONOTONIC_COARSE)
std::uint64_t coarse_clock_ms() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}
std::uint32_t coarse_clock_resolution_ms() noexcept {
    timespec res{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return 1;
    const auto ns = static_cast<std::uint64_t>(res.tv_sec) * 1000000000u + static_cast<std::uint64_t>(res.tv_nsec);
    return static_cast<std::uint32_t>((ns + 999999u) / 1000000u);  // rounded up
}
#else
std::uint64_t coarse_clock_ms() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}
std::uint32_t coarse_clock_resolution_ms() noexcept { return 1; }
#endif

}  // namespace

namespace detail {

tcp_core::tcp_core(stack& st, const tcp_config& c)
    : s(st), cfg(c), pcb_storage(std::max<std::size_t>(c.max_pcbs, 1)), seg_storage(std::max<std::size_t>(c.max_segs, 4)) {
    for (auto& p : pcb_storage) {
        p.next = free_pcbs;
        free_pcbs = &p;
    }
    for (auto& sg : seg_storage) {
        sg.next = free_segs;
        free_segs = &sg;
    }
    segs_available = seg_storage.size();
    isn_key = std::random_device{}();
    epoch = std::chrono::steady_clock::now();
    epoch_ms = coarse_clock_ms();
    clock_resolution_ms = coarse_clock_resolution_ms();
}

tcp_core::~tcp_core() {
    // The stack is going away (its threads are stopped): release every pbuf the
    // queues hold; no packet is sent and no callback runs.
    for (tcp_pcb* list : {bound, listening, active})
        for (tcp_pcb* p = list; p; p = p->next) {
            free_list(p->unsent);
            free_list(p->unacked);
            free_list(p->ooseq);
        }
}

std::uint64_t tcp_core::now_ms() const noexcept {
    return coarse_clock_ms() - epoch_ms + 1;  // +1: 0 means "timer off" in the pcb deadlines
}

std::uint64_t tcp_core::deadline_ms(std::uint32_t ms) const noexcept { return now_ms() + ms + clock_resolution_ms; }

std::int64_t tcp_core::now_us() const noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - epoch).count();
}

tcp_seg* tcp_core::seg_alloc() noexcept {
    tcp_seg* seg = free_segs;
    if (!seg) return nullptr;
    free_segs = seg->next;
    --segs_available;
    *seg = tcp_seg{};
    return seg;
}

void tcp_core::seg_free(tcp_seg* seg) noexcept {
    pbuf_free(seg->data);
    seg->data = nullptr;
    seg->next = free_segs;
    free_segs = seg;
    ++segs_available;
}

void tcp_core::free_list(tcp_seg* list) noexcept {
    while (list) {
        tcp_seg* next = list->next;
        seg_free(list);
        list = next;
    }
}

namespace {
void destroy_core(tcp_core* core) { delete core; }
}  // namespace

tcp_core& tcp_core_of(stack& s) {
    auto& slot = stack_access::tcp_core_slot(s);
    if (!slot) slot = stack::tcp_core_ptr(new tcp_core(s, tcp_config{}), &destroy_core);
    return *slot;
}

}  // namespace detail

err tcp_configure(stack& s, const tcp_config& cfg) {
    assert_core_context(s, "tcp_configure");
    auto& slot = stack_access::tcp_core_slot(s);
    if (slot && slot->pcbs_in_use != 0) return err::use;
    if (slot && slot->timer_id) s.remove_timer(slot->timer_id);
    slot = stack::tcp_core_ptr(new tcp_core(s, cfg), [](tcp_core* c) { delete c; });
    return err::ok;
}

const tcp_config& tcp_get_config(stack& s) { return tcp_core_of(s).cfg; }

// ---- pcb lists and ports -------------------------------------------------------------------

namespace {

tcp_pcb*& list_head(tcp_core& core, pcb_list l) {
    switch (l) {
        case pcb_list::bound: return core.bound;
        case pcb_list::listen: return core.listening;
        default: return core.active;
    }
}

void pcb_unlink(tcp_pcb* pcb) {
    if (pcb->list == static_cast<std::uint8_t>(pcb_list::none)) return;
    tcp_core& core = tcp_core_of(*pcb->owner);
    for (tcp_pcb** pp = &list_head(core, static_cast<pcb_list>(pcb->list)); *pp; pp = &(*pp)->next)
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    pcb->next = nullptr;
    pcb->list = static_cast<std::uint8_t>(pcb_list::none);
}

bool port_taken(tcp_core& core, const tcp_pcb* self, ip4_addr addr, std::uint16_t port) {
    for (tcp_pcb* list : {core.bound, core.listening, core.active})
        for (const tcp_pcb* q = list; q; q = q->next)
            if (q != self && q->local_port == port && detail::addresses_overlap(q->local_ip, addr)) return true;
    return false;
}

std::uint16_t ephemeral_port(tcp_core& core, const tcp_pcb* self, ip4_addr addr) {
    return detail::ephemeral_port(core.s, [&](std::uint16_t port) { return port_taken(core, self, addr, port); });
}

/// The oldest TIME_WAIT pcb (the active list is newest first), to reclaim.
tcp_pcb* oldest_time_wait(tcp_core& core) {
    tcp_pcb* found = nullptr;
    for (tcp_pcb* p = core.active; p; p = p->next)
        if (p->state == tcp_state::time_wait) found = p;
    return found;
}

void tcp_tmr(void* arg);

}  // namespace

namespace detail {

void pcb_link(tcp_pcb* pcb, pcb_list to) {
    pcb_unlink(pcb);
    tcp_core& core = tcp_core_of(*pcb->owner);
    tcp_pcb*& head = list_head(core, to);
    pcb->next = head;
    head = pcb;
    pcb->list = static_cast<std::uint8_t>(to);
    if (to == pcb_list::active) timer_needed(core);
}

void pcb_free(tcp_pcb* pcb) {
    tcp_core& core = tcp_core_of(*pcb->owner);
    pcb_unlink(pcb);
    if (pcb->state == tcp_state::listen) {
        // Children still in the handshake have nobody to accept them: reset them.
        for (tcp_pcb* c = core.active; c;) {
            tcp_pcb* next = c->next;
            if (c->listener == pcb) {
                send_rst(core.s, c->snd_max, c->rcv_nxt, true, c->local_ip, c->remote_ip, c->local_port,
                         c->remote_port);
                c->listener = nullptr;
                pcb_free(c);
            }
            c = next;
        }
    }
    if (pcb->listener && pcb->listener->backlog_pending > 0) --pcb->listener->backlog_pending;
    core.free_list(pcb->unsent);
    core.free_list(pcb->unacked);
    core.free_list(pcb->ooseq);
    *pcb = tcp_pcb{};
    pcb->next = core.free_pcbs;
    core.free_pcbs = pcb;
    --core.pcbs_in_use;
}

void pcb_fail(tcp_pcb* pcb, err why) {
    const tcp_err_fn fn = (pcb->flags & pcb_flag::app_closed) ? nullptr : pcb->errf;
    void* arg = pcb->arg;
    pcb_free(pcb);
    if (fn) fn(arg, why);
}

void pcb_finish(tcp_pcb* pcb) {
    if ((pcb->flags & pcb_flag::app_closed) || pcb->listener) return pcb_free(pcb);
    tcp_core& core = tcp_core_of(*pcb->owner);
    pcb_unlink(pcb);
    core.free_list(pcb->unsent);
    core.free_list(pcb->unacked);
    core.free_list(pcb->ooseq);
    pcb->unsent = pcb->unsent_tail = pcb->unacked = pcb->unacked_tail = pcb->ooseq = nullptr;
    pcb->rto_due = pcb->persist_due = pcb->delack_due = pcb->time_wait_due = 0;
    pcb->state = tcp_state::closed;
}

std::uint32_t new_isn(tcp_core& core, const tcp_pcb* pcb) {
    if (core.cfg.isn) return core.cfg.isn(core.cfg.isn_arg);
    // RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock.
    std::uint32_t h = core.isn_key;
    for (std::uint32_t v : {pcb->local_ip.addr, pcb->remote_ip.addr,
                            (std::uint32_t{pcb->local_port} << 16) | pcb->remote_port}) {
        h ^= v;
        h *= 0x9e3779b1u;
        h ^= h >> 15;
    }
    return h + static_cast<std::uint32_t>(core.now_us() / 4);
}

void timer_needed(tcp_core& core) {
    if (core.timer_id == 0)
        core.timer_id = core.s.add_cyclic_timer(std::chrono::milliseconds(core.cfg.tick_ms), &tcp_tmr, &core);
}

std::uint16_t effective_mss(tcp_core& core, const tcp_pcb* pcb, std::uint16_t peer_mss) {
    std::uint32_t mss = std::min<std::uint32_t>(core.cfg.mss, peer_mss);
    if (netif* n = ip4_route(core.s, pcb->remote_ip))
        mss = std::min<std::uint32_t>(mss, n->caps.mtu > 40 ? n->caps.mtu - 40u : 1u);
    return static_cast<std::uint16_t>(std::max<std::uint32_t>(mss, 1));
}

void enter_time_wait(tcp_pcb* pcb) {
    tcp_core& core = tcp_core_of(*pcb->owner);
    pcb->state = tcp_state::time_wait;
    pcb->rto_due = pcb->persist_due = 0;
    pcb->time_wait_due = core.deadline_ms(core.cfg.time_wait_ms);
}

void rtt_sample(tcp_pcb* pcb, std::int64_t r) {
    const tcp_config& cfg = tcp_core_of(*pcb->owner).cfg;
    if (r < 0) r = 0;
    if (pcb->srtt_us < 0) {  // RFC 6298 (2.2)
        pcb->srtt_us = r;
        pcb->rttvar_us = r / 2;
    } else {  // (2.3): beta = 1/4, alpha = 1/8
        const std::int64_t delta = pcb->srtt_us > r ? pcb->srtt_us - r : r - pcb->srtt_us;
        pcb->rttvar_us = (3 * pcb->rttvar_us + delta) / 4;
        pcb->srtt_us = (7 * pcb->srtt_us + r) / 8;
    }
    const std::int64_t granularity_us = std::int64_t{cfg.tick_ms} * 1000;
    const std::int64_t rto_us = pcb->srtt_us + std::max(granularity_us, 4 * pcb->rttvar_us);
    pcb->rto_ms = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>((rto_us + 999) / 1000, cfg.min_rto_ms, cfg.max_rto_ms));  // (2.4), (2.5)
}

void rto_restart(tcp_pcb* pcb) {
    if (pcb->snd_nxt == pcb->snd_una) {
        pcb->rto_due = 0;
        return;
    }
    pcb->rto_due = tcp_core_of(*pcb->owner).deadline_ms(pcb->rto_ms);
}

}  // namespace detail

// ---- the API: pcbs -----------------------------------------------------------------------

tcp_pcb* tcp_new(stack& s) {
    assert_core_context(s, "tcp_new");
    tcp_core& core = tcp_core_of(s);
    if (!core.free_pcbs)
        if (tcp_pcb* tw = oldest_time_wait(core)) pcb_free(tw);
    tcp_pcb* pcb = core.free_pcbs;
    if (!pcb) return nullptr;
    core.free_pcbs = pcb->next;
    *pcb = tcp_pcb{};
    pcb->owner = &s;
    pcb->rto_ms = core.cfg.initial_rto_ms;
    pcb->rcv_wnd = core.cfg.wnd;
    pcb->snd_buf = core.cfg.snd_buf;
    ++core.pcbs_in_use;
    return pcb;
}

void tcp_arg(tcp_pcb* pcb, void* arg) { pcb->arg = arg; }
void tcp_accept(tcp_pcb* pcb, tcp_accept_fn fn) {
    assert_core_context(*pcb->owner, "tcp_accept");
    pcb->accept = fn;
}
void tcp_recv(tcp_pcb* pcb, tcp_recv_fn fn) {
    assert_core_context(*pcb->owner, "tcp_recv");
    pcb->recv = fn;
}
void tcp_sent(tcp_pcb* pcb, tcp_sent_fn fn) {
    assert_core_context(*pcb->owner, "tcp_sent");
    pcb->sent = fn;
}
void tcp_err(tcp_pcb* pcb, tcp_err_fn fn) {
    assert_core_context(*pcb->owner, "tcp_err");
    pcb->errf = fn;
}
void tcp_nagle_disable(tcp_pcb* pcb) {
    assert_core_context(*pcb->owner, "tcp_nagle_disable");
    pcb->flags |= pcb_flag::nodelay;
}
void tcp_nagle_enable(tcp_pcb* pcb) {
    assert_core_context(*pcb->owner, "tcp_nagle_enable");
    pcb->flags &= static_cast<std::uint16_t>(~pcb_flag::nodelay);
}

err tcp_bind(tcp_pcb* pcb, ip4_addr addr, std::uint16_t port) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "tcp_bind");
    if (pcb->state != tcp_state::closed || pcb->local_port != 0) return err::arg;
    tcp_core& core = tcp_core_of(*pcb->owner);
    if (port == 0) {
        port = ephemeral_port(core, pcb, addr);
        if (port == 0) return err::use;
    } else if (port_taken(core, pcb, addr, port)) {
        return err::use;
    }
    pcb->local_ip = addr;
    pcb->local_port = port;
    pcb_link(pcb, pcb_list::bound);
    return err::ok;
}

err tcp_listen(tcp_pcb* pcb, std::uint8_t backlog) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "tcp_listen");
    if (pcb->state != tcp_state::closed || pcb->local_port == 0) return err::arg;
    pcb->state = tcp_state::listen;
    pcb->backlog = std::max<std::uint8_t>(backlog, 1);
    pcb_link(pcb, pcb_list::listen);
    return err::ok;
}

err tcp_connect(tcp_pcb* pcb, ip4_addr addr, std::uint16_t port, tcp_connected_fn connected) {
    if (!pcb) return err::arg;
    stack& s = *pcb->owner;
    assert_core_context(s, "tcp_connect");
    if (pcb->state != tcp_state::closed) return err::isconn;
    if (addr.is_any() || port == 0) return err::val;
    tcp_core& core = tcp_core_of(s);
    netif* n = ip4_route(s, addr);
    if (!n) return err::rte;
    const bool was_bound = pcb->local_port != 0;
    if (!was_bound)
        if (const err e = tcp_bind(pcb, pcb->local_ip, 0); e != err::ok) return e;
    if (pcb->local_ip.is_any()) pcb->local_ip = n->ip;
    pcb->remote_ip = addr;
    pcb->remote_port = port;
    pcb->iss = new_isn(core, pcb);
    pcb->snd_una = pcb->snd_nxt = pcb->snd_max = pcb->snd_lbb = pcb->iss;
    pcb->recover = pcb->iss;
    pcb->mss = effective_mss(core, pcb, 536);
    pcb->cwnd = std::min<std::uint32_t>(4u * pcb->mss, std::max<std::uint32_t>(2u * pcb->mss, 4380));  // RFC 5681 IW
    pcb->connected = connected;
    pcb->state = tcp_state::syn_sent;
    if (const err e = enqueue_flags(pcb, flag::syn); e != err::ok) {
        pcb->state = tcp_state::closed;
        pcb->remote_ip = {};
        pcb->remote_port = 0;
        return e;
    }
    pcb_link(pcb, pcb_list::active);
    (void)tcp_output(pcb);  // a failed send is retried by the retransmission timer
    return err::ok;
}

std::uint32_t tcp_sndbuf(const tcp_pcb* pcb) { return pcb->snd_buf; }

void tcp_recved(tcp_pcb* pcb, std::uint32_t len) {
    assert_core_context(*pcb->owner, "tcp_recved");
    const std::uint32_t wnd_max = tcp_core_of(*pcb->owner).cfg.wnd;
    const std::uint32_t announced = seq_gt(pcb->rcv_ann_right, pcb->rcv_nxt) ? pcb->rcv_ann_right - pcb->rcv_nxt : 0;
    pcb->rcv_wnd = std::min(wnd_max, pcb->rcv_wnd + len);
    // A window update is a segment of its own only when the sender needs it: the window
    // it knows has shrunk to half the buffer or less, and the update at least doubles
    // it (Linux's rule; lwIP waits for 4 MSS of growth). Otherwise the new window rides
    // on the next ACK (every second segment, or the delayed-ACK timer), and a sender
    // with more than half a window open has data in flight to bring that ACK. Never a
    // growth below min(buffer/2, MSS) (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
    if (2 * announced <= wnd_max && pcb->rcv_wnd >= 2 * announced &&
        pcb->rcv_wnd >= announced + std::min<std::uint32_t>(wnd_max / 2, pcb->mss) &&
        (pcb->state == tcp_state::established || pcb->state == tcp_state::fin_wait_1 ||
         pcb->state == tcp_state::fin_wait_2)) {
        pcb->flags |= pcb_flag::ack_now;
        pcb->owner->st().tcp_window_updates.inc();
        (void)tcp_output(pcb);
    }
}

err tcp_shutdown(tcp_pcb* pcb, bool shut_rx, bool shut_tx) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "tcp_shutdown");
    if (shut_rx && shut_tx) return tcp_close(pcb);
    if (pcb->state == tcp_state::listen || pcb->state == tcp_state::closed) return err::conn;
    if (shut_rx) pcb->flags |= pcb_flag::rx_shut;
    if (shut_tx && !(pcb->flags & pcb_flag::fin_queued)) {
        tcp_state next;
        switch (pcb->state) {
            case tcp_state::syn_rcvd:
            case tcp_state::established: next = tcp_state::fin_wait_1; break;
            case tcp_state::close_wait: next = tcp_state::last_ack; break;
            default: return err::conn;
        }
        if (const err e = enqueue_flags(pcb, flag::fin); e != err::ok) return e;
        pcb->state = next;
        (void)tcp_output(pcb);
    }
    return err::ok;
}

err tcp_close(tcp_pcb* pcb) {
    if (!pcb) return err::arg;
    assert_core_context(*pcb->owner, "tcp_close");
    switch (pcb->state) {
        case tcp_state::closed:
        case tcp_state::listen:
        case tcp_state::syn_sent: pcb_free(pcb); return err::ok;
        case tcp_state::syn_rcvd:
        case tcp_state::established:
        case tcp_state::close_wait:
            if (!(pcb->flags & pcb_flag::fin_queued))
                if (const err e = tcp_shutdown(pcb, false, true); e != err::ok) return e;
            break;
        default: break;  // FIN already queued or sent: the close finishes by itself
    }
    pcb->flags |= pcb_flag::app_closed | pcb_flag::rx_shut;
    pcb->accept = nullptr;
    pcb->connected = nullptr;
    pcb->recv = nullptr;
    pcb->sent = nullptr;
    pcb->errf = nullptr;
    return err::ok;
}

void tcp_abort(tcp_pcb* pcb) {
    assert_core_context(*pcb->owner, "tcp_abort");
    switch (pcb->state) {
        case tcp_state::closed:
        case tcp_state::listen:
        case tcp_state::syn_sent:
        case tcp_state::time_wait: break;
        default:
            send_rst(*pcb->owner, pcb->snd_max, pcb->rcv_nxt, true, pcb->local_ip, pcb->remote_ip, pcb->local_port,
                     pcb->remote_port);
    }
    pcb_fail(pcb, err::abrt);
}

std::size_t tcp_pcbs_in_use(stack& s) {
    assert_core_context(s, "tcp_pcbs_in_use");
    return tcp_core_of(s).pcbs_in_use;
}

void tcp_free_all(stack& s) {
    assert_core_context(s, "tcp_free_all");
    tcp_core& core = tcp_core_of(s);
    for (tcp_pcb** list : {&core.active, &core.listening, &core.bound})
        while (*list) {
            tcp_pcb* p = *list;
            p->listener = nullptr;
            p->state = tcp_state::closed;  // no RST to children: they are freed here too
            pcb_free(p);
        }
}

// ---- the timer (lwIP's tcp_tmr) -------------------------------------------------------------

namespace {

/// Counts one more retransmission timeout or unanswered window probe; past the limit
/// the connection fails with err::timeout (and the peer gets a RST unless the
/// handshake never finished). Returns false if the pcb was freed.
bool count_retry(tcp_core& core, tcp_pcb* pcb) {
    const bool handshake = pcb->state == tcp_state::syn_sent || pcb->state == tcp_state::syn_rcvd;
    if (++pcb->nrtx <= (handshake ? core.cfg.syn_retries : core.cfg.max_retries)) return true;
    if (!handshake)
        send_rst(core.s, pcb->snd_max, pcb->rcv_nxt, true, pcb->local_ip, pcb->remote_ip, pcb->local_port,
                 pcb->remote_port);
    pcb_fail(pcb, err::timeout);
    return false;
}

/// Retransmission timeout (RFC 6298 5.4-5.7, RFC 5681 (4)). Returns false if the pcb was freed.
bool on_rto(tcp_core& core, tcp_pcb* pcb) {
    if (!count_retry(core, pcb)) return false;
    core.s.st().tcp_rto.inc();
    pcb->rto_ms = std::min(pcb->rto_ms * 2, core.cfg.max_rto_ms);  // (5.5) back off
    pcb->rtt_start_us = -1;                                        // Karn: nothing in flight is timed now
    const std::uint32_t flight = pcb->snd_nxt - pcb->snd_una;
    pcb->ssthresh = std::max<std::uint32_t>(flight / 2, 2u * pcb->mss);
    pcb->cwnd = pcb->mss;
    pcb->dupacks = 0;
    pcb->flags &= static_cast<std::uint16_t>(~pcb_flag::in_recovery);
    pcb->recover = pcb->snd_max;  // RFC 6582 (after a timeout)
    rexmit_all(pcb);
    pcb->rto_due = 0;
    (void)tcp_output(pcb);
    // The resend failed: try again later; unless the window is closed, and persist took over.
    if (pcb->rto_due == 0 && pcb->persist_due == 0) pcb->rto_due = core.deadline_ms(pcb->rto_ms);
    return true;
}

/// Runs one pcb's due timers. Returns false if the pcb was freed.
bool pcb_timers(tcp_core& core, tcp_pcb* pcb, std::uint64_t now) {
    if (pcb->state == tcp_state::time_wait) {
        if (now >= pcb->time_wait_due) {
            pcb_finish(pcb);
            return false;
        }
        return true;
    }
    if (pcb->rto_due && now >= pcb->rto_due && !on_rto(core, pcb)) return false;
    if (pcb->persist_due && now >= pcb->persist_due) {
        // A probe counts like a retransmission until the peer answers (process_ack).
        if (!count_retry(core, pcb)) return false;
        send_window_probe(pcb);
        pcb->persist_backoff_ms = std::min(pcb->persist_backoff_ms * 2, core.cfg.max_rto_ms);
        pcb->persist_due = core.deadline_ms(pcb->persist_backoff_ms);
    }
    if ((pcb->flags & pcb_flag::ack_delay) && now >= pcb->delack_due) pcb->flags |= pcb_flag::ack_now;
    if (pcb->flags & (pcb_flag::ack_now | pcb_flag::output_retry)) {
        pcb->flags &= static_cast<std::uint16_t>(~pcb_flag::output_retry);
        (void)tcp_output(pcb);
    }
    return true;
}

void tcp_tmr(void* arg) {
    auto& core = *static_cast<tcp_core*>(arg);
    const std::uint64_t now = core.now_ms();
    for (tcp_pcb* pcb = core.active; pcb;) {
        tcp_pcb* next = pcb->next;  // pcb may be freed (freeing never frees another active pcb here)
        (void)pcb_timers(core, pcb, now);
        pcb = next;
    }
    if (!core.active) {  // nothing left to time: stop ticking until the next connection
        core.s.remove_timer(core.timer_id);
        core.timer_id = 0;
    }
}

}  // namespace

LWBENCH_NS_END
