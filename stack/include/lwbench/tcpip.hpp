// tcpip.hpp — a stack instance and its threading: the tcpip thread, the mailbox,
// the core lock, and the one dispatcher that decides how an API call reaches the
// single-threaded core.
//
// Threading contract (DESIGN.md "Threading model"):
//  - The core (pcbs, netifs, routing, timers, packets in flight) is touched by one
//    thread at a time: a thread in *core context*. Core context = holding the core
//    lock. The tcpip thread takes the core lock around every message it runs, in
//    both modes, so core-locking callers and message-passing callers can coexist
//    (that is what makes the live mode switch safe; see set_threading_mode).
//  - `call()` is the choke point. message_passing: the operation is posted to the
//    mailbox and the caller sleeps on its own per-thread semaphore until the tcpip
//    thread has run it (lwIP's LWIP_NETCONN_SEM_PER_THREAD). core_locking: the
//    caller locks the core, runs the operation itself, unlocks (LWIP_TCPIP_CORE_LOCKING).
//    No other code reads the threading mode.
//  - `input()` is the twin choke point for received packets: post to the mailbox,
//    or process inline under the core lock (LWIP_TCPIP_CORE_LOCKING_INPUT).
//  - Work queued during a core operation (the loopback's packets) is delivered when
//    that operation ends, before the core is released: never by recursion.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/stats.hpp"

LWBENCH_NS_BEGIN

struct netif;
struct udp_pcb;
class socket_table;

enum class threading_mode : std::uint8_t { message_passing, core_locking };
enum class input_mode : std::uint8_t { mailbox, inline_ };
enum class mailbox_kind : std::uint8_t { mutex_cv, tbb_queue, spin_then_block };
enum class lock_kind : std::uint8_t { std_mutex, tbb_spin_mutex, tbb_queuing_mutex };

const char* to_string(threading_mode m) noexcept;
const char* to_string(input_mode m) noexcept;
const char* to_string(mailbox_kind m) noexcept;
const char* to_string(lock_kind m) noexcept;
/// Parse the names printed by to_string ("message_passing", "inline", …); nullopt if unknown.
std::optional<threading_mode> parse_threading_mode(std::string_view s) noexcept;
std::optional<input_mode> parse_input_mode(std::string_view s) noexcept;
std::optional<mailbox_kind> parse_mailbox_kind(std::string_view s) noexcept;
std::optional<lock_kind> parse_lock_kind(std::string_view s) noexcept;

/// The input mode that lwIP's builds pair with a threading mode: core locking with
/// LWIP_TCPIP_CORE_LOCKING_INPUT (packets processed inline under the core lock),
/// message passing with tcpip_input (packets posted to the mailbox). The one place
/// this rule is written; everything above the stack asks here.
constexpr input_mode paired_input_mode(threading_mode m) noexcept {
    return m == threading_mode::core_locking ? input_mode::inline_ : input_mode::mailbox;
}

struct stack_config {
    threading_mode mode = threading_mode::core_locking;
    input_mode input = input_mode::inline_;
    mailbox_kind mailbox = mailbox_kind::mutex_cv;
    lock_kind lock = lock_kind::std_mutex;
    std::size_t mailbox_capacity = 1024;  ///< tcpip mailbox depth (and input message pool size)
    std::size_t pbuf_pool_size = 1024;    ///< full-size pool pbufs
    std::size_t pbuf_ref_pool_size = 1024;
    std::size_t recv_queue_depth = 256;  ///< default netconn/socket receive mailbox depth
    std::size_t max_sockets = 64;
    /// Spin iterations before sleeping, for the spin_then_block kind (tcpip thread on
    /// its mailbox, the caller on its completion semaphore). Ignored by other kinds.
    std::uint32_t spin_iterations = 20000;
    int tcpip_cpu = -1;  ///< pin the tcpip thread to this CPU (-1: no pinning)
};

