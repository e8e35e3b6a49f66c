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
//    combining (flat combining / delegation): the caller publishes the operation in
//    its own slot and tries the core lock; whoever holds the core runs every
//    published operation before releasing it, so a caller whose operation another
//    thread ran returns without ever taking the lock (detail/publication_slots.hpp).
//    No other code reads the threading mode.
//  - `input()` is the twin choke point for received packets: post to the mailbox,
//    or process inline under the core lock (LWIP_TCPIP_CORE_LOCKING_INPUT), or
//    publish it like an API call for the core holder to run (combining).
//  - Work queued during a core operation (the loopback's packets) is delivered when
//    that operation ends, before the core is released: never by recursion.
//  - Wake-ups of application threads that a core operation decides (a datagram for a
//    blocked receiver, poll() readiness) are issued right after the core is released,
//    never while holding it (detail/wake_list.hpp); the tcpip thread posts an API
//    call's completion after the release, once its mailbox is drained.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lwbench/config.hpp"
#include "lwbench/err.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/sched.hpp"
#include "lwbench/stats.hpp"

LWBENCH_NS_BEGIN

struct netif;
struct udp_pcb;

enum class threading_mode : std::uint8_t { message_passing, core_locking, combining };
enum class input_mode : std::uint8_t { mailbox, inline_, combining };
/// Every threading mode and input mode, in declaration order: the one list that
/// parsers, the CLI and the tests enumerate.
inline constexpr threading_mode k_threading_modes[] = {threading_mode::message_passing, threading_mode::core_locking,
                                                        threading_mode::combining};
inline constexpr input_mode k_input_modes[] = {input_mode::mailbox, input_mode::inline_, input_mode::combining};
enum class mailbox_kind : std::uint8_t { mutex_cv, tbb_queue, spin_then_block, adaptive };
/// Every mailbox kind, in declaration order (the one list sweeps, parsers and tests use).
inline constexpr mailbox_kind k_mailbox_kinds[] = {mailbox_kind::mutex_cv, mailbox_kind::tbb_queue,
                                                   mailbox_kind::spin_then_block, mailbox_kind::adaptive};
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
/// message passing with tcpip_input (packets posted to the mailbox). Combining (not
/// in lwIP) pairs with combining input: a driver thread publishes its packet like an
/// API call, so a core holder that is running other threads' calls processes it too
/// and the driver returns without taking the lock. The one place this rule is
/// written; everything above the stack asks here.
constexpr input_mode paired_input_mode(threading_mode m) noexcept {
    switch (m) {
        case threading_mode::message_passing: return input_mode::mailbox;
        case threading_mode::core_locking: return input_mode::inline_;
        case threading_mode::combining: return input_mode::combining;
    }
    return input_mode::mailbox;
}

/// How a stack is built. validate_config() checks every field against the range
/// given here; the stack constructor refuses a configuration outside them.
struct stack_config {
    /// Threading mode at start (switchable later, see stack::set_threading_mode).
    /// Fixed-mode builds (LWBENCH_FIXED_MODE_*) ignore it and use their fixed mode.
    threading_mode mode = threading_mode::core_locking;
    /// Input mode at start. Fixed-mode builds use paired_input_mode(their mode).
    input_mode input = input_mode::inline_;
    mailbox_kind mailbox = mailbox_kind::mutex_cv;
    lock_kind lock = lock_kind::std_mutex;
    /// Messages the tcpip mailbox holds, 1..k_max_mailbox_capacity. The pool of
    /// fire-and-forget messages (input, callback) has exactly this many too, so N
    /// received packets can wait in the mailbox at once (the timer has its own message).
    std::size_t mailbox_capacity = 1024;
    /// Full-size pool pbufs, 1..k_max_pbuf_pool_size.
    std::size_t pbuf_pool_size = 1024;
    /// Header-only pbufs for references to caller memory, 1..k_max_pbuf_pool_size.
    std::size_t pbuf_ref_pool_size = 1024;
    /// Datagrams a netconn/socket receive mailbox holds, 1..k_max_recv_queue_depth
    /// (the most SO_RCVBUF / netconn_set_recvbufsize can ask for).
    std::size_t recv_queue_depth = 256;
    /// Sockets this stack may have open at once, 1..k_max_sockets (beyond it: EMFILE).
    std::size_t max_sockets = 64;
    /// Spin iterations before sleeping (tcpip thread on its mailbox, the caller on its
    /// completion semaphore): always for spin_then_block, at most (while the partner
    /// runs on another CPU) for adaptive; and for a combining caller waiting for its
    /// published call (every mailbox kind; see k_combining_spin_limit).
    std::uint32_t spin_iterations = 20000;
    /// Pin the tcpip thread to this CPU: -1 (no pinning) or 0..(CPUs of the machine - 1).
    int tcpip_cpu = -1;
    /// The tcpip thread's scheduling policy (fifo: SCHED_FIFO at k_fifo_tcpip_priority,
    /// see sched.hpp). fifo is valid only where the process may use it.
    sched_policy sched = sched_policy::other;
};

