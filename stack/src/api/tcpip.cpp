// tcpip.cpp — construction and teardown of a stack, the tcpip thread, the API/input
// dispatchers, quiescing mode switches and deferred work. The ONLY file that reads
// the threading or input mode. Timers: stack/src/core/timers.cpp.
#include "lwbench/tcpip.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "lwbench/detail/core_lock.hpp"
#include "lwbench/detail/mailbox.hpp"
#include "lwbench/detail/publication_slots.hpp"
#include "lwbench/detail/socket_table.hpp"
#include "lwbench/detail/spin.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/detail/tcpip_msg.hpp"
#include "lwbench/detail/wake_list.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/udp.hpp"

#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING) && defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
#error "choose at most one fixed threading mode"
#endif

// A fixed-mode build (the dispatch-overhead benchmark's baseline) decides both
// dispatchers at compile time; the runtime build reads the atomics.
#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
#define LWBENCH_FIXED_MODE threading_mode::core_locking
#elif defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
#define LWBENCH_FIXED_MODE threading_mode::message_passing
#endif

LWBENCH_NS_BEGIN

namespace {

/// One marker per thread: its address identifies the thread cheaply.
thread_local const char t_thread_marker = 0;
/// Each application thread's completion semaphore (lwIP LWIP_NETCONN_SEM_PER_THREAD):
/// a thread waits for one API message at a time, so one semaphore serves all stacks.
thread_local detail::futex_sem t_done;

}  // namespace

// ---- construction -----------------------------------------------------------------

namespace {
/// The configuration, or std::invalid_argument naming the bad field.
const stack_config& checked(const stack_config& cfg) {
    if (const auto e = validate_config(cfg)) throw std::invalid_argument(e->message());
    return cfg;
}
}  // namespace

stack::stack(const stack_config& cfg)
    : _cfg(checked(cfg)),
      _pools(_stats, cfg.pbuf_pool_size, cfg.pbuf_ref_pool_size),
#if defined(LWBENCH_FIXED_MODE)
      _mode(LWBENCH_FIXED_MODE),
      _input(paired_input_mode(LWBENCH_FIXED_MODE)),
#else
      _mode(cfg.mode),
      _input(cfg.input),
#endif
      _lock(std::make_unique<detail::core_lock>(cfg.lock)),
      _mbox(detail::make_mailbox(cfg.mailbox, cfg.mailbox_capacity, cfg.spin_iterations)),
      _wakes(std::make_unique<detail::wake_list>()),
      _slots(std::make_shared<detail::publication_slots>()),
      _combining_spin(std::min(cfg.spin_iterations, k_combining_spin_limit)),
      _msg_storage(cfg.mailbox_capacity),
      _sockets(std::make_unique<detail::stack_sockets>(*this, cfg.max_sockets)),
      _timer_msg(std::make_unique<detail::tcpip_msg>()) {
    for (auto& m : _msg_storage) {
        m.pooled = true;
        m.next_free = _msg_free;
        _msg_free = &m;
    }
    _poll_pending.reserve(8);
    _timer_msg->k = detail::tcpip_msg::kind::timer;  // the timer thread's own message, never pooled
    _thread = std::thread([this] { tcpip_thread_main(); });
}

stack::~stack() {
    ensure_not_core_context("stack::~stack");
    stop_timers();
    _sockets->shutdown();  // closes the sockets still open and waits for every caller inside to leave
    if (const std::size_t live = _live_netconns.load(std::memory_order_acquire); live != 0) {
        std::fprintf(stderr,
                     "lwbench: stack destroyed with %zu netconn(s) still alive; delete every netconn before "
                     "its stack (teardown contract, tcpip.hpp)\n",
                     live);
        std::abort();
    }
    detail::tcpip_msg quit;
    quit.k = detail::tcpip_msg::kind::quit;
    _mbox->post(&quit);
    _thread.join();
    // Detach what is left, in core context on this thread (the tcpip thread is gone).
    detail::lock_token t;
    lock_core(t);
    while (!_netifs.empty()) netif_remove(*this, _netifs.back());
    while (_udp_pcbs) udp_remove(_udp_pcbs);
    unlock_core(t);
}

// ---- core lock and core context --------------------------------------------------

void stack::lock_core(detail::lock_token& t) {
    _lock->lock(t);
    _core_owner.store(&t_thread_marker, std::memory_order_relaxed);
}

