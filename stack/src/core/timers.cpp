// timers.cpp — cyclic timers of a stack (lwIP's timeouts). A small timer thread
// sleeps until the earliest deadline and then posts the stack's one timer message;
// the callbacks themselves run on the tcpip thread, in core context (run_message in
// tcpip.cpp calls run_due_timers). Nothing runs (and nobody is woken) while no timer
// is registered. The timer thread never reads the threading mode: it only posts.
#include <chrono>

#include "lwbench/detail/mailbox.hpp"
#include "lwbench/detail/tcpip_msg.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

void stack::stop_timers() {
    {
        std::lock_guard lk(_timer_mutex);
        _timer_stop = true;
    }
    _timer_cv.notify_all();
    if (_timer_thread.joinable()) _timer_thread.join();
}

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
            if (!_mbox->trypost(_timer_msg.get())) {
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