/// A combining caller waiting for its published call spins at most this many times
/// (stack_config::spin_iterations if smaller; well under a microsecond, less than one
/// call takes), then gives its CPU away up to k_combining_yield_limit times, then
/// sleeps on its slot (publication_slot::wait). Measured (socket throughput, 2 and 4
/// senders on 2 CPUs): a 256-pause spin outlasts a combining pass, so waiters never
/// left their CPUs and the receiving thread starved; sleeping at once instead costs
/// the core holder a wake-up per call it ran, and the woken callers preempt the
/// receiver. Short spin, then yields, then sleep kept up with the best lock kind.
inline constexpr std::uint32_t k_combining_spin_limit = 32;
/// Yields of a combining caller between its spin and its sleep (see above).
inline constexpr std::uint32_t k_combining_yield_limit = 50;
inline constexpr std::size_t k_max_mailbox_capacity = std::size_t{1} << 20;
inline constexpr std::size_t k_max_pbuf_pool_size = std::size_t{1} << 18;
inline constexpr std::size_t k_max_recv_queue_depth = std::size_t{1} << 20;
/// Sockets open at once in the whole process (all stacks share one descriptor space,
/// so a descriptor names one socket of one stack; see sockets.hpp).
inline constexpr std::size_t k_max_sockets = 4096;

/// What is wrong with a configuration: the field's name and why.
struct config_error {
    const char* field;
    std::string reason;
    /// "stack_config.<field>: <reason>"
    [[nodiscard]] std::string message() const;
};
/// nullopt if every field of `cfg` is within its documented range. Any thread.
std::optional<config_error> validate_config(const stack_config& cfg);

namespace detail {
class mailbox;
class core_lock;
struct tcpip_msg;
struct lock_token;
struct stack_access;
class stack_sockets;
struct tcp_core;
class wake_list;
class publication_slots;
struct publication_slot;
enum class msg_kind : std::uint8_t;
}  // namespace detail

/// Operation run in core context by call()/callback(): returns an err.
using core_fn = err (*)(void* ctx);
/// Timer callback, run in core context on the tcpip thread.
using timer_fn = void (*)(void* arg);

/// One instance of the stack: its core state, tcpip thread, mailbox and core lock.
///
/// Calling context of each member is stated with it:
///  - "any thread": also from core context;
///  - "not core context": an application thread outside a raw-API callback and
///    outside a core_guard section; these wait for the core, so from core context they
///    would deadlock. Checking builds (debug, asan, tsan) abort with a message instead;
///  - "core context": inside a tcpip callback, a raw-API callback or a core_guard
///    section. Checking builds abort with a message otherwise.
///
/// Teardown contract: destroy the stack from an application thread (not core
/// context) after deleting every netconn you created. The destructor closes the
/// sockets still open — threads blocked in lwip_recvfrom / lwip_poll on them wake up
/// with EBADF / POLLNVAL — and waits until every thread has left the socket calls it
/// was in; only then is anything freed. A netconn still alive at that point is a bug
/// in the caller that would become a use-after-free: the destructor reports it on
/// stderr and aborts, in every build. Starting a new call on a stack after its
/// destruction has begun is the caller's bug, as with any object.
class stack {
public:
    /// Builds and starts a stack. Throws std::invalid_argument with
    /// config_error::message() if validate_config(cfg) finds a field out of range —
    /// the one exception the stack throws (a constructor has no other way to
    /// refuse); call validate_config first to check without it.
    explicit stack(const stack_config& cfg = {});
    /// Not core context. See the teardown contract above. Netifs and raw pcbs still
    /// registered are detached; pbufs still queued are freed.
    ~stack();
    stack(const stack&) = delete;
    stack& operator=(const stack&) = delete;