bool stack::try_lock_core(detail::lock_token& t) {
    if (!_lock->try_lock(t)) return false;
    _core_owner.store(&t_thread_marker, std::memory_order_relaxed);
    return true;
}

void stack::unlock_core(detail::lock_token& t) {
    // Whoever holds the core runs every call published for it before releasing it (in
    // every mode: a caller that read the combining mode just before a switch may still
    // publish). One relaxed load when nothing is published.
    if (_slots->pending.load(std::memory_order_relaxed) != 0) run_published(nullptr);
    // The wake-ups this core operation decided are issued after the release, so a
    // woken thread never finds the core still held (wake_list.hpp). Every path out of
    // core context (call, input, core_guard, the tcpip thread) comes through here.
    detail::wake_list wakes;
    _wakes->move_to(wakes);
    _core_owner.store(nullptr, std::memory_order_relaxed);
    _lock->unlock(t);
    wakes.issue();
#if !defined(LWBENCH_FIXED_MODE)
    // Combining: a call published after the scan above, whose owner found the core
    // held by us, would wait for a holder that never comes. Both sides do a seq_cst
    // read-modify-write of `pending` between their lock operation and their check
    // (here: release, then read pending; in combine(): count the call, then try the
    // lock). An RMW reads the latest value, so either ours comes after the owner's and
    // sees its call pending (we nudge an owner to take the core), or the owner's comes
    // after ours and synchronises with it, so its try sees the core released by us.
    // (Not fences: TSan does not model them.) A holder that read another mode here is
    // covered by set_threading_mode.
    if (_mode.load(std::memory_order_relaxed) == threading_mode::combining ||
        _input.load(std::memory_order_relaxed) == input_mode::combining) {
        if (_slots->pending.fetch_add(0, std::memory_order_seq_cst) != 0) nudge_published();
    }
#endif
}

bool stack::in_core_context() const noexcept {
    return _core_owner.load(std::memory_order_relaxed) == &t_thread_marker;
}

#if defined(LWBENCH_CHECK_CORE_CONTEXT)
void assert_core_context(const stack& s, const char* where) {
    if (!s.in_core_context()) {
        std::fprintf(stderr,
                     "lwbench: %s called outside core context (take a core_guard, or run it "
                     "from a tcpip callback)\n",
                     where);
        std::abort();
    }
}

void assert_not_core_context(const stack& s, const char* where) {
    if (s.in_core_context()) {
        std::fprintf(stderr,
                     "lwbench: %s called from core context would deadlock (it waits for the core); "
                     "call it from an application thread\n",
                     where);
        std::abort();
    }
}
#endif

void stack::ensure_not_core_context(const char* where) const { assert_not_core_context(*this, where); }

core_guard::core_guard(stack& s) : _s(s) {
    assert_not_core_context(s, "core_guard");
    static_assert(sizeof(_token) >= sizeof(detail::lock_token));
    _s.lock_core(*reinterpret_cast<detail::lock_token*>(_token));
}

core_guard::~core_guard() {
    _s.run_deferred();
    _s.unlock_core(*reinterpret_cast<detail::lock_token*>(_token));
}

// ---- the dispatcher ----------------------------------------------------------------

err stack::call(core_fn fn, void* ctx) {
    ensure_not_core_context("stack::call");
#if defined(LWBENCH_FIXED_MODE)
    constexpr threading_mode mode = LWBENCH_FIXED_MODE;
#else
    const threading_mode mode = _mode.load(std::memory_order_relaxed);
#endif
    if (mode == threading_mode::core_locking) {
        _stats.api_calls_locked.inc();  // counted before fn runs: still in core context after it
        return run_locked(fn, ctx);
    }
#if !defined(LWBENCH_FIXED_MODE)
    if (mode == threading_mode::combining) return combine(fn, ctx, false);
#endif
    return post_and_wait(detail::tcpip_msg::kind::api, fn, ctx);
}

err stack::run_locked(core_fn fn, void* ctx) {
    detail::lock_token t;
    lock_core(t);
    const err e = fn(ctx);
    run_deferred();
    unlock_core(t);
    return e;
}

// ---- combining (flat combining / delegation; detail/publication_slots.hpp) -----------