namespace detail {
class mailbox;
class core_lock;
struct tcpip_msg;
struct lock_token;
struct tcp_core;
enum class msg_kind : std::uint8_t;
}  // namespace detail

/// Operation run in core context by call()/callback(): returns an err.
using core_fn = err (*)(void* ctx);
/// Timer callback, run in core context on the tcpip thread.
using timer_fn = void (*)(void* arg);

class stack {
public:
    explicit stack(const stack_config& cfg = {});
    /// Stops the tcpip thread. Netifs and pcbs still registered are detached; pbufs
    /// still queued are freed.
    ~stack();
    stack(const stack&) = delete;
    stack& operator=(const stack&) = delete;

    // ---- the dispatcher (the only code that reads the threading mode) --------------
    /// Runs fn(ctx) in core context by the current threading mode and returns its err.
    /// Must not be called from core context (debug builds assert).
    err call(core_fn fn, void* ctx);
    /// Convenience: any callable `err f()`.
    template <class F>
    err call(F&& f) {
        return call([](void* c) -> err { return (*static_cast<std::remove_reference_t<F>*>(c))(); },
                    static_cast<void*>(&f));
    }
    /// Hands a received packet to the core by the input mode. Takes ownership of p on
    /// every outcome. err::mem (p freed, drop counted) if the mailbox is full.
    /// Callable from any thread, including core context.
    err input(pbuf* p, netif* inp);
    /// Always through the mailbox, fire-and-forget (tcpip_callback). The message is
    /// allocated from the message pool: err::mem if it is exhausted.
    err callback(core_fn fn, void* ctx);
    /// Always through the mailbox, and waits for completion (tcpip_callback_wait).
    err callback_wait(core_fn fn, void* ctx);

    /// Switches the threading mode of a live stack. Quiesces first: waits for every
    /// message already in the mailbox to run and for core-locking callers in flight
    /// to leave the core, then flips. Traffic continues across the switch.
    void set_threading_mode(threading_mode m);
    void set_input_mode(input_mode m);
    [[nodiscard]] threading_mode get_threading_mode() const noexcept { return _mode.load(std::memory_order_relaxed); }
    [[nodiscard]] input_mode get_input_mode() const noexcept { return _input.load(std::memory_order_relaxed); }
    [[nodiscard]] const stack_config& config() const noexcept { return _cfg; }

    /// True if the calling thread is in core context (holds the core lock).
    [[nodiscard]] bool in_core_context() const noexcept;
    /// The tcpip thread's id (for tests that check where work ran).
    [[nodiscard]] std::thread::id tcpip_thread_id() const noexcept { return _thread.get_id(); }

    // ---- timers (run in core context on the tcpip thread) ---------------------------
    /// Registers a cyclic timer. Call from core context. Returns an id for remove_timer.
    int add_cyclic_timer(std::chrono::milliseconds interval, timer_fn fn, void* arg);
    /// Call from core context.
    void remove_timer(int id);

    // ---- core state (touch only in core context) -------------------------------------
    pbuf_pools& pools() noexcept { return _pools; }
    stats& st() noexcept { return _stats; }
    [[nodiscard]] const stats& st() const noexcept { return _stats; }
    std::vector<netif*>& netifs() noexcept { return _netifs; }
    udp_pcb*& udp_pcbs() noexcept { return _udp_pcbs; }
    std::uint16_t& next_ephemeral_port() noexcept { return _next_port; }
    socket_table& sockets() noexcept { return *_sockets; }
    /// TCP's core state (pools, pcb lists, timer): made by the first TCP call, freed
    /// with the stack (lwbench/detail/tcp_priv.hpp).
    using tcp_core_ptr = std::unique_ptr<detail::tcp_core, void (*)(detail::tcp_core*)>;
    tcp_core_ptr& tcp_core_slot() noexcept { return _tcp; }
    std::uint16_t next_ip_ident() noexcept { return _ip_ident++; }
    /// A netif has queued work for after the current core operation (loopback).
    void request_poll(netif* n);
    /// Forgets a pending poll request (netif removal).
    void forget_poll(netif* n) noexcept;
    /// Runs pending netif polls until none is left (end of every core operation).
    void run_deferred();

