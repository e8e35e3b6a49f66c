// tcpip.cpp — the tcpip thread, the API/input dispatchers, quiescing mode switches,
// deferred work and timers. The ONLY file that reads the threading or input mode.
#include "lwbench/tcpip.hpp"

#include <cstdio>
#include <cstdlib>

#include "lwbench/detail/core_lock.hpp"
#include "lwbench/detail/mailbox.hpp"
#include "lwbench/detail/spin.hpp"
#include "lwbench/detail/tcpip_msg.hpp"
#include "lwbench/ip4.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/udp.hpp"

#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING) && defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
#error "choose at most one fixed threading mode"
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

stack::stack(const stack_config& cfg)
    : _cfg(cfg),
      _pools(_stats, cfg.pbuf_pool_size, cfg.pbuf_ref_pool_size),
      _mode(cfg.mode),
      _input(cfg.input),
      _lock(std::make_unique<detail::core_lock>(cfg.lock)),
      _mbox(detail::make_mailbox(cfg.mailbox, cfg.mailbox_capacity,
                                 cfg.mailbox == mailbox_kind::spin_then_block ? cfg.spin_iterations : 0)),
      _msg_storage(cfg.mailbox_capacity) {
    _caller_spin = cfg.mailbox == mailbox_kind::spin_then_block ? cfg.spin_iterations : 0;
    for (auto& m : _msg_storage) {
        m.pooled = true;
        m.next_free = _msg_free;
        _msg_free = &m;
    }
    _poll_pending.reserve(8);
    _timer_msg = alloc_msg();  // reserved for the timer thread for the stack's lifetime
    _timer_msg->k = detail::tcpip_msg::kind::timer;
    _timer_msg->pooled = false;
    _sockets = std::make_unique<socket_table>(*this, cfg.max_sockets);
    _thread = std::thread([this] { tcpip_thread_main(); });
}