err stack::combine(core_fn fn, void* ctx, bool is_input) {
    detail::publication_slot* slot = detail::thread_slot(_slots);
    // Runs the call on this thread, which holds the core (t), as any holder does: the
    // calls published meanwhile run too before the release (unlock_core).
    const auto run_held = [&](detail::lock_token& t) {
        (is_input ? _stats.inputs_combined_self : _stats.api_calls_combined_self).inc();
        const err e = fn(ctx);
        run_deferred();
        unlock_core(t);
        return e;
    };
    // Uncontended (nothing published, the core free): take the core and run the call
    // without publishing it, so a lone caller pays for a try-lock, not for a slot's
    // hand-over. Safe in any mode (a core holder is exclusive in all of them).
    if (_slots->pending.load(std::memory_order_relaxed) == 0) {
        detail::lock_token t;
        if (try_lock_core(t)) return run_held(t);
    }
    // Every slot taken (more threads than k_publication_slots), or the mode switched
    // away while we published (see set_threading_mode): run it ourselves, as a holder.
    const auto run_self = [&] {
        detail::lock_token t;
        lock_core(t);
        return run_held(t);
    };
    if (!slot) return run_self();
    slot->publish(fn, ctx, is_input);
    _slots->pending.fetch_add(1, std::memory_order_seq_cst);
    // A switch away from combining waits until nothing is pending; a call published
    // after it looked sees the new mode here and is withdrawn.
    const bool still_combining = is_input ? _input.load(std::memory_order_seq_cst) == input_mode::combining
                                          : _mode.load(std::memory_order_seq_cst) == threading_mode::combining;
    if (!still_combining && slot->withdraw()) {
        _slots->pending.fetch_sub(1, std::memory_order_relaxed);
        return run_self();
    }
    for (;;) {
        // The RMW of `pending` just before (counting the call, or the touch below) pairs
        // with the one after the release in unlock_core (see there).
        detail::lock_token t;
        if (try_lock_core(t)) {
            run_published(slot);  // ours too, unless a holder before us ran it already
            unlock_core(t);
            break;
        }
        // Another thread holds the core: it runs our call before it releases the core,
        // or nudges us if our call came after its scan.
        if (slot->wait(_combining_spin, k_combining_yield_limit)) break;
        _slots->pending.fetch_add(0, std::memory_order_seq_cst);  // nudged: try again
    }
    const err e = slot->result;
    slot->reset();
    return e;
}

void stack::run_published(const detail::publication_slot* own) {
    // Runs every published call, then the work they queued (the loopback's packets),
    // and only then marks them done: call()'s contract is that a call's deferred work
    // has been delivered before it returns, for a call run by another thread too.
    detail::publication_slots& slots = *_slots;
    detail::publication_slot* ran[detail::k_publication_slots];
    std::uint32_t claimed = 0;
    const std::size_t end = slots.scan_end();
    for (std::size_t i = 0; i < end; ++i) {
        detail::publication_slot& slot = slots[i];
        if (!slot.claim()) continue;
        ran[claimed++] = &slot;
        const bool self = &slot == own;
        if (slot.is_input) {
            (self ? _stats.inputs_combined_self : _stats.inputs_combined_other).inc();
        } else {
            (self ? _stats.api_calls_combined_self : _stats.api_calls_combined_other).inc();
        }
        slot.result = slot.fn(slot.ctx);
    }
    run_deferred();
    if (claimed == 0) return;
    slots.pending.fetch_sub(claimed, std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < claimed; ++i) ran[i]->complete(ran[i]->result, *_wakes);  // woken after the release
}

void stack::drain_published() {
    // Leaving combining: holders that read the new mode no longer nudge, so every call
    // published under the old one is run here. A caller publishing after we saw
    // nothing pending reads the new mode after publishing and withdraws (combine()).
    for (;;) {
        detail::lock_token t;
        lock_core(t);
        unlock_core(t);  // runs what is pending
        if (_slots->pending.load(std::memory_order_seq_cst) == 0) return;
        std::this_thread::yield();  // a publisher between its count and its slot store
    }
}

void stack::nudge_published() {
    // One owner taking the core is enough: it runs every published call.
    const std::size_t end = _slots->scan_end();
    for (std::size_t i = 0; i < end; ++i)
        if ((*_slots)[i].nudge()) return;
}

