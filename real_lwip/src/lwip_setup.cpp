// lwip_setup.cpp — lwIP bring-up and what runs in core context: the tcpip thread,
// the zero-copy netif pair and the sink, core-context helpers, pinning and scheduling
// of the tcpip and application threads, the path check, and the record identity with the lwIP options.
#include <cstring>

#include "lwbench/sched.hpp"
#include "runner.hpp"

#if LWIP_TCP
#include <lwip/priv/tcp_priv.h>  // TCP_TMR_INTERVAL, for the record's lwip_options
#endif

#if LWIP_TCPIP_CORE_LOCKING
// The zero-copy netif delivers from the core-unlock hook; a port whose
// sys_arch.h redefines UNLOCK_TCPIP_CORE would bypass it and self-deadlock.
static_assert(std::string_view(LWBENCH_STR(UNLOCK_TCPIP_CORE())) == "lwbench_lwip_core_unlock()",
              "UNLOCK_TCPIP_CORE() is not lwbench's hook: the lwIP port redefines it");
#endif
static_assert(LWIP_TCPIP_CORE_LOCKING_INPUT == LWIP_TCPIP_CORE_LOCKING,
              "the runner measures CORE_LOCKING=CORE_LOCKING_INPUT=1 or both 0");

namespace lwbench::lwip_runner {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "lwip_runner: error: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

std::atomic<bool> g_cancel{false};

/// Runs fn on the tcpip thread and waits (tcpip_callback always posts, in both
/// builds — unlike tcpip_api_call, which runs inline under the lock when locking).
void on_tcpip_thread(const std::function<void()>& fn) {
    struct ctx {
        const std::function<void()>* fn;
        sys_sem_t done;
    } c{&fn, nullptr};
    if (sys_sem_new(&c.done, 0) != ERR_OK) fail("sys_sem_new failed");
    auto trampoline = [](void* arg) {
        auto* x = static_cast<ctx*>(arg);
        (*x->fn)();
        sys_sem_signal(&x->done);
    };
    if (tcpip_callback(trampoline, &c) != ERR_OK) fail("tcpip_callback failed");
    sys_arch_sem_wait(&c.done, 0);
    sys_sem_free(&c.done);
}

/// Runs fn in core context from an application thread: under the core lock in
/// the locking build, on the tcpip thread otherwise. For setup, not for timing.
void in_core(const std::function<void()>& fn) {
#if LWIP_TCPIP_CORE_LOCKING
    LOCK_TCPIP_CORE();
    fn();
    UNLOCK_TCPIP_CORE();
#else
    on_tcpip_thread(fn);
#endif
}

std::atomic<std::uint64_t> g_sink_received{0};

namespace {
void sink_recv(void*, udp_pcb*, pbuf* p, const ip_addr_t*, u16_t) {
    g_sink_received.store(g_sink_received.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    pbuf_free(p);
}
}  // namespace

raw_rt_state g_raw_rt;

void raw_rt_b_recv(void*, udp_pcb* pcb, pbuf* p, const ip_addr_t* addr, u16_t port) {
    const u16_t len = p->tot_len;
    pbuf_free(p);
    pbuf* r = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_REF);
    if (r == nullptr) return;
    r->payload = g_raw_rt.pong;
    udp_sendto(pcb, r, addr, port);
    pbuf_free(r);
}

void raw_rt_a_recv(void*, udp_pcb*, pbuf* p, const ip_addr_t*, u16_t) {
    pbuf_free(p);
    sys_sem_signal(&g_raw_rt.reply);
}

void start_lwip(std::uint8_t* pong) {
    sys_sem_t ready;
    if (sys_sem_new(&ready, 0) != ERR_OK) fail("sys_sem_new failed");
    struct init_ctx {
        sys_sem_t* ready;
        int zc_rc;
    } ctx{&ready, -1};
    // tcpip_init's callback runs on the tcpip thread, in core context.
    tcpip_init(
        [](void* arg) {
            auto* c = static_cast<init_ctx*>(arg);
            c->zc_rc = lwbench_zc_loopif_add();
            udp_pcb* sink = udp_new();
            if (sink != nullptr && udp_bind(sink, IP4_ADDR_ANY, k_sink_port) == ERR_OK) {
                udp_recv(sink, sink_recv, nullptr);
            } else {
                c->zc_rc = -2;
            }
            sys_sem_signal(c->ready);
        },
        &ctx);
    sys_arch_sem_wait(&ready, 0);
    sys_sem_free(&ready);
    if (ctx.zc_rc != 0) fail("setting up the zero-copy netif pair or the sink failed");
    if (sys_sem_new(&g_raw_rt.reply, 0) != ERR_OK) fail("sys_sem_new failed");
    g_raw_rt.pong = pong;
}

hx::cpu_plan plan_of(const std::string& pinning) { return hx::cpu_plan::of(*hx::parse_pinning(pinning)); }

namespace {
lwbench::sched_policy g_sched = lwbench::sched_policy::other;  // set by main() before the first point
}  // namespace

void use_sched_policy(const std::string& name) {
    const auto policy = lwbench::parse_sched_policy(name);
    if (!policy) fail("unknown scheduling policy " + name);
    g_sched = *policy;
}

void setup_app_thread(int cpu) {
    if (!hx::pin_current_thread(cpu)) fail("cannot pin a thread to CPU " + std::to_string(cpu));
    if (const int e = lwbench::apply_sched_policy(g_sched, lwbench::k_fifo_app_priority); e != 0)
        fail(std::string("cannot run an application thread under ") + lwbench::to_string(g_sched) + ": " +
             std::strerror(e));
}

void pin_tcpip_thread(int cpu) {
    bool pinned = true;
    int sched_error = 0;
    on_tcpip_thread([&] {
        pinned = hx::pin_current_thread(cpu);
        sched_error = lwbench::apply_sched_policy(g_sched, lwbench::k_fifo_tcpip_priority);
    });
    if (!pinned) fail("cannot pin the tcpip thread to CPU " + std::to_string(cpu));
    if (sched_error != 0)
        fail(std::string("cannot run the tcpip thread under ") + lwbench::to_string(g_sched) + ": " +
             std::strerror(sched_error));
}


/// Proves the datagrams of a scenario point took the path its variant names:
/// at least `min_zc` outputs on the zero-copy pair, or none for stock_loopif
/// (a routing mistake would silently measure lwIP's copying loopback instead).
void check_path(const std::string& variant, unsigned long zc_before, std::uint64_t min_zc) {
    const unsigned long delta = lwbench_zc_loopif_outputs() - zc_before;
    if (variant == "zero_copy" && delta < min_zc)
        fail("only " + std::to_string(delta) + " of " + std::to_string(min_zc) +
             " datagrams left through the zero-copy netif: routing is wrong");
    if (variant == "stock_loopif" && delta != 0)
        fail(std::to_string(delta) + " datagrams of a stock_loopif run went through the zero-copy netif");
}

json lwip_options_json(const std::string& variant) {
    json checksum = {
        {"CHECKSUM_GEN_IP", CHECKSUM_GEN_IP},
        {"CHECKSUM_GEN_UDP", CHECKSUM_GEN_UDP},
        {"CHECKSUM_CHECK_IP", CHECKSUM_CHECK_IP},
        {"CHECKSUM_CHECK_UDP", CHECKSUM_CHECK_UDP},
        {"LWIP_CHECKSUM_ON_COPY", LWIP_CHECKSUM_ON_COPY},
#if defined(LWIP_CHKSUM)
        {"algorithm", "custom LWIP_CHKSUM"},
#elif defined(LWIP_CHKSUM_ALGORITHM)
        {"algorithm", LWIP_CHKSUM_ALGORITHM},
#else
        {"algorithm", 2},  // inet_chksum.c's default
#endif
    };
    return {
        {"LWIP_TCPIP_CORE_LOCKING", LWIP_TCPIP_CORE_LOCKING},
        {"LWIP_TCPIP_CORE_LOCKING_INPUT", LWIP_TCPIP_CORE_LOCKING_INPUT},
        {"LWIP_NETCONN_SEM_PER_THREAD", LWIP_NETCONN_SEM_PER_THREAD},
        {"netif", variant},
        {"port", LWBENCH_LWIP_PORT_ORIGIN},
        {"CHECKSUM", checksum},
        {"SYS_LIGHTWEIGHT_PROT", SYS_LIGHTWEIGHT_PROT},
        {"MEM_LIBC_MALLOC", MEM_LIBC_MALLOC},
        {"MEMP_MEM_MALLOC", MEMP_MEM_MALLOC},
        {"LWIP_NETIF_TX_SINGLE_PBUF", LWIP_NETIF_TX_SINGLE_PBUF},
        {"LWIP_SOCKET_SELECT", LWIP_SOCKET_SELECT},
        {"LWIP_SOCKET_POLL", LWIP_SOCKET_POLL},
        {"LWIP_STATS", LWIP_STATS},
#if LWIP_TCP
        {"TCP", {{"TCP_MSS", TCP_MSS},
                 {"TCP_WND", TCP_WND},
                 {"TCP_SND_BUF", TCP_SND_BUF},
                 {"TCP_SND_QUEUELEN", TCP_SND_QUEUELEN},
                 {"MEMP_NUM_TCP_PCB", MEMP_NUM_TCP_PCB},
                 {"MEMP_NUM_TCP_SEG", MEMP_NUM_TCP_SEG},
                 {"TCP_TMR_INTERVAL", TCP_TMR_INTERVAL}}},
#else
        {"TCP", nullptr},
#endif
        {"lwipopts", LWBENCH_LWIPOPTS_ORIGIN},
        {"source", LWBENCH_LWIP_SOURCE},
    };
}

hx::record base_record(const point& pt) {
    hx::record r;
    r.stack = k_stack;
    r.scenario = hx::to_string(pt.scenario);
    r.api = hx::to_string(pt.api);
#if LWIP_TCPIP_CORE_LOCKING
    r.threading_mode = "core_locking";
#else
    r.threading_mode = "message_passing";
#endif
    r.input_mode = LWIP_TCPIP_CORE_LOCKING_INPUT ? "inline" : "mailbox";
    // Debian's unix port: sys_mbox = ring + three sys_sems, each a pthread
    // mutex + condition variable (port/sys_arch.c); the fixed port: one mutex +
    // two condition variables, woken after unlocking (fixed_port/port_sync.c).
    r.mailbox_kind = "mutex_cv";
    // lock_tcpip_core is a sys_mutex = plain pthread mutex (port/sys_arch.c);
    // lwIP's other locks (SYS_ARCH_PROTECT, mem_mutex) are pthread mutexes too.
    r.lock_kind = "std_mutex";
    r.payload_bytes = pt.size;
    r.app_threads = pt.threads;
    r.pinning = pt.pinning;
    r.sched_policy = lwbench::to_string(g_sched);
    if (pt.variant != "zero_copy") r.variant = pt.variant;
    r.lwip_options = lwip_options_json(pt.variant);
    return r;
}

}  // namespace lwbench::lwip_runner
