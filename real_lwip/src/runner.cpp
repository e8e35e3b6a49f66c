// runner.cpp — measures real lwIP with lwbench's scenarios and prints records.
//
// Built twice from this one file: lwip_runner_locking (lwIP with
// LWIP_TCPIP_CORE_LOCKING=1 and LWIP_TCPIP_CORE_LOCKING_INPUT=1) and
// lwip_runner_msgpassing (both 0). Each links its own lwIP build, since both
// define the same symbols. The harness runs them and merges their records.
//
// Output contract: exactly one JSON object on stdout,
//   {"lwip_version": "2.1.3", "stack": "lwip-2.1.3", "source": "...", "records": [...]}
// with records in harness::to_json form (docs/results-schema.md); progress and
// errors go to stderr; exit 2 on bad flags, 1 on a failed run.
//
// The scene (set up once, in core context):
//   - the zero-copy pair zc0 = 10.0.0.1 / zc1 = 10.0.0.2 (zc_loopif.c) and lwIP's
//     own loop_netif 127.0.0.1 (variant stock_loopif);
//   - the sink: a raw udp pcb on port 9 whose recv callback counts the datagram
//     and frees it, so every API pays the same receive work;
//   - per scenario point, the application's socket / netconn / raw pcb.
// What each API's "send" is:
//   socket   lwip_sendto() of the payload buffer (lwIP references it, netbuf_ref);
//   netconn  netbuf_ref() on a reused netbuf + netconn_sendto();
//   raw      pbuf_alloc(PBUF_REF) over the payload + udp_sendto() + pbuf_free(),
//            under LOCK_TCPIP_CORE() in the locking build and inside
//            tcpip_api_call() in the message-passing build — there the figure
//            includes the hand-off to the tcpip thread and back (lwIP offers no
//            other way to be in core context from an application thread).
#include <lwip/api.h>
#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcpip_priv.h>
#include <lwip/sockets.h>
#include <lwip/sys.h>
#include <lwip/tcpip.h>
#include <lwip/udp.h>

#include "zc_loopif.h"

#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "lwbench/harness/perf_counters.hpp"
#include "lwbench/harness/record.hpp"
#include "lwbench/harness/timing.hpp"

#define LWBENCH_STR2(...) #__VA_ARGS__
#define LWBENCH_STR(...) LWBENCH_STR2(__VA_ARGS__)

#if LWIP_TCPIP_CORE_LOCKING
// The zero-copy netif delivers from the core-unlock hook; a port whose
// sys_arch.h redefines UNLOCK_TCPIP_CORE would bypass it and self-deadlock.
static_assert(std::string_view(LWBENCH_STR(UNLOCK_TCPIP_CORE())) == "lwbench_lwip_core_unlock()",
              "UNLOCK_TCPIP_CORE() is not lwbench's hook: the lwIP port redefines it");
#endif
static_assert(LWIP_TCPIP_CORE_LOCKING_INPUT == LWIP_TCPIP_CORE_LOCKING,
              "the runner measures CORE_LOCKING=CORE_LOCKING_INPUT=1 or both 0");