    // ---- the dispatcher (the only code that reads the threading mode) --------------
    /// Runs fn(ctx) in core context the current threading mode's way and returns its
    /// err: core locking runs it on the calling thread under the core lock; message
    /// passing posts it to the tcpip thread and waits; combining publishes it, and
    /// either the calling thread takes the core and runs it with every other published
    /// call, or the thread holding the core runs it (stats: api_calls_combined_*).
    /// This is how raw-API users enter core context without knowing the mode (so a
    /// live mode switch never leaves them on a stale path); work queued during fn (loopback packets) is delivered before
    /// call() returns. Not core context.
    err call(core_fn fn, void* ctx);
    /// Convenience: any callable `err f()`.
    template <class F>
    err call(F&& f) {
        return call([](void* c) -> err { return (*static_cast<std::remove_reference_t<F>*>(c))(); },
                    static_cast<void*>(&f));
    }
    /// Hands a received packet to the core by the input mode. Takes ownership of p on
    /// every outcome. err::mem (p freed, drop counted) if the mailbox or its message
    /// pool is full. Any thread.
    err input(pbuf* p, netif* inp);
    /// Always through the mailbox, fire-and-forget (tcpip_callback). The message is
    /// allocated from the message pool: err::mem if it is exhausted or the mailbox is
    /// full. Any thread.
    err callback(core_fn fn, void* ctx);
    /// Always through the mailbox, and waits for completion (tcpip_callback_wait).
    /// Not core context.
    err callback_wait(core_fn fn, void* ctx);

    /// Switches the threading mode of a live stack. Quiesces first: waits for every
    /// message already in the mailbox to run and for core-locking callers in flight
    /// to leave the core, then flips. Traffic continues across the switch. Returns
    /// err::ok; a fixed-mode build (LWBENCH_FIXED_MODE_*) refuses any other mode than
    /// its own with err::arg and changes nothing. Not core context.
    err set_threading_mode(threading_mode m);
    /// As set_threading_mode, for the input mode (a fixed-mode build accepts only
    /// paired_input_mode of its mode). Not core context.
    err set_input_mode(input_mode m);
    /// The mode call() dispatches by (a fixed-mode build: its fixed mode). Any thread.
    [[nodiscard]] threading_mode get_threading_mode() const noexcept;
    /// The mode input() dispatches by (a fixed-mode build: paired_input_mode of its mode).
    [[nodiscard]] input_mode get_input_mode() const noexcept;
    /// The configuration the stack was built with. Any thread.
    [[nodiscard]] const stack_config& config() const noexcept { return _cfg; }

    /// True if the calling thread is in core context (holds the core lock). Any thread.
    [[nodiscard]] bool in_core_context() const noexcept;
    /// The tcpip thread's id (for tests that check where work ran). Any thread.
    [[nodiscard]] std::thread::id tcpip_thread_id() const noexcept { return _thread.get_id(); }

    // ---- timers (run in core context on the tcpip thread; stack/src/core/timers.cpp) ----
    /// Registers a cyclic timer. Core context. Returns an id for remove_timer.
    int add_cyclic_timer(std::chrono::milliseconds interval, timer_fn fn, void* arg);
    /// Core context.
    void remove_timer(int id);

    // ---- counters and memory (any thread) --------------------------------------------
    /// The stack's counters: atomics, readable from any thread (relaxed).
    stats& st() noexcept { return _stats; }
    [[nodiscard]] const stats& st() const noexcept { return _stats; }
    /// The pbuf pools, for their usage figures (pool_in_use, …). Allocate with
    /// pbuf_alloc / pbuf_alloc_ref. Any thread.
    [[nodiscard]] const pbuf_pools& pools() const noexcept { return _pools; }
    /// TCP's core state (pools, pcb lists, timer): made by the first TCP call, freed
    /// with the stack (lwbench/detail/tcp_priv.hpp); reached through detail::stack_access.
    using tcp_core_ptr = std::unique_ptr<detail::tcp_core, void (*)(detail::tcp_core*)>;

    // ---- for netif drivers (core context) ---------------------------------------------
    /// A netif has queued work for after the current core operation (the loopback):
    /// its poll callback runs before the core is released. Core context.
    void request_poll(netif* n);