stack::~stack() {
    {
        std::lock_guard lk(_timer_mutex);
        _timer_stop = true;
    }
    _timer_cv.notify_all();
    if (_timer_thread.joinable()) _timer_thread.join();
    _sockets.reset();  // closes sockets still open (through the dispatcher)
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

void stack::unlock_core(detail::lock_token& t) {
    _core_owner.store(nullptr, std::memory_order_relaxed);
    _lock->unlock(t);
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
#endif

core_guard::core_guard(stack& s) : _s(s) {
    static_assert(sizeof(_token) >= sizeof(detail::lock_token));
    _s.lock_core(*reinterpret_cast<detail::lock_token*>(_token));
}

core_guard::~core_guard() {
    _s.run_deferred();
    _s.unlock_core(*reinterpret_cast<detail::lock_token*>(_token));
}

// ---- the dispatcher ----------------------------------------------------------------

err stack::call(core_fn fn, void* ctx) {
#if defined(LWBENCH_CHECK_CORE_CONTEXT)
    if (in_core_context()) {
        std::fprintf(stderr, "lwbench: stack::call from core context would deadlock\n");
        std::abort();
    }
#endif
#if defined(LWBENCH_FIXED_MODE_CORE_LOCKING)
    constexpr bool locking = true;
#elif defined(LWBENCH_FIXED_MODE_MESSAGE_PASSING)
    constexpr bool locking = false;
#else
    const bool locking = _mode.load(std::memory_order_relaxed) == threading_mode::core_locking;
#endif
    if (locking) {
        detail::lock_token t;
        lock_core(t);
        _stats.api_calls_locked.inc();
        const err e = fn(ctx);
        run_deferred();
        unlock_core(t);
        return e;
    }
    return post_and_wait(detail::tcpip_msg::kind::api, fn, ctx);
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
    t_done.acquire(_caller_spin);
    return m.result;
}

err stack::input(pbuf* p, netif* inp) {
    if (_input.load(std::memory_order_relaxed) == input_mode::inline_) {
        if (in_core_context()) {  // e.g. the loopback delivering at the end of a core operation
            ip4_input(*this, p, inp);
            return err::ok;
        }
        detail::lock_token t;
        lock_core(t);
        ip4_input(*this, p, inp);
        run_deferred();
        unlock_core(t);
        return err::ok;
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
    return post_and_wait(detail::tcpip_msg::kind::callback_wait, fn, ctx);
}

void stack::set_threading_mode(threading_mode m) {
    std::lock_guard lk(_switch_mutex);
    _mode.store(m, std::memory_order_relaxed);
    // Quiesce. Correctness never depends on this (the tcpip thread runs every message
    // under the core lock, so both kinds of caller are always mutually exclusive);
    // it gives a clean boundary: messages posted under the old mode have run, and
    // core-locking callers that were inside the core have left it.
    callback_wait([](void*) { return err::ok; }, nullptr);
    detail::lock_token t;
    lock_core(t);
    unlock_core(t);
}

void stack::set_input_mode(input_mode m) {
    std::lock_guard lk(_switch_mutex);
    _input.store(m, std::memory_order_relaxed);
    callback_wait([](void*) { return err::ok; }, nullptr);  // packets posted before have run
}

std::size_t stack::mailbox_depth() const noexcept { return _mbox->size(); }

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
            ip4_input(*this, m->p, m->inp);
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
    for (;;) {
        detail::tcpip_msg* m = _mbox->fetch();
        if (m->k == detail::tcpip_msg::kind::quit) break;
        detail::lock_token t;
        lock_core(t);
        run_message(m);
        run_deferred();
        unlock_core(t);
        // Completion after the core is released: the woken caller must not find the
        // core still held. After post() the caller may destroy m: touch it no more.
        if (m->done) {
            m->done->post();
        } else if (m->pooled) {
            free_msg(m);
        }
    }
}

// ---- deferred work (end of every core operation) -----------------------------------

void stack::request_poll(netif* n) {
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

// ---- timers ------------------------------------------------------------------------
// A small timer thread sleeps until the earliest deadline and then posts one timer
// message; the callbacks themselves run on the tcpip thread, in core context. Nothing
// runs (and nobody is woken) while no timer is registered.

int stack::add_cyclic_timer(std::chrono::milliseconds interval, timer_fn fn, void* arg) {
    assert_core_context(*this, "add_cyclic_timer");
    const int id = _next_timer_id++;
    const auto due = std::chrono::steady_clock::now() + interval;
    _timers.push_back({id, interval, due, fn, arg});
    {
        std::lock_guard lk(_timer_mutex);
        if (!_next_due || due < *_next_due) _next_due = due;
        if (!_timer_thread.joinable()) _timer_thread = std::thread([this] { timer_thread_main(); });
    }
    _timer_cv.notify_all();
    return id;
}

void stack::remove_timer(int id) {
    assert_core_context(*this, "remove_timer");
    std::erase_if(_timers, [id](const timer& t) { return t.id == id; });
}

void stack::run_due_timers() {
    const auto now = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> next;
    // Index loop: a callback may add or remove timers.
    for (std::size_t i = 0; i < _timers.size(); ++i) {
        if (_timers[i].due <= now) {
            _timers[i].due = now + _timers[i].interval;
            _timers[i].fn(_timers[i].arg);
        }
    }
    for (const auto& t : _timers)
        if (!next || t.due < *next) next = t.due;
    {
        std::lock_guard lk(_timer_mutex);
        _next_due = next;
    }
    _timer_cv.notify_all();
}

void stack::timer_thread_main() {
    std::unique_lock lk(_timer_mutex);
    for (;;) {
        if (_timer_stop) return;
        if (!_next_due) {
            _timer_cv.wait(lk);
            continue;
        }
        if (_timer_cv.wait_until(lk, *_next_due) == std::cv_status::no_timeout) continue;
        if (_timer_stop) return;
        _next_due.reset();  // the tcpip thread sets the next deadline after running them
        if (!_timer_tick_pending.exchange(true, std::memory_order_relaxed)) {
            lk.unlock();
            // trypost: never block the timer thread on a full mailbox; retried next round.
            if (!_mbox->trypost(_timer_msg)) {
                _timer_tick_pending.store(false, std::memory_order_relaxed);
                lk.lock();
                _next_due = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
                continue;
            }
            lk.lock();
        }
    }
}

LWBENCH_NS_END