    /// Messages and locking, for tests and the harness (relaxed reads).
    [[nodiscard]] std::size_t mailbox_depth() const noexcept;

private:
    friend class core_guard;
    void tcpip_thread_main();
    err post_and_wait(detail::msg_kind kind, core_fn fn, void* ctx);
    void lock_core(detail::lock_token& t);
    void unlock_core(detail::lock_token& t);
    detail::tcpip_msg* alloc_msg() noexcept;
    void free_msg(detail::tcpip_msg* m) noexcept;
    void run_message(detail::tcpip_msg* m);
    void post_timer_tick();
    void timer_thread_main();
    void run_due_timers();

    stack_config _cfg;
    stats _stats;
    pbuf_pools _pools;
    std::atomic<threading_mode> _mode;
    std::atomic<input_mode> _input;
    std::unique_ptr<detail::core_lock> _lock;
    std::unique_ptr<detail::mailbox> _mbox;
    std::uint32_t _caller_spin = 0;                 ///< spin budget of a caller waiting for completion
    std::atomic<const void*> _core_owner{nullptr};  ///< thread marker of the core-context thread
    std::mutex _switch_mutex;                       ///< serialises mode switches
    // message pool for fire-and-forget messages (input, callback)
    std::vector<detail::tcpip_msg> _msg_storage;
    detail::tcpip_msg* _msg_free = nullptr;
    std::atomic_flag _msg_lock = ATOMIC_FLAG_INIT;
    // core state
    std::vector<netif*> _netifs;
    udp_pcb* _udp_pcbs = nullptr;
    tcp_core_ptr _tcp{nullptr, nullptr};  // after _pools: freed (with its pbufs) before them
    std::uint16_t _next_port = k_ephemeral_first;
    std::uint16_t _ip_ident = 1;
    std::vector<netif*> _poll_pending;
    bool _in_deferred = false;
    std::unique_ptr<socket_table> _sockets;
    // timers
    struct timer {
        int id;
        std::chrono::milliseconds interval;
        std::chrono::steady_clock::time_point due;
        timer_fn fn;
        void* arg;
    };
    std::vector<timer> _timers;  // core state
    int _next_timer_id = 1;
    std::mutex _timer_mutex;  // guards _next_due / _timer_stop for the timer thread
    std::condition_variable _timer_cv;
    std::optional<std::chrono::steady_clock::time_point> _next_due;
    bool _timer_stop = false;
    std::atomic<bool> _timer_tick_pending{false};
    detail::tcpip_msg* _timer_msg = nullptr;
    std::thread _timer_thread;
    std::thread _thread;  // last: starts after everything above exists
};

/// RAII core lock for raw-API users on their own thread (LOCK_TCPIP_CORE /
/// UNLOCK_TCPIP_CORE). Entering core context this way works in either threading
/// mode. On release it first delivers work queued during the section.
class core_guard {
public:
    explicit core_guard(stack& s);
    ~core_guard();
    core_guard(const core_guard&) = delete;
    core_guard& operator=(const core_guard&) = delete;

private:
    stack& _s;
    alignas(64) unsigned char _token[64];  // detail::lock_token storage (see core_lock.hpp)
};

/// lwIP's LWIP_ASSERT_CORE_LOCKED(): in debug and sanitizer builds, aborts with a
/// message if the calling thread is not in core context. Free in release builds.
#if defined(LWBENCH_CHECK_CORE_CONTEXT)
void assert_core_context(const stack& s, const char* where);
#else
inline void assert_core_context(const stack&, const char*) {}
#endif

LWBENCH_NS_END