    /// Messages waiting in the tcpip mailbox, for tests and the harness (relaxed). Any thread.
    [[nodiscard]] std::size_t mailbox_depth() const noexcept;
    /// Calls published for the core holder and not yet claimed (combining), for tests
    /// (relaxed). Any thread.
    [[nodiscard]] std::size_t published_calls() const noexcept;

private:
    friend class core_guard;
    friend struct detail::stack_access;
    void tcpip_thread_main();
    err post_and_wait(detail::msg_kind kind, core_fn fn, void* ctx);
    err combine(core_fn fn, void* ctx, bool is_input);
    err run_locked(core_fn fn, void* ctx);
    void run_published(const detail::publication_slot* own);
    void nudge_published();
    void drain_published();
    void lock_core(detail::lock_token& t);
    bool try_lock_core(detail::lock_token& t);
    void unlock_core(detail::lock_token& t);
    detail::tcpip_msg* alloc_msg() noexcept;
    void free_msg(detail::tcpip_msg* m) noexcept;
    void run_message(detail::tcpip_msg* m);
    void forget_poll(netif* n) noexcept;
    void run_deferred();
    void timer_thread_main();
    void run_due_timers();
    void stop_timers();
    void ensure_not_core_context(const char* where) const;

    stack_config _cfg;
    stats _stats;
    pbuf_pools _pools;
    std::atomic<threading_mode> _mode;
    std::atomic<input_mode> _input;
    std::unique_ptr<detail::core_lock> _lock;
    std::unique_ptr<detail::mailbox> _mbox;
    std::atomic<const void*> _core_owner{nullptr};  ///< thread marker of the core-context thread
    std::unique_ptr<detail::wake_list> _wakes;      ///< core context: issued by unlock_core
    /// combining: the threads' published calls (shared with their registrations, which
    /// outlive the stack only to give their slot back; publication_slots.hpp)
    std::shared_ptr<detail::publication_slots> _slots;
    std::uint32_t _combining_spin = 0;  ///< spin budget of a combining caller
    std::mutex _switch_mutex;                       ///< serialises mode switches
    // message pool for fire-and-forget messages (input, callback): mailbox_capacity of them
    std::vector<detail::tcpip_msg> _msg_storage;
    detail::tcpip_msg* _msg_free = nullptr;
    std::atomic_flag _msg_lock = ATOMIC_FLAG_INIT;
    // core state (core context only; reached by the stack's own files through detail::stack_access)
    std::vector<netif*> _netifs;
    udp_pcb* _udp_pcbs = nullptr;
    udp_pcb* _dhcp_pcb = nullptr;  ///< port 68, shared by every netif's DHCP client (dhcp.cpp)
    tcp_core_ptr _tcp{nullptr, nullptr};  // after _pools: freed (with its pbufs) before them
    std::uint16_t _next_port = k_ephemeral_first;
    std::uint16_t _ip_ident = 1;
    std::vector<netif*> _poll_pending;
    bool _in_deferred = false;
    // sockets of this stack and the netconns alive (any thread; see the teardown contract)
    std::unique_ptr<detail::stack_sockets> _sockets;
    std::atomic<std::size_t> _live_netconns{0};
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
    std::unique_ptr<detail::tcpip_msg> _timer_msg;  ///< the timer's own message (not from the pool)
    std::thread _timer_thread;
    std::thread _thread;  // last: starts after everything above exists
};

/// Allocates a pbuf (chain) from s's pools: see pbuf_pools::alloc. Any thread (the
/// pools are thread-safe, like lwIP's pbuf_alloc). The caller owns the result.
pbuf* pbuf_alloc(stack& s, pbuf_layer layer, std::size_t len, pbuf_type type);
/// A reference pbuf over caller memory from s's ref pool: see pbuf_pools::alloc_ref
/// (lwIP's pbuf_alloc_reference). Any thread.
pbuf* pbuf_alloc_ref(stack& s, const void* data, std::size_t len, bool stable, pbuf_free_fn on_free = nullptr,
                     void* arg = nullptr);

/// RAII core lock for raw-API users on their own thread (LOCK_TCPIP_CORE /
/// UNLOCK_TCPIP_CORE). Entering core context this way works in either threading
/// mode. On release it first delivers work queued during the section. Not core
/// context (the core lock is not recursive). Prefer stack::call, which enters core
/// context the current mode's way.
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
/// assert_not_core_context is its mirror for calls that wait for the core (they would
/// deadlock from core context).
#if defined(LWBENCH_CHECK_CORE_CONTEXT)
void assert_core_context(const stack& s, const char* where);
void assert_not_core_context(const stack& s, const char* where);
#else
inline void assert_core_context(const stack&, const char*) {}
inline void assert_not_core_context(const stack&, const char*) {}
#endif

LWBENCH_NS_END