namespace {

namespace hx = lwbench::harness;
using json = nlohmann::json;

const std::string k_version = LWBENCH_STR(LWIP_VERSION_MAJOR) "." LWBENCH_STR(LWIP_VERSION_MINOR) "." LWBENCH_STR(
    LWIP_VERSION_REVISION);
const std::string k_stack = "lwip-" + k_version;
constexpr u16_t k_sink_port = 9;
constexpr u16_t k_ping_port = 7001;
constexpr u16_t k_pong_port = 7002;
constexpr int k_max_payload = 65507;

// ---------------------------------------------------------------------------
// Options

struct options {
    std::vector<std::string> scenarios{"send_latency"};
    std::vector<std::string> apis{"socket"};
    std::vector<int> sizes{1458};
    std::vector<int> threads{1};
    std::vector<std::string> pinnings{"none"};
    std::vector<std::string> variants{"zero_copy"};
    int repetitions = 5;
    long ops = 20000;
    long warmup = 2000;
    bool hw_counters = true;
    unsigned watchdog_s = 300;
};

struct point {
    std::string scenario, api, pinning, variant;
    int size = 0, threads = 1;
};

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "lwip_runner: error: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

extern "C" void on_watchdog(int) {
    constexpr char msg[] = "lwip_runner: error: watchdog fired: a scenario point made no progress (lost datagram?)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

// ---------------------------------------------------------------------------
// Core context helpers

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

// ---------------------------------------------------------------------------
// The sink and the round-trip raw endpoints (core context only)

// Written only in core context (serialised by the core lock or the tcpip
// thread); read from any thread. Plain load+store keeps the hot path free of
// locked instructions.
std::atomic<std::uint64_t> g_sink_received{0};

void sink_recv(void*, udp_pcb*, pbuf* p, const ip_addr_t*, u16_t) {
    g_sink_received.store(g_sink_received.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    pbuf_free(p);
}

// Raw round trip: A pings B; B's callback replies at once (core context); A's
// callback counts and signals the waiting application thread.
struct raw_rt_state {
    udp_pcb* a = nullptr;
    udp_pcb* b = nullptr;
    sys_sem_t reply{};
    std::uint8_t* pong = nullptr;
};
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

// ---------------------------------------------------------------------------
// Addresses per variant

struct addrs {
    ip_addr_t sink, ping, pong;  // where datagrams are sent to
};

addrs addrs_for(const std::string& variant) {
    addrs a{};
    if (variant == "stock_loopif") {
        IP_ADDR4(&a.sink, 127, 0, 0, 1);
        a.ping = a.pong = a.sink;
    } else {  // zero_copy: the sender is on zc0 (10.0.0.1), receivers on zc1 (10.0.0.2)
        IP_ADDR4(&a.sink, 10, 0, 0, 2);
        IP_ADDR4(&a.pong, 10, 0, 0, 2);
        IP_ADDR4(&a.ping, 10, 0, 0, 1);
    }
    return a;
}

sockaddr_in to_sockaddr(const ip_addr_t& ip, u16_t port) {
    sockaddr_in sa{};
    sa.sin_len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons(port);
    sa.sin_addr.s_addr = ip_2_ip4(&ip)->addr;
    return sa;
}

// ---------------------------------------------------------------------------
// Application endpoints: one sender of a given API

#if !LWIP_TCPIP_CORE_LOCKING
struct raw_send_call {
    tcpip_api_call_data base;  // first member: lwIP passes &base back
    udp_pcb* pcb;
    const ip_addr_t* dst;
    u16_t port;
    void* payload;
    u16_t len;
};

err_t raw_send_in_core(tcpip_api_call_data* call) {
    auto* c = reinterpret_cast<raw_send_call*>(call);
    pbuf* p = pbuf_alloc(PBUF_TRANSPORT, c->len, PBUF_REF);
    if (p == nullptr) return ERR_MEM;
    p->payload = c->payload;
    const err_t err = udp_sendto(c->pcb, p, c->dst, c->port);
    pbuf_free(p);
    return err;
}
#endif

/// Raw send of `len` bytes at `payload` from `pcb`, from an application thread.
bool raw_send(udp_pcb* pcb, const ip_addr_t* dst, u16_t port, void* payload, u16_t len) {
#if LWIP_TCPIP_CORE_LOCKING
    LOCK_TCPIP_CORE();
    pbuf* p = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_REF);
    err_t err = ERR_MEM;
    if (p != nullptr) {
        p->payload = payload;
        err = udp_sendto(pcb, p, dst, port);
        pbuf_free(p);
    }
    UNLOCK_TCPIP_CORE();
    return err == ERR_OK;
#else
    raw_send_call call{};
    call.pcb = pcb;
    call.dst = dst;
    call.port = port;
    call.payload = payload;
    call.len = len;
    return tcpip_api_call(raw_send_in_core, &call.base) == ERR_OK;
#endif
}

class sender {
public:
    sender(std::string api, const ip_addr_t& dst, u16_t port, std::uint8_t* payload, int size)
        : _api(std::move(api)), _dst(dst), _port(port), _payload(payload), _size(size) {
        if (_api == "socket") {
            _sock = lwip_socket(AF_INET, SOCK_DGRAM, 0);
            if (_sock < 0) fail("lwip_socket failed");
            _sa = to_sockaddr(dst, port);
        } else if (_api == "netconn") {
            _conn = netconn_new(NETCONN_UDP);
            _buf = netbuf_new();
            if (_conn == nullptr || _buf == nullptr) fail("netconn_new/netbuf_new failed");
        } else {
            in_core([this] { _pcb = udp_new(); });
            if (_pcb == nullptr) fail("udp_new failed");
        }
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender() {
        if (_sock >= 0) lwip_close(_sock);
        if (_buf != nullptr) netbuf_delete(_buf);
        if (_conn != nullptr) netconn_delete(_conn);
        if (_pcb != nullptr) in_core([this] { udp_remove(_pcb); });
    }

    /// One datagram; false on error. Any application thread (one at a time).
    bool send() {
        const bool ok = send_one();
        _sent += ok ? 1 : 0;
        return ok;
    }
    /// Datagrams sent successfully so far.
    [[nodiscard]] std::uint64_t sent() const { return _sent; }

private:
    bool send_one() {
        if (_sock >= 0) {
            return lwip_sendto(_sock, _payload, static_cast<size_t>(_size), 0, reinterpret_cast<sockaddr*>(&_sa),
                               sizeof _sa) == _size;
        }
        if (_conn != nullptr) {
            return netbuf_ref(_buf, _payload, static_cast<u16_t>(_size)) == ERR_OK &&
                   netconn_sendto(_conn, _buf, &_dst, _port) == ERR_OK;
        }
        return raw_send(_pcb, &_dst, _port, _payload, static_cast<u16_t>(_size));
    }

    std::string _api;
    ip_addr_t _dst;
    u16_t _port;
    std::uint8_t* _payload;
    int _size;
    int _sock = -1;
    sockaddr_in _sa{};
    netconn* _conn = nullptr;
    netbuf* _buf = nullptr;
    udp_pcb* _pcb = nullptr;
    std::uint64_t _sent = 0;
};

// ---------------------------------------------------------------------------
// Pinning

int app_cpu(const std::string& pinning, int index) {
    if (pinning == "same_core") return 0;
    if (pinning == "separate_cores") return 1 + index % std::max(1, hx::online_cpus() - 1);
    return -1;
}

int tcpip_cpu(const std::string& pinning) { return pinning == "none" ? -1 : 0; }

void pin_or_fail(int cpu) {
    if (!hx::pin_current_thread(cpu)) fail("cannot pin a thread to CPU " + std::to_string(cpu));
}

void pin_tcpip_thread(int cpu) {
    bool ok = true;
    on_tcpip_thread([&] { ok = hx::pin_current_thread(cpu); });
    if (!ok) fail("cannot pin the tcpip thread to CPU " + std::to_string(cpu));
}

// ---------------------------------------------------------------------------
// Measurement helpers

/// Waits until the sink has seen `expected` datagrams, or its count stops
/// moving for 200 ms (loss). Returns the count.
std::uint64_t wait_sink(std::uint64_t expected) {
    auto last = g_sink_received.load();
    auto since = std::chrono::steady_clock::now();
    for (;;) {
        const auto now_count = g_sink_received.load();
        if (now_count >= expected) return now_count;
        if (now_count != last) {
            last = now_count;
            since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - since > std::chrono::milliseconds(200)) {
            return now_count;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

/// The timed loop of one thread without perf counters (the caller owns them):
/// same batching and per-op samples as harness::time_repetition.
template <class Op>
void timed_loop(long ops, int ops_per_sample, Op&& op, std::vector<double>& samples, long& errors) {
    samples.reserve(samples.size() + static_cast<std::size_t>(ops / ops_per_sample + 1));
    long done = 0;
    while (done < ops) {
        const long batch = std::min<long>(ops_per_sample, ops - done);
        const auto t0 = hx::now_ns();
        for (long i = 0; i < batch; ++i) errors += op() ? 0 : 1;
        const auto t1 = hx::now_ns();
        samples.push_back(static_cast<double>(t1 - t0) / static_cast<double>(batch));
        done += batch;
    }
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
        {"CHECKSUM", checksum},
        {"SYS_LIGHTWEIGHT_PROT", SYS_LIGHTWEIGHT_PROT},
        {"MEM_LIBC_MALLOC", MEM_LIBC_MALLOC},
        {"MEMP_MEM_MALLOC", MEMP_MEM_MALLOC},
        {"LWIP_NETIF_TX_SINGLE_PBUF", LWIP_NETIF_TX_SINGLE_PBUF},
        {"LWIP_SOCKET_SELECT", LWIP_SOCKET_SELECT},
        {"LWIP_SOCKET_POLL", LWIP_SOCKET_POLL},
        {"LWIP_STATS", LWIP_STATS},
        {"lwipopts", LWBENCH_LWIPOPTS_ORIGIN},
        {"source", LWBENCH_LWIP_SOURCE},
    };
}

hx::record base_record(const point& pt) {
    hx::record r;
    r.stack = k_stack;
    r.scenario = pt.scenario;
    r.api = pt.api;
#if LWIP_TCPIP_CORE_LOCKING
    r.threading_mode = "core_locking";
#else
    r.threading_mode = "message_passing";
#endif
    r.input_mode = LWIP_TCPIP_CORE_LOCKING_INPUT ? "inline" : "mailbox";
    // Debian's unix port: sys_mbox = ring + three sys_sems, each a pthread
    // mutex + condition variable (port/sys_arch.c).
    r.mailbox_kind = "mutex_cv";
    // lock_tcpip_core is a sys_mutex = plain pthread mutex (port/sys_arch.c);
    // lwIP's other locks (SYS_ARCH_PROTECT, mem_mutex) are pthread mutexes too.
    r.lock_kind = "std_mutex";
    r.payload_bytes = pt.size;
    r.app_threads = pt.threads;
    r.pinning = pt.pinning;
    if (pt.variant != "zero_copy") r.variant = pt.variant;
    r.lwip_options = lwip_options_json(pt.variant);
    return r;
}

// ---------------------------------------------------------------------------
// Scenarios

struct scenario_result {
    hx::record rec;
    std::uint64_t sent = 0, received = 0;
};

void fill_counts(scenario_result& res, const std::vector<std::uint64_t>& received_by_rep,
                 const std::vector<long>& sent_by_rep) {
    hx::stack_counts c;
    for (std::size_t i = 0; i < sent_by_rep.size(); ++i) {
        c.sent += static_cast<std::uint64_t>(sent_by_rep[i]);
        c.received += received_by_rep[i];
    }
    c.dropped = c.sent > c.received ? c.sent - c.received : 0;
    if (c.dropped != 0) c.dropped_by_reason["not_received_by_sink"] = c.dropped;
    res.rec.counts = c;
    res.sent = c.sent;
    res.received = c.received;
}

class runner {
public:
    explicit runner(options opt) : _opt(std::move(opt)) {
        _payload.assign(k_max_payload, 0);
        _pong.assign(k_max_payload, 0);
        for (std::size_t i = 0; i < _payload.size(); ++i) _payload[i] = static_cast<std::uint8_t>(i * 131u + 7u);
        _pong = _payload;
    }

    void start_lwip() {
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
        g_raw_rt.pong = _pong.data();
    }

    hx::record run(const point& pt) {
        if (pt.pinning == "separate_cores" && hx::online_cpus() < 2)
            fail("pinning separate_cores needs at least 2 online CPUs");
        pin_tcpip_thread(tcpip_cpu(pt.pinning));
        pin_or_fail(app_cpu(pt.pinning, 0));
        scenario_result res;
        res.rec = base_record(pt);
        if (pt.scenario == "send_latency") {
            send_latency(pt, res);
        } else if (pt.scenario == "round_trip") {
            round_trip(pt, res);
        } else {
            throughput(pt, res);
        }
        pin_or_fail(-1);
        return res.rec;
    }

private:
    void arm_watchdog() const { alarm(_opt.watchdog_s); }

    void send_latency(const point& pt, scenario_result& res) {
        const addrs a = addrs_for(pt.variant);
        sender s(pt.api, a.sink, k_sink_port, _payload.data(), pt.size);
        auto op = [&] { return s.send(); };
        arm_watchdog();
        const unsigned long zc_before = lwbench_zc_loopif_outputs();
        const std::uint64_t start = g_sink_received.load();
        for (long i = 0; i < _opt.warmup; ++i) op();
        const double probe = hx::probe_op_ns(op);
        const int per_sample = hx::choose_ops_per_sample(probe);
        wait_sink(start + s.sent());  // let the warm-up drain (message passing queues it)
        hx::accumulator acc;
        std::vector<std::uint64_t> received;
        std::vector<long> sent;
        for (int r = 0; r < _opt.repetitions; ++r) {
            arm_watchdog();
            const std::uint64_t before = g_sink_received.load();
            hx::repetition rep = hx::time_repetition(_opt.ops, per_sample, _opt.hw_counters, op);
            const std::uint64_t after = wait_sink(before + static_cast<std::uint64_t>(_opt.ops - rep.errors));
            sent.push_back(rep.ops - rep.errors);
            received.push_back(after - before);
            acc.add(std::move(rep));
        }
        alarm(0);
        check_path(pt.variant, zc_before, s.sent());
        acc.finish(res.rec, pt.size);
        fill_counts(res, received, sent);
    }

    /// A round trip's moving parts: the timed op (one ping and its pong), the
    /// ponger thread (socket/netconn) and how to stop and tear everything down.
    struct rt_endpoints {
        std::function<bool()> op;
        std::function<void()> teardown;
        std::atomic<bool> stop{false};
        std::thread ponger;
        std::vector<std::uint8_t> rbuf = std::vector<std::uint8_t>(k_max_payload);
    };

    /// Socket ping-pong: A (port 7001) sends to B (7002) and waits for the echo;
    /// the ponger thread receives on B and replies to the sender's address.
    void rt_socket(const addrs& a, const point& pt, rt_endpoints& rt) {
        const int size = pt.size;
        const int sa = lwip_socket(AF_INET, SOCK_DGRAM, 0);
        const int sb = lwip_socket(AF_INET, SOCK_DGRAM, 0);
        if (sa < 0 || sb < 0) fail("lwip_socket failed");
        sockaddr_in any_a = to_sockaddr(*IP4_ADDR_ANY, k_ping_port);
        sockaddr_in any_b = to_sockaddr(*IP4_ADDR_ANY, k_pong_port);
        if (lwip_bind(sa, reinterpret_cast<sockaddr*>(&any_a), sizeof any_a) != 0 ||
            lwip_bind(sb, reinterpret_cast<sockaddr*>(&any_b), sizeof any_b) != 0)
            fail("lwip_bind failed");
        auto to_b = std::make_shared<sockaddr_in>(to_sockaddr(a.pong, k_pong_port));
        rt.ponger = std::thread([sb, &rt, pinning = pt.pinning, this] {
            pin_or_fail(app_cpu(pinning, 1));
            std::vector<std::uint8_t> buf(k_max_payload);
            for (;;) {
                sockaddr_in from{};
                socklen_t fl = sizeof from;
                const ssize_t n = lwip_recvfrom(sb, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
                if (rt.stop.load()) break;
                if (n < 0) continue;
                lwip_sendto(sb, _pong.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
            }
            lwip_socket_thread_cleanup();
        });
        rt.op = [sa, to_b, size, &rt, this] {
            if (lwip_sendto(sa, _payload.data(), static_cast<size_t>(size), 0, reinterpret_cast<sockaddr*>(to_b.get()),
                            sizeof(sockaddr_in)) != size)
                return false;
            return lwip_recv(sa, rt.rbuf.data(), rt.rbuf.size(), 0) == size;
        };
        rt.teardown = [sa, sb, to_b, &rt, this] {
            rt.stop.store(true);
            lwip_sendto(sa, _payload.data(), 1, 0, reinterpret_cast<sockaddr*>(to_b.get()), sizeof(sockaddr_in));
            rt.ponger.join();
            lwip_close(sa);
            lwip_close(sb);
        };
    }

    /// Netconn ping-pong, same shape as rt_socket (netbuf_ref on send, netbuf per receive).
    void rt_netconn(const addrs& a, const point& pt, rt_endpoints& rt) {
        const int size = pt.size;
        netconn* ca = netconn_new(NETCONN_UDP);
        netconn* cb = netconn_new(NETCONN_UDP);
        netbuf* out = netbuf_new();
        if (ca == nullptr || cb == nullptr || out == nullptr) fail("netconn_new failed");
        if (netconn_bind(ca, IP4_ADDR_ANY, k_ping_port) != ERR_OK || netconn_bind(cb, IP4_ADDR_ANY, k_pong_port) != ERR_OK)
            fail("netconn_bind failed");
        const ip_addr_t to_b = a.pong;
        rt.ponger = std::thread([cb, &rt, pinning = pt.pinning, this] {
            pin_or_fail(app_cpu(pinning, 1));
            netbuf* reply = netbuf_new();
            for (;;) {
                netbuf* in = nullptr;
                const err_t err = netconn_recv(cb, &in);
                if (rt.stop.load()) {
                    if (in != nullptr) netbuf_delete(in);
                    break;
                }
                if (err != ERR_OK) continue;
                const ip_addr_t from = *netbuf_fromaddr(in);
                const u16_t port = netbuf_fromport(in);
                const u16_t len = netbuf_len(in);
                netbuf_delete(in);
                netbuf_ref(reply, _pong.data(), len);
                netconn_sendto(cb, reply, &from, port);
            }
            netbuf_delete(reply);
            netconn_thread_cleanup();
        });
        rt.op = [ca, out, to_b, size, this] {
            if (netbuf_ref(out, _payload.data(), static_cast<u16_t>(size)) != ERR_OK ||
                netconn_sendto(ca, out, &to_b, k_pong_port) != ERR_OK)
                return false;
            netbuf* in = nullptr;
            if (netconn_recv(ca, &in) != ERR_OK) return false;
            const bool ok = netbuf_len(in) == size;
            netbuf_delete(in);
            return ok;
        };
        rt.teardown = [ca, cb, out, to_b, &rt, this] {
            rt.stop.store(true);
            netbuf_ref(out, _payload.data(), 1);
            netconn_sendto(ca, out, &to_b, k_pong_port);
            rt.ponger.join();
            netbuf_delete(out);
            netconn_delete(ca);
            netconn_delete(cb);
        };
    }

    /// Raw round trip: one application thread sends from pcb A; B's receive
    /// callback echoes at once in core context; A's callback signals the
    /// application thread (in the locking build all of it runs inline on that
    /// thread, during its UNLOCK_TCPIP_CORE()).
    void rt_raw(const addrs& a, const point& pt, rt_endpoints& rt) {
        const int size = pt.size;
        in_core([] {
            g_raw_rt.a = udp_new();
            g_raw_rt.b = udp_new();
            if (g_raw_rt.a == nullptr || g_raw_rt.b == nullptr) return;
            udp_bind(g_raw_rt.a, IP4_ADDR_ANY, k_ping_port);
            udp_bind(g_raw_rt.b, IP4_ADDR_ANY, k_pong_port);
            udp_recv(g_raw_rt.a, raw_rt_a_recv, nullptr);
            udp_recv(g_raw_rt.b, raw_rt_b_recv, nullptr);
        });
        if (g_raw_rt.a == nullptr || g_raw_rt.b == nullptr) fail("udp_new failed");
        const ip_addr_t to_b = a.pong;
        rt.op = [to_b, size, this] {
            if (!raw_send(g_raw_rt.a, &to_b, k_pong_port, _payload.data(), static_cast<u16_t>(size))) return false;
            sys_arch_sem_wait(&g_raw_rt.reply, 0);
            return true;
        };
        rt.teardown = [] {
            in_core([] {
                udp_remove(g_raw_rt.a);
                udp_remove(g_raw_rt.b);
                g_raw_rt.a = g_raw_rt.b = nullptr;
            });
        };
    }

    void round_trip(const point& pt, scenario_result& res) {
        const addrs a = addrs_for(pt.variant);
        rt_endpoints rt;
        if (pt.api == "socket") {
            rt_socket(a, pt, rt);
        } else if (pt.api == "netconn") {
            rt_netconn(a, pt, rt);
        } else {
            rt_raw(a, pt, rt);
        }
        auto& op = rt.op;
        arm_watchdog();
        const unsigned long zc_before = lwbench_zc_loopif_outputs();
        for (long i = 0; i < _opt.warmup; ++i) op();
        const int per_sample = hx::choose_ops_per_sample(hx::probe_op_ns(op, 50));
        hx::accumulator acc;
        for (int r = 0; r < _opt.repetitions; ++r) {
            arm_watchdog();
            acc.add(hx::time_repetition(_opt.ops, per_sample, _opt.hw_counters, op));
        }
        alarm(0);
        rt.teardown();
        check_path(pt.variant, zc_before, 2u * static_cast<std::uint64_t>(_opt.ops) * static_cast<std::uint64_t>(_opt.repetitions));
        // One op = one datagram each way; bytes/s counts the payload once per op.
        acc.finish(res.rec, pt.size);
    }

    void throughput(const point& pt, scenario_result& res) {
        const addrs a = addrs_for(pt.variant);
        const int n = pt.threads;
        std::vector<std::unique_ptr<sender>> senders;
        for (int i = 0; i < n; ++i)
            senders.push_back(std::make_unique<sender>(pt.api, a.sink, k_sink_port, _payload.data(), pt.size));
        arm_watchdog();
        const unsigned long zc_before = lwbench_zc_loopif_outputs();
        // Warm-up (main thread, first sender) and batching choice from one sender.
        const std::uint64_t start = g_sink_received.load();
        for (long i = 0; i < _opt.warmup; ++i) senders[0]->send();
        const int per_sample = hx::choose_ops_per_sample(hx::probe_op_ns([&] { return senders[0]->send(); }));
        wait_sink(start + senders[0]->sent());

        hx::accumulator acc;
        std::vector<std::uint64_t> received;
        std::vector<long> sent;
        for (int r = 0; r < _opt.repetitions; ++r) {
            arm_watchdog();
            std::vector<std::vector<double>> samples(static_cast<std::size_t>(n));
            std::vector<long> errors(static_cast<std::size_t>(n), 0);
            std::latch ready(n);
            std::latch go(1);
            std::vector<std::thread> workers;
            for (int i = 0; i < n; ++i) {
                workers.emplace_back([&, i] {
                    pin_or_fail(app_cpu(pt.pinning, i));
                    sender& s = *senders[static_cast<std::size_t>(i)];
                    ready.count_down();
                    go.wait();
                    timed_loop(_opt.ops, per_sample, [&] { return s.send(); }, samples[static_cast<std::size_t>(i)],
                               errors[static_cast<std::size_t>(i)]);
                    lwip_socket_thread_cleanup();
                });
            }
            ready.wait();
            const std::uint64_t before = g_sink_received.load();
            hx::perf_counters counters(_opt.hw_counters);  // after the workers exist: counts them too
            counters.start();
            const auto t0 = hx::now_ns();
            go.count_down();
            for (auto& w : workers) w.join();
            const auto t1 = hx::now_ns();
            counters.stop();
            hx::repetition rep;
            rep.ops = _opt.ops * n;
            rep.wall_ns = static_cast<double>(t1 - t0);
            rep.counters = counters.read();
            for (int i = 0; i < n; ++i) {
                auto& s = samples[static_cast<std::size_t>(i)];
                rep.samples_ns.insert(rep.samples_ns.end(), s.begin(), s.end());
                rep.errors += errors[static_cast<std::size_t>(i)];
            }
            const std::uint64_t after = wait_sink(before + static_cast<std::uint64_t>(rep.ops - rep.errors));
            sent.push_back(rep.ops - rep.errors);
            received.push_back(after - before);
            acc.add(std::move(rep));
        }
        alarm(0);
        std::uint64_t all_sent = 0;
        for (const auto& sp : senders) all_sent += sp->sent();
        check_path(pt.variant, zc_before, all_sent);
        acc.finish(res.rec, pt.size);
        fill_counts(res, received, sent);
    }

    options _opt;
    std::vector<std::uint8_t> _payload;
    std::vector<std::uint8_t> _pong;
};

// ---------------------------------------------------------------------------
// CLI

template <class T>
bool all_in(const std::vector<T>& values, const std::vector<T>& allowed) {
    return std::all_of(values.begin(), values.end(),
                       [&](const T& v) { return std::find(allowed.begin(), allowed.end(), v) != allowed.end(); });
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    CLI::App app{"Measures real lwIP " + k_version + " (" +
                 (LWIP_TCPIP_CORE_LOCKING ? std::string("core locking") : std::string("message passing")) +
                 ") with lwbench's scenarios; prints one JSON object on stdout."};
    app.add_option("--scenario", opt.scenarios, "send_latency | round_trip | throughput (comma list)")->delimiter(',');
    app.add_option("--api", opt.apis, "socket | netconn | raw (comma list)")->delimiter(',');
    app.add_option("--size", opt.sizes, "UDP payload bytes (comma list)")->delimiter(',');
    app.add_option("--threads", opt.threads, "sender threads, throughput only (comma list)")->delimiter(',');
    app.add_option("--pinning", opt.pinnings, "none | same_core | separate_cores (comma list)")->delimiter(',');
    app.add_option("--variant", opt.variants, "zero_copy | stock_loopif (comma list)")->delimiter(',');
    app.add_option("--repetitions", opt.repetitions, "timed repetitions per point")->check(CLI::Range(1, 1000));
    app.add_option("--ops", opt.ops, "operations per repetition (per thread for throughput)")
        ->check(CLI::Range(1L, 100000000L));
    app.add_option("--warmup", opt.warmup, "untimed operations before the first repetition")
        ->check(CLI::Range(0L, 100000000L));
    app.add_flag("!--no-hw-counters", opt.hw_counters, "do not open hardware perf counters");
    app.add_option("--watchdog", opt.watchdog_s, "seconds one repetition may take before the run aborts")
        ->check(CLI::Range(1u, 86400u));
    try {
        app.parse(argc, argv);
        if (!all_in(opt.scenarios, {"send_latency", "round_trip", "throughput"}))
            throw CLI::ValidationError("--scenario", "must be send_latency, round_trip or throughput");
        if (!all_in(opt.apis, {"socket", "netconn", "raw"}))
            throw CLI::ValidationError("--api", "must be socket, netconn or raw");
        if (!all_in(opt.pinnings, {"none", "same_core", "separate_cores"}))
            throw CLI::ValidationError("--pinning", "must be none, same_core or separate_cores");
        if (!all_in(opt.variants, {"zero_copy", "stock_loopif"}))
            throw CLI::ValidationError("--variant", "must be zero_copy or stock_loopif");
        for (int s : opt.sizes)
            if (s < 1 || s > k_max_payload)
                throw CLI::ValidationError("--size", "must be 1.." + std::to_string(k_max_payload));
        for (int t : opt.threads)
            if (t < 1 || t > 64) throw CLI::ValidationError("--threads", "must be 1..64");
        // --threads applies to throughput only; other scenarios always run one
        // application thread (round_trip: plus the ponger).
        const bool has_throughput = std::any_of(opt.scenarios.begin(), opt.scenarios.end(),
                                                [](const std::string& s) { return s == "throughput"; });
        if (!has_throughput && std::any_of(opt.threads.begin(), opt.threads.end(), [](int t) { return t != 1; }))
            throw CLI::ValidationError("--threads", "only throughput takes more than one sender thread");
    } catch (const CLI::Success&) {
        std::printf("%s", app.help().c_str());
        return 0;
    } catch (const CLI::Error& e) {
        std::fprintf(stderr, "lwip_runner: %s\n(see --help)\n", e.what());
        return 2;
    }

    std::signal(SIGALRM, on_watchdog);
    runner run(opt);
    run.start_lwip();

    json records = json::array();
    for (const auto& scenario : opt.scenarios)
        for (const auto& variant : opt.variants)
            for (const auto& api : opt.apis)
                for (const auto& pinning : opt.pinnings)
                    for (int size : opt.sizes)
                        for (int threads : (scenario == "throughput" ? opt.threads : std::vector<int>{1})) {
                            point pt{scenario, api, pinning, variant, size, threads};
                            const hx::record rec = run.run(pt);
                            std::fprintf(stderr, "lwip_runner: %s %s: p50 %.0f ns, %.2f context switches/op, %ld errors\n",
                                         k_stack.c_str(), rec.label().c_str(), rec.latency.p50,
                                         rec.counters.count("context_switches") &&
                                                 rec.counters.at("context_switches").per_op
                                             ? *rec.counters.at("context_switches").per_op
                                             : -1.0,
                                         rec.errors);
                            json j = hx::to_json(rec);
                            // The runner does not measure lwIP's copies/allocations per op
                            // (lwbench's lwipopts has LWIP_STATS=0): those three fields are
                            // null and the reason is given here; sent/received/dropped are
                            // the sink's own count. (record_from_json ignores the extra key.)
                            if (j.contains("stack_counts") && j["stack_counts"].is_object())
                                j["stack_counts"]["per_op_status"] =
                                    "not available: payload_copies_per_op, heap_allocs_per_op and pool_allocs_per_op "
                                    "are not measured for real lwIP (only sent/received/dropped, by the sink)";
                            records.push_back(std::move(j));
                        }

    const json out = {{"lwip_version", k_version},
                      {"stack", k_stack},
                      {"source", LWBENCH_LWIP_SOURCE},
                      {"records", records}};
    const std::string text = out.dump();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    // The tcpip thread never returns; leave without running static destructors
    // under its feet.
    std::_Exit(0);
}
