// scenarios.cpp — the testbeds and timed loops behind every scenario kind, and the
// interleaving runner (see scenario.hpp).
//
// Every scenario sends through the zero-copy loopback to 127.0.0.1. Send-latency
// datagrams go to a raw "sink" pcb that counts and frees them in core context, so
// the receive work is the same for every API and only the send path differs (the
// seed measured a send onto a wire). Work is verified: a repetition whose datagrams
// did not all arrive (or were not all counted as drops) is reported in `errors`.
#include "lwbench/harness/scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>

#include "lwbench/detail/core_lock.hpp"
#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/harness/testbed.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/udp.hpp"
#include "lwbench/wire/udp.hpp"

namespace lwbench::harness {

// ---- names and catalog --------------------------------------------------------------

const char* to_string(pinning p) noexcept {
    switch (p) {
        case pinning::none: return "none";
        case pinning::same_core: return "same_core";
        case pinning::separate_cores: return "separate_cores";
    }
    return "unknown";
}

std::optional<pinning> parse_pinning(std::string_view s) noexcept {
    for (auto p : {pinning::none, pinning::same_core, pinning::separate_cores})
        if (s == to_string(p)) return p;
    return std::nullopt;
}

const std::vector<std::string>& primitive_names() {
    static const std::vector<std::string> n = {"lock_unlock", "mailbox_handoff", "semaphore_wake", "thread_pingpong",
                                               "memcpy",      "checksum",        "udp_emit_floor"};
    return n;
}

const std::vector<std::string>& api_names() {
    static const std::vector<std::string> n = {"raw", "netconn", "socket"};
    return n;
}

const std::vector<scenario_info>& scenario_catalog() {
    static const std::vector<std::string> common = {"--api", "--mode", "--input-mode", "--mailbox", "--lock",
                                                    "--size", "--pinning"};
    static const std::vector<scenario_info> c = {
        {"send_latency", "time for one send call to return; datagrams go to a counting raw sink (same receive work for every API)", common},
        {"recv_latency", "time for one receive call when a datagram is already waiting (netconn, socket)", common},
        {"delivery_latency", "from the start of the send call to the receiving thread holding the data", common},
        {"round_trip", "ping-pong between two threads through the stack (echo thread or raw echo callback)", common},
        {"throughput", "datagrams/s and bytes/s with 1..N sender threads and one receiver; loss counted",
         {"--api", "--mode", "--input-mode", "--mailbox", "--lock", "--size", "--threads", "--pinning"}},
        {"primitive", "the floor: lock_unlock (per --lock), mailbox_handoff (empty API message, per --mailbox), "
                      "semaphore_wake (futex ping-pong), thread_pingpong (atomic spin ping-pong), memcpy, checksum, "
                      "udp_emit_floor (IPv4+UDP header writes + send and verify checksums)",
         {"--primitive", "--mailbox", "--lock", "--size", "--pinning"}},
    };
    return c;
}

std::string point::label() const {
    std::string s = scenario + "/";
    s += scenario == "primitive" ? primitive : api;
    s += std::string("/") + lwbench::to_string(cfg.mode) + "/in=" + lwbench::to_string(cfg.input) + "/" +
         lwbench::to_string(cfg.mailbox) + "/" + lwbench::to_string(cfg.lock) + "/" + std::to_string(payload) + "B/t" +
         std::to_string(threads) + "/" + to_string(pin);
    return s;
}

std::optional<std::string> validate(const point& p) {
    const auto& cat = scenario_catalog();
    if (std::none_of(cat.begin(), cat.end(), [&](const auto& i) { return i.name == p.scenario; }))
        return "unknown scenario '" + p.scenario + "' (see `lwbench list`)";
    if (p.scenario == "primitive") {
        const auto& prims = primitive_names();
        if (std::find(prims.begin(), prims.end(), p.primitive) == prims.end())
            return "unknown primitive '" + p.primitive + "'";
    } else {
        const auto& apis = api_names();
        if (std::find(apis.begin(), apis.end(), p.api) == apis.end())
            return "unknown API '" + p.api + "' (raw, netconn, socket)";
        if (p.scenario == "recv_latency" && p.api == "raw")
            return "recv_latency has no raw variant (the raw API receives by callback; use delivery_latency)";
        const std::size_t max_payload = 1500 - k_ip4_hlen - k_udp_hlen;
        if (p.payload > max_payload)
            return "payload " + std::to_string(p.payload) + " B does not fit the loopback MTU of 1500 (max " +
                   std::to_string(max_payload) + " B; the stack does not fragment)";
    }
    if (p.payload < 8 && (p.scenario == "delivery_latency" || p.scenario == "round_trip"))
        return "delivery_latency and round_trip need a payload of at least 8 bytes";
    if (p.threads < 1) return "threads must be at least 1";
    if (p.threads > 64) return "threads must be at most 64";
    if (p.threads > 1 && p.scenario != "throughput") return "--threads > 1 only applies to the throughput scenario";
    const int ncpu = online_cpus();
    if (p.pin == pinning::separate_cores && ncpu < 2)
        return "pinning separate_cores needs at least 2 CPUs (this machine has " + std::to_string(ncpu) + ")";
    return std::nullopt;
}

namespace {

using clk = std::chrono::steady_clock;
const ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);
constexpr std::uint16_t k_tx_port = 7001;

void check_cancel(const run_options& o) {
    if (o.cancel && o.cancel->load(std::memory_order_relaxed)) throw cancelled();
}

/// A bounded wait for a condition (never a sleep as synchronisation): spins with
/// yields until `ready()` or the deadline; false on time-out.
template <class F>
bool wait_for(F&& ready, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = clk::now() + limit;
    while (!ready()) {
        if (clk::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

/// CPU plan for a pinning: where the tcpip thread and each application thread go.
struct cpu_plan {
    int tcpip = -1;
    int app(int i) const {
        if (pin == pinning::none) return -1;
        if (pin == pinning::same_core) return 0;
        return ncpu > 1 ? 1 + (i % (ncpu - 1)) : 0;
    }
    pinning pin = pinning::none;
    int ncpu = 1;
};
cpu_plan make_plan(pinning p) {
    cpu_plan c;
    c.pin = p;
    c.ncpu = online_cpus();
    c.tcpip = p == pinning::none ? -1 : 0;
    return c;
}

/// Pins the calling thread for the scope, restores "any CPU" afterwards.
struct scoped_pin {
    explicit scoped_pin(int cpu) : active(cpu >= 0) {
        if (active) pin_current_thread(cpu);
    }
    ~scoped_pin() {
        if (active) pin_current_thread(-1);
    }
    bool active;
};

struct counts_snapshot {
    std::uint64_t copies, heap, pool, ref, dropped;
    static counts_snapshot of(const stack& s) {
        const auto& st = s.st();
        return {st.payload_copies.get(), st.heap_alloc.get(), st.pool_alloc.get(), st.ref_alloc.get(),
                st.dropped_total()};
    }
};

// ---- the testbed (shared with bench/: lwbench/harness/testbed.hpp) -------------------

using bench::endpoint;
using bench::k_rx_port;
using bench::k_sink_port;
using bench::testbed;

/// The point's stack configuration, with pools deep enough for the scenarios.
stack_config testbed_config(const point& p, int tcpip_cpu) {
    stack_config c = p.cfg;
    c.tcpip_cpu = tcpip_cpu;
    c.pbuf_pool_size = std::max<std::size_t>(c.pbuf_pool_size, 2048);
    c.recv_queue_depth = std::max<std::size_t>(c.recv_queue_depth, 1024);
    return c;
}

/// Fills the stack-count fields of a record from snapshots around the timed work.
void add_counts(stack_counts& c, const counts_snapshot& a, const counts_snapshot& b, double ops,
                std::uint64_t sent, std::uint64_t received) {
    c.payload_copies_per_op = c.payload_copies_per_op.value_or(0) + static_cast<double>(b.copies - a.copies) / ops;
    c.heap_allocs_per_op = c.heap_allocs_per_op.value_or(0) + static_cast<double>(b.heap - a.heap) / ops;
    c.pool_allocs_per_op =
        c.pool_allocs_per_op.value_or(0) + static_cast<double>((b.pool - a.pool) + (b.ref - a.ref)) / ops;
    c.sent += sent;
    c.received += received;
    c.dropped += b.dropped - a.dropped;
}

// ---- one repetition of each kind ---------------------------------------------------

struct rep_out {
    repetition rep;
    std::optional<stack_counts> counts;
    std::map<std::string, std::uint64_t> drops;
};

rep_out rep_send_latency(const point& p, const run_options& o) {
    const cpu_plan plan = make_plan(p.pin);
    testbed tb(testbed_config(p, plan.tcpip));
    scoped_pin pin(plan.app(0));
    endpoint ep(tb, bench::parse_api(p.api), p.payload);
    for (long i = 0; i < o.warmup; ++i) ep.send(k_sink_port);
    wait_for([&] { return tb.sunk.load() >= static_cast<std::uint64_t>(o.warmup); });
    const auto sunk0 = tb.sunk.load();
    const int per_sample = choose_ops_per_sample(probe_op_ns([&] { return ep.send(k_sink_port); }, 100));
    // Let the probe's datagrams arrive (mailbox input delivers later) before counting.
    wait_for([&] { return tb.sunk.load() >= sunk0 + 100; });
    const auto sunk1 = tb.sunk.load();
    const auto c1 = counts_snapshot::of(tb.s);
    rep_out out;
    out.rep = time_repetition(o.ops, per_sample, o.hardware_counters, [&] { return ep.send(k_sink_port); });
    const auto target = sunk1 + static_cast<std::uint64_t>(o.ops - out.rep.errors);
    const auto dropped_ok = [&] { return tb.sunk.load() + (tb.s.st().dropped_total() - c1.dropped) >= target; };
    if (!wait_for(dropped_ok)) out.rep.errors += 1;
    const auto c2 = counts_snapshot::of(tb.s);
    stack_counts sc;
    add_counts(sc, c1, c2, static_cast<double>(o.ops), static_cast<std::uint64_t>(o.ops - out.rep.errors),
               tb.sunk.load() - sunk1);
    out.counts = sc;
    for (const auto& [n, v] : tb.s.st().drops_by_name()) out.drops[n] = v;
    return out;
}

rep_out rep_recv_latency(const point& p, const run_options& o) {
    const cpu_plan plan = make_plan(p.pin);
    testbed tb(testbed_config(p, plan.tcpip));
    scoped_pin pin(plan.app(0));
    endpoint rx(tb, bench::parse_api(p.api), p.payload, k_rx_port);
    endpoint tx(tb, bench::api_kind::raw, p.payload);
    constexpr long batch = 512;  // below the receive queue depth: nothing is dropped
    const auto fill = [&](long n) {
        for (long i = 0; i < n; ++i) tx.send_locked(k_rx_port);  // untimed refill: core_guard in any mode
        return wait_for([&] { return tb.lo.delivered() >= tb.lo.transmitted() && tb.s.mailbox_depth() == 0; });
    };
    // Warm up, and time the warm-up receives to size the batches: a receive can be as
    // short as two clock reads, so samples group enough receives to keep the clock's
    // own cost under 5% (the record's ops_per_sample says how many).
    double warm_ns = 0;
    long warm_ops = 0;
    for (long done = 0; done < std::max(o.warmup, 64L); done += batch) {
        const long n = std::min(batch, std::max(o.warmup, 64L) - done);
        fill(n);
        const auto t0 = now_ns();
        for (long i = 0; i < n; ++i) rx.recv();
        warm_ns += static_cast<double>(now_ns() - t0);
        warm_ops += n;
    }
    const long per = choose_ops_per_sample(warm_ns / static_cast<double>(std::max(1L, warm_ops)));
    rep_out out;
    out.rep.ops = o.ops;
    perf_counters counters(o.hardware_counters);
    const auto c0 = counts_snapshot::of(tb.s);
    double wall = 0;
    bool started = false;
    for (long done = 0; done < o.ops; done += batch) {
        check_cancel(o);
        const long n = std::min(batch, o.ops - done);
        if (!fill(n)) out.rep.errors += 1;
        // in mailbox input mode the datagrams may still be on their way: wait until queued
        if (started) counters.resume(); else counters.start();
        started = true;
        const auto b0 = now_ns();
        for (long i = 0; i < n; i += per) {
            const long k = std::min(per, n - i);
            const auto t0 = now_ns();
            for (long j = 0; j < k; ++j)
                if (rx.recv() < 0) ++out.rep.errors;
            const auto t1 = now_ns();
            out.rep.samples_ns.push_back(static_cast<double>(t1 - t0) / static_cast<double>(k));
        }
        wall += static_cast<double>(now_ns() - b0);
        counters.pause();
    }
    out.rep.wall_ns = wall;
    out.rep.counters = counters.read();
    const auto c1 = counts_snapshot::of(tb.s);
    stack_counts sc;
    add_counts(sc, c0, c1, static_cast<double>(o.ops), static_cast<std::uint64_t>(o.ops),
               static_cast<std::uint64_t>(o.ops - out.rep.errors));
    // the fill's raw sends are zero-copy; copies here are the receive side's own
    out.counts = sc;
    return out;
}

/// delivery_latency and round_trip: a second thread receives (and echoes).
rep_out rep_two_threads(const point& p, const run_options& o, bool round_trip) {
    const cpu_plan plan = make_plan(p.pin);
    testbed tb(testbed_config(p, plan.tcpip));
    scoped_pin pin(plan.app(0));
    endpoint a(tb, bench::parse_api(p.api), p.payload, k_tx_port);
    endpoint b(tb, bench::parse_api(p.api), p.payload, k_rx_port);
    const long total = o.warmup + o.ops;
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> delivered_ns{0};
    std::atomic<long> seen{0};
    const bool raw = p.api == "raw";
    if (raw && round_trip) b.set_echo(true);
    std::thread peer;
    if (!raw) {
        peer = std::thread([&] {
            scoped_pin pin2(plan.app(1));
            for (long i = 0; i < total && !stop.load(); ++i) {
                if (b.recv() < 0) break;
                if (round_trip) {
                    b.send(k_tx_port);
                } else {
                    delivered_ns.store(now_ns() - b.rx_stamp(), std::memory_order_relaxed);
                    seen.fetch_add(1, std::memory_order_release);
                }
            }
        });
    }
    rep_out out;
    out.rep.ops = o.ops;
    perf_counters counters(o.hardware_counters);
    const auto c0 = counts_snapshot::of(tb.s);
    std::int64_t begin = 0;
    for (long i = 0; i < total; ++i) {
        if (i % 1024 == 0) check_cancel(o);
        if (i == o.warmup) {
            counters.start();
            begin = now_ns();
        }
        const auto t0 = now_ns();
        std::memcpy(a.payload(), &t0, sizeof t0);
        bool ok = a.send(k_rx_port);
        double sample = 0;
        if (round_trip) {
            ok = ok && a.recv() >= 0;
            sample = static_cast<double>(now_ns() - t0);
        } else if (raw) {
            ok = ok && wait_for([&] { return b.raw_received() >= static_cast<std::uint64_t>(i + 1); });
            // raw: the receive callback itself notes the arrival time (core context)
            sample = static_cast<double>(now_ns() - t0);
        } else {
            ok = ok && wait_for([&] { return seen.load(std::memory_order_acquire) >= i + 1; });
            sample = static_cast<double>(delivered_ns.load(std::memory_order_relaxed));
        }
        if (!ok) {
            out.rep.errors += 1;
            break;
        }
        if (i >= o.warmup) out.rep.samples_ns.push_back(sample);
    }
    out.rep.wall_ns = static_cast<double>(now_ns() - begin);
    counters.stop();
    out.rep.counters = counters.read();
    stop.store(true);
    if (peer.joinable()) {
        if (out.rep.errors) b.shutdown();  // wakes a receiver still blocked in recv
        peer.join();
    }
    const auto c1 = counts_snapshot::of(tb.s);
    stack_counts sc;
    add_counts(sc, c0, c1, static_cast<double>(total), static_cast<std::uint64_t>(total),
               static_cast<std::uint64_t>(total - out.rep.errors));
    out.counts = sc;
    return out;
}

rep_out rep_throughput(const point& p, const run_options& o) {
    const cpu_plan plan = make_plan(p.pin);
    testbed tb(testbed_config(p, plan.tcpip));
    const bool raw = p.api == "raw";
    std::unique_ptr<endpoint> rx;
    if (!raw) rx = std::make_unique<endpoint>(tb, bench::parse_api(p.api), p.payload, k_rx_port);
    const std::uint16_t dst = raw ? k_sink_port : k_rx_port;
    std::vector<std::unique_ptr<endpoint>> senders;
    for (int t = 0; t < p.threads; ++t)
        senders.push_back(std::make_unique<endpoint>(tb, bench::parse_api(p.api), p.payload));
    // warm-up, single-threaded
    for (long i = 0; i < std::min<long>(o.warmup, 500); ++i) {
        senders[0]->send(dst);
        if (rx) rx->recv();
    }
    wait_for([&] { return tb.s.mailbox_depth() == 0; });
    const auto sunk0 = tb.sunk.load();
    const auto c0 = counts_snapshot::of(tb.s);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false}, senders_done{false}, flushed{false};
    std::atomic<long> received{0};
    std::vector<std::vector<double>> samples(static_cast<std::size_t>(p.threads));
    std::vector<long> errors(static_cast<std::size_t>(p.threads), 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < p.threads; ++t) {
        threads.emplace_back([&, t] {
            scoped_pin pin(plan.app(t));
            auto& ep = *senders[static_cast<std::size_t>(t)];
            auto& mine = samples[static_cast<std::size_t>(t)];
            mine.reserve(static_cast<std::size_t>(o.ops / 16 + 1));
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (long i = 0; i < o.ops; i += 16) {
                const long n = std::min<long>(16, o.ops - i);
                const auto t0 = now_ns();
                for (long k = 0; k < n; ++k) errors[static_cast<std::size_t>(t)] += ep.send(dst) ? 0 : 1;
                mine.push_back(static_cast<double>(now_ns() - t0) / static_cast<double>(n));
            }
        });
    }
    std::thread receiver;
    if (rx) {
        receiver = std::thread([&] {
            scoped_pin pin(plan.app(p.threads));
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (;;) {
                if (rx->try_recv() >= 0) {
                    received.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (flushed.load(std::memory_order_acquire)) {
                    while (rx->try_recv() >= 0) received.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                std::this_thread::yield();
            }
        });
    }
    wait_for([&] { return ready.load() == p.threads; });
    perf_counters counters(o.hardware_counters);
    counters.start();
    const auto begin = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& th : threads) th.join();
    senders_done.store(true);
    // flush: everything posted to the tcpip mailbox before this has been processed
    tb.s.callback_wait([](void*) { return err::ok; }, nullptr);
    flushed.store(true, std::memory_order_release);
    if (receiver.joinable()) receiver.join();
    const auto end = now_ns();
    counters.stop();
    rep_out out;
    out.rep.ops = o.ops * p.threads;
    out.rep.wall_ns = static_cast<double>(end - begin);
    out.rep.counters = counters.read();
    for (int t = 0; t < p.threads; ++t) {
        auto& s = samples[static_cast<std::size_t>(t)];
        out.rep.samples_ns.insert(out.rep.samples_ns.end(), s.begin(), s.end());
        out.rep.errors += errors[static_cast<std::size_t>(t)];
    }
    const auto c1 = counts_snapshot::of(tb.s);
    const std::uint64_t got = raw ? tb.sunk.load() - sunk0 : static_cast<std::uint64_t>(received.load());
    stack_counts sc;
    add_counts(sc, c0, c1, static_cast<double>(out.rep.ops), static_cast<std::uint64_t>(out.rep.ops - out.rep.errors), got);
    out.counts = sc;
    for (const auto& [n, v] : tb.s.st().drops_by_name()) out.drops[n] = v;
    // ops_per_sec for throughput means datagrams *received* per second
    out.rep.ops = static_cast<long>(got);
    return out;
}

/// Busy-wait step of the thread ping-pong: spin briefly, then yield, so that a partner
/// pinned to the same CPU gets to run (pure spinning there would wait for the
/// scheduler tick and measure that instead).
void spin_wait(int spins) {
    if (spins < 64) {
        lwbench::detail::cpu_relax();
    } else {
        std::this_thread::yield();
    }
}

rep_out rep_primitive(const point& p, const run_options& o) {
    const cpu_plan plan = make_plan(p.pin);
    rep_out out;
    std::vector<std::byte> src(p.payload, std::byte{0x3c}), dst(p.payload);
    const auto batched = [&](auto&& op) {
        for (long i = 0; i < o.warmup; ++i) op();
        const int per = choose_ops_per_sample(probe_op_ns(op, 1000));
        out.rep = time_repetition(o.ops, per, o.hardware_counters, op);
    };
    scoped_pin pin(plan.app(0));
    const std::string& prim = p.primitive;
    if (prim == "lock_unlock") {
        lwbench::detail::core_lock lk(p.cfg.lock);
        lwbench::detail::lock_token t;
        batched([&] {
            lk.lock(t);
            lk.unlock(t);
            return true;
        });
    } else if (prim == "memcpy") {
        batched([&] {
            std::memcpy(dst.data(), src.data(), src.size());
            asm volatile("" : : "r"(dst.data()) : "memory");
            return true;
        });
    } else if (prim == "checksum") {
        volatile std::uint16_t sink = 0;
        batched([&] {
            sink = inet_chksum(src.data(), src.size());
            return true;
        });
        (void)sink;
    } else if (prim == "udp_emit_floor") {
        // The bare work of a loopback UDP datagram: write the IPv4 and UDP headers
        // (IP header checksum included), checksum payload + pseudo header on send, and
        // verify it again on receive — what raw udp_sendto + delivery cannot avoid.
        stack_config cfg;
        cfg.pbuf_pool_size = 4;
        cfg.pbuf_ref_pool_size = 4;
        stack s(cfg);
        pbuf* pb = pbuf_alloc(s, pbuf_layer::ip, p.payload + k_udp_hlen, pbuf_type::pool);
        std::memcpy(pb->bytes() + k_udp_hlen, src.data(), p.payload);
        (void)pbuf_add_header(pb, k_ip4_hlen);
        (void)pbuf_remove_header(pb, k_ip4_hlen);
        volatile std::uint16_t sink = 0;
        batched([&] {
            (void)pbuf_add_header(pb, k_ip4_hlen);
            wire::ipv4_repr r;
            r.src = k_lo;
            r.dst = k_lo;
            r.payload_len = static_cast<std::uint16_t>(p.payload + k_udp_hlen);
            wire::emit_ipv4(std::span<std::byte, 20>(pb->bytes(), 20), r, true);
            (void)pbuf_remove_header(pb, k_ip4_hlen);
            wire::emit_udp(std::span<std::byte, 8>(pb->bytes(), 8), {7001, 9, pb->tot_len});
            const std::uint16_t c = inet_chksum_pseudo(pb, 17, pb->tot_len, k_lo, k_lo);
            std::memcpy(pb->bytes() + 6, &c, 2);
            sink = inet_chksum_pseudo(pb, 17, pb->tot_len, k_lo, k_lo);  // receiver's verify
            return true;
        });
        (void)sink;
        pbuf_free(pb);
    } else if (prim == "mailbox_handoff") {
        // An empty API message in message-passing mode: post, wake the tcpip thread,
        // run nothing, post the caller's semaphore, wake the caller.
        stack_config cfg = p.cfg;
        cfg.mode = threading_mode::message_passing;
        cfg.tcpip_cpu = plan.tcpip;
        stack s(cfg);
        for (long i = 0; i < o.warmup; ++i) s.call([] { return err::ok; });
        out.rep = time_repetition(o.ops, 1, o.hardware_counters, [&] { return s.call([] { return err::ok; }) == err::ok; });
    } else if (prim == "semaphore_wake" || prim == "thread_pingpong") {
        // One op = a round trip: A wakes B, B wakes A (futex semaphores), or A and B
        // hand a counter back and forth through one cache line (spinning).
        const bool futex = prim == "semaphore_wake";
        lwbench::detail::futex_sem ab, ba;
        std::atomic<long> ball{0};
        std::atomic<bool> stop{false};
        const long total = o.warmup + o.ops + 1;
        std::thread partner([&] {
            scoped_pin pin2(p.pin == pinning::separate_cores ? plan.tcpip : plan.app(0));
            for (long i = 0; i < total && !stop.load(std::memory_order_relaxed); ++i) {
                if (futex) {
                    ab.acquire();
                    ba.post();
                } else {
                    for (int spins = 0; ball.load(std::memory_order_acquire) != 2 * i + 1; ++spins) {
                        if (stop.load(std::memory_order_relaxed)) return;
                        spin_wait(spins);
                    }
                    ball.store(2 * i + 2, std::memory_order_release);
                }
            }
        });
        long n = 0;
        const auto op = [&] {
            if (futex) {
                ab.post();
                ba.acquire();
            } else {
                ball.store(2 * n + 1, std::memory_order_release);
                for (int spins = 0; ball.load(std::memory_order_acquire) != 2 * n + 2; ++spins) spin_wait(spins);
            }
            ++n;
            return true;
        };
        for (long i = 0; i < o.warmup; ++i) op();
        out.rep = time_repetition(o.ops, 1, o.hardware_counters, op);
        stop.store(true);
        if (futex) ab.post();
        partner.join();
    }
    return out;
}

rep_out run_one(const point& p, const run_options& o) {
    if (p.scenario == "send_latency") return rep_send_latency(p, o);
    if (p.scenario == "recv_latency") return rep_recv_latency(p, o);
    if (p.scenario == "delivery_latency") return rep_two_threads(p, o, false);
    if (p.scenario == "round_trip") return rep_two_threads(p, o, true);
    if (p.scenario == "throughput") return rep_throughput(p, o);
    return rep_primitive(p, o);
}

record identity_of(const point& p) {
    record r;
    r.stack = "lwbench";
    r.scenario = p.scenario;
    r.payload_bytes = static_cast<int>(p.payload);
    r.app_threads = p.threads;
    r.pinning = to_string(p.pin);
    if (p.scenario == "primitive") {
        r.primitive = p.primitive;
        if (p.primitive == "lock_unlock") r.lock_kind = lwbench::to_string(p.cfg.lock);
        if (p.primitive == "mailbox_handoff") {
            r.mailbox_kind = lwbench::to_string(p.cfg.mailbox);
            r.threading_mode = "message_passing";
        }
        return r;
    }
    r.api = p.api;
    r.threading_mode = lwbench::to_string(p.cfg.mode);
    r.input_mode = lwbench::to_string(p.cfg.input);
    r.mailbox_kind = lwbench::to_string(p.cfg.mailbox);
    r.lock_kind = lwbench::to_string(p.cfg.lock);
    return r;
}

}  // namespace

std::vector<point_result> run_points(const std::vector<point>& points, const run_options& opt) {
    for (const auto& p : points)
        if (auto problem = validate(p)) throw std::invalid_argument(p.label() + ": " + *problem);
    struct acc_state {
        accumulator acc;
        std::optional<stack_counts> counts;
        std::map<std::string, std::uint64_t> drops;
        int ops_per_sample = 1;
        std::vector<double> samples;
    };
    std::vector<acc_state> state(points.size());
    std::vector<std::size_t> order(points.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937 rng(opt.seed);
    const std::size_t steps = points.size() * static_cast<std::size_t>(opt.repetitions);
    std::size_t step = 0;
    const auto t_start = clk::now();
    for (int rep = 0; rep < opt.repetitions; ++rep) {
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t idx : order) {
            check_cancel(opt);
            const point& p = points[idx];
            ++step;
            if (opt.progress) {
                const double elapsed = std::chrono::duration<double>(clk::now() - t_start).count();
                const double eta = step > 1 ? elapsed / static_cast<double>(step - 1) *
                                                  static_cast<double>(steps - step + 1)
                                            : 0;
                char buf[96];
                std::snprintf(buf, sizeof buf, "[%zu/%zu, rep %d/%d, %.0fs elapsed, ~%.0fs left] ", step, steps,
                              rep + 1, opt.repetitions, elapsed, eta);
                opt.progress(buf + p.label());
            }
            rep_out r = run_one(p, opt);
            auto& st = state[idx];
            if (!r.rep.samples_ns.empty()) {
                // ops per sample, from the repetition itself
                st.ops_per_sample = std::max(1, static_cast<int>(std::lround(
                                                    static_cast<double>(std::max<long>(r.rep.ops, 1)) /
                                                    static_cast<double>(r.rep.samples_ns.size()))));
                if (p.scenario == "throughput") st.ops_per_sample = 16;
            }
            if (opt.keep_samples) st.samples.insert(st.samples.end(), r.rep.samples_ns.begin(), r.rep.samples_ns.end());
            if (r.counts) {
                if (!st.counts) st.counts = stack_counts{};
                auto& c = *st.counts;
                const auto avg = [&](std::optional<double>& into, const std::optional<double>& v) {
                    if (v) into = into.value_or(0) + *v / opt.repetitions;
                };
                avg(c.payload_copies_per_op, r.counts->payload_copies_per_op);
                avg(c.heap_allocs_per_op, r.counts->heap_allocs_per_op);
                avg(c.pool_allocs_per_op, r.counts->pool_allocs_per_op);
                c.sent += r.counts->sent;
                c.received += r.counts->received;
                c.dropped += r.counts->dropped;
            }
            for (const auto& [n, v] : r.drops) st.drops[n] += v;
            st.acc.add(std::move(r.rep));
        }
        if (opt.after_round) opt.after_round(rep);
    }
    std::vector<point_result> out;
    for (std::size_t i = 0; i < points.size(); ++i) {
        point_result pr;
        pr.rec = identity_of(points[i]);
        state[i].acc.finish(pr.rec, static_cast<double>(points[i].payload));
        pr.rec.ops_per_sample = state[i].ops_per_sample;
        if (state[i].counts) {
            pr.rec.counts = state[i].counts;
            pr.rec.counts->dropped_by_reason = state[i].drops;
        }
        pr.samples_ns = std::move(state[i].samples);
        out.push_back(std::move(pr));
    }
    return out;
}

}  // namespace lwbench::harness