err stack::post_and_wait(detail::tcpip_msg::kind k, core_fn fn, void* ctx) {
    // The message lives on this stack frame: we do not return before the tcpip
    // thread has posted `done`, and it does not touch the message after that.
    detail::tcpip_msg m;
    m.k = k;
    m.fn = fn;
    m.ctx = ctx;
    m.done = &t_done;
    _mbox->post(&m);
    _mbox->wait_reply(t_done);
    return m.result;
}

err stack::input(pbuf* p, netif* inp) {
#if defined(LWBENCH_FIXED_MODE)
    constexpr input_mode mode = paired_input_mode(LWBENCH_FIXED_MODE);
#else
    const input_mode mode = _input.load(std::memory_order_relaxed);
#endif
    if (mode != input_mode::mailbox) {
        if (in_core_context()) {  // e.g. the loopback delivering at the end of a core operation
            netif_input(*this, p, inp);
            return err::ok;
        }
        struct input_call {
            stack* s;
            pbuf* p;
            netif* inp;
        } c{this, p, inp};
        const core_fn run_input = [](void* x) {
            auto* call = static_cast<input_call*>(x);
            netif_input(*call->s, call->p, call->inp);
            return err::ok;
        };
#if !defined(LWBENCH_FIXED_MODE)
        if (mode == input_mode::combining) return combine(run_input, &c, true);
#endif
        return run_locked(run_input, &c);
    }
    detail::tcpip_msg* m = alloc_msg();
    if (m) {
        m->k = detail::tcpip_msg::kind::input;
        m->p = p;
        m->inp = inp;
        if (_mbox->trypost(m)) return err::ok;
        free_msg(m);
    }
    _stats.drop(drop_reason::input_queue_full);
    pbuf_free(p);
    return err::mem;
}

err stack::callback(core_fn fn, void* ctx) {
    detail::tcpip_msg* m = alloc_msg();
    if (!m) return err::mem;
    m->k = detail::tcpip_msg::kind::callback;
    m->fn = fn;
    m->ctx = ctx;
    if (!_mbox->trypost(m)) {
        free_msg(m);
        return err::mem;
    }
    return err::ok;
}

err stack::callback_wait(core_fn fn, void* ctx) {
    ensure_not_core_context("stack::callback_wait");
    return post_and_wait(detail::tcpip_msg::kind::callback_wait, fn, ctx);
}

threading_mode stack::get_threading_mode() const noexcept {
#if defined(LWBENCH_FIXED_MODE)
    return LWBENCH_FIXED_MODE;
#else
    return _mode.load(std::memory_order_relaxed);
#endif
}

input_mode stack::get_input_mode() const noexcept {
#if defined(LWBENCH_FIXED_MODE)
    return paired_input_mode(LWBENCH_FIXED_MODE);
#else
    return _input.load(std::memory_order_relaxed);
#endif
}

err stack::set_threading_mode(threading_mode m) {
    ensure_not_core_context("stack::set_threading_mode");
#if defined(LWBENCH_FIXED_MODE)
    return m == LWBENCH_FIXED_MODE ? err::ok : err::arg;  // the build fixed it: nothing to switch
#else
    std::lock_guard lk(_switch_mutex);
    const threading_mode old = _mode.exchange(m, std::memory_order_seq_cst);
    // Quiesce. Correctness of the lock-based modes never depends on this (the tcpip
    // thread runs every message under the core lock, so every kind of caller is
    // mutually exclusive); it gives a clean boundary: messages posted under the old
    // mode have run, and callers that were inside the core have left it. Into
    // combining, our own release below is the first that nudges (holders before it
    // read the old mode).
    callback_wait([](void*) { return err::ok; }, nullptr);
    if (old == threading_mode::combining && m != threading_mode::combining) {
        drain_published();
    } else {
        detail::lock_token t;
        lock_core(t);
        unlock_core(t);
    }
    return err::ok;
#endif
}

err stack::set_input_mode(input_mode m) {
    ensure_not_core_context("stack::set_input_mode");
#if defined(LWBENCH_FIXED_MODE)
    return m == paired_input_mode(LWBENCH_FIXED_MODE) ? err::ok : err::arg;
#else
    std::lock_guard lk(_switch_mutex);
    const input_mode old = _input.exchange(m, std::memory_order_seq_cst);
    callback_wait([](void*) { return err::ok; }, nullptr);  // packets posted before have run
    if (old == input_mode::combining && m != input_mode::combining) drain_published();
    return err::ok;
#endif
}

std::size_t stack::mailbox_depth() const noexcept { return _mbox->size(); }

std::size_t stack::published_calls() const noexcept { return _slots->pending.load(std::memory_order_relaxed); }

// ---- pbuf allocation for API users ---------------------------------------------------

pbuf* pbuf_alloc(stack& s, pbuf_layer layer, std::size_t len, pbuf_type type) {
    return detail::stack_access::pools(s).alloc(layer, len, type);
}

pbuf* pbuf_alloc_ref(stack& s, const void* data, std::size_t len, bool stable, pbuf_free_fn on_free, void* arg) {
    return detail::stack_access::pools(s).alloc_ref(data, len, stable, on_free, arg);
}

// ---- message pool ------------------------------------------------------------------

detail::tcpip_msg* stack::alloc_msg() noexcept {
    detail::spin_guard g(_msg_lock);
    detail::tcpip_msg* m = _msg_free;
    if (m) _msg_free = m->next_free;
    return m;
}

void stack::free_msg(detail::tcpip_msg* m) noexcept {
    detail::spin_guard g(_msg_lock);
    m->next_free = _msg_free;
    _msg_free = m;
}

// ---- the tcpip thread --------------------------------------------------------------

void stack::run_message(detail::tcpip_msg* m) {
    using kind = detail::tcpip_msg::kind;
    switch (m->k) {
        case kind::api:
            _stats.tcpip_msgs_api.inc();
            m->result = m->fn(m->ctx);
            break;
        case kind::callback:
        case kind::callback_wait:
            _stats.tcpip_msgs_callback.inc();
            m->result = m->fn(m->ctx);
            break;
        case kind::input:
            _stats.tcpip_msgs_input.inc();
            netif_input(*this, m->p, m->inp);
            break;
        case kind::timer:
            _stats.tcpip_msgs_timer.inc();
            _timer_tick_pending.store(false, std::memory_order_relaxed);
            run_due_timers();
            break;
        case kind::quit: break;
    }
}

void stack::tcpip_thread_main() {
    if (_cfg.tcpip_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(_cfg.tcpip_cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    // Permitted: validate_config checked it before this thread was started.
    (void)apply_sched_policy(_cfg.sched, k_fifo_tcpip_priority);
    // Completions are posted after the core is released (the woken caller must not
    // find the core still held), and only once the mailbox is drained: the messages an
    // API call left behind (the loopback's input) run first, so its effects (a
    // datagram delivered, its receiver woken) happen before the caller resumes. On
    // one CPU that saves the caller a wake-up that would only block it again in recv;
    // a full batch is posted at once, so a caller is never held back for long.
    detail::futex_sem* completions[16];
    std::size_t pending = 0;
    const auto post_completions = [&] {
        for (std::size_t i = 0; i < pending; ++i) _mbox->reply(*completions[i]);
        pending = 0;
    };
    for (;;) {
        detail::tcpip_msg* m = _mbox->fetch();
        if (m->k == detail::tcpip_msg::kind::quit) break;
        detail::lock_token t;
        lock_core(t);
        run_message(m);
        run_deferred();
        unlock_core(t);
        // The caller may destroy m once its completion is posted: keep only `done`.
        if (m->done) {
            completions[pending++] = m->done;
        } else if (m->pooled) {
            free_msg(m);
        }
        if (pending == std::size(completions) || _mbox->size() == 0) post_completions();
    }
    post_completions();
}

// ---- deferred work (end of every core operation) -----------------------------------

void stack::request_poll(netif* n) {
    assert_core_context(*this, "stack::request_poll");
    if (n->poll_requested) return;
    n->poll_requested = true;
    _poll_pending.push_back(n);
}

void stack::forget_poll(netif* n) noexcept {
    n->poll_requested = false;
    std::erase(_poll_pending, n);
}

void stack::run_deferred() {
    if (_in_deferred) return;  // a poll that sends again only re-queues; the loop below picks it up
    _in_deferred = true;
    while (!_poll_pending.empty()) {
        netif* n = _poll_pending.back();
        _poll_pending.pop_back();
        n->poll_requested = false;
        if (n->poll) n->poll(n);
    }
    _in_deferred = false;
}

LWBENCH_NS_END
