// tap.cpp — the netif_kind::tap points: our stack on a TAP link, the Linux kernel on
// the other side of it, inside the namespace scripts/netns.sh made (tap_link).
//
// The kernel's side is a kernel UDP socket made inside that namespace (netns.hpp: the
// step runs on a helper thread, no thread of ours changes namespace) at 192.0.2.1,
// served by one thread of this process:
//   round_trip        our endpoint sends, the kernel socket echoes, the TAP driver
//                     thread hands the answer to the stack's input (mailbox or inline);
//   throughput        our senders into the kernel socket, which counts what arrives
//                     (delivered) and what its full receive buffer dropped (SO_RXQ_OVFL);
//   delivery_latency  the receive path: the kernel thread sends one datagram at a time
//                     and waits until our receiver holds it. The sample runs from just
//                     before the kernel's sendto to our receiver holding the data (raw:
//                     the receive callback, stamped in core context). The perf counters
//                     are opened BEFORE the kernel thread exists, so context switches per
//                     op count only our side: the driver thread, the tcpip thread (when
//                     input is posted) and the receiver — per datagram delivered.
// Each visit opens the TAP afresh (our ARP cache starts empty: the warm-up resolves
// the kernel's address; the kernel's side is waited for until it runs again) and closes
// it. The driver thread starts on the calling thread's CPU (application thread 0 of the
// pinning plan) under its scheduling policy (--sched), as it inherits both; our sender
// threads are set up like every application thread (app_thread_setup). The kernel's
// side stays SCHED_OTHER: it stands for the peer, not for the device.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>

#include "lwbench/netns.hpp"
#include "lwbench/tap_netif.hpp"
#include "scenario_kinds.hpp"

namespace lwbench::harness {

std::optional<std::string> tap_link_problem(const tap_link& link) {
    if (auto problem = netns_problem(link.netns)) return problem;
    // The device must already be there: TUNSETIFF would otherwise make a new one,
    // down and without the kernel's address, and every datagram would time out.
    // A socket inside the namespace comes back only if the device is there.
    const auto probe = open_in_netns(link.netns, "looking for " + link.ifname, [&]() -> int {
        const int probe_socket = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (probe_socket >= 0 && ::if_nametoindex(link.ifname.c_str()) == 0) {
            ::close(probe_socket);
            return -1;
        }
        return probe_socket;
    });
    if (probe.fd < 0)
        return "no device " + link.ifname + " in namespace " + link.netns + " (run scripts/netns.sh up first)";
    ::close(probe.fd);
    return std::nullopt;
}

namespace scenarios {

namespace {

constexpr ip4_addr k_kernel_addr = ip4_addr::from_octets(192, 0, 2, 1);  // scripts/netns.sh
constexpr ip4_addr k_our_addr = ip4_addr::from_octets(192, 0, 2, 2);
constexpr ip4_addr k_netmask = ip4_addr::from_octets(255, 255, 255, 0);
constexpr std::uint16_t k_kernel_port = 7;  // the kernel's echo or sink
/// How long the kernel thread's receive waits before it rechecks its stop flag.
constexpr timeval k_kernel_wake{0, 100'000};
/// The nice value of the kernel's pacing thread in delivery_latency (lowest priority).
constexpr int k_pacer_nice = 19;
/// How long our receiver waits for one datagram before the repetition ends with an
/// error and the datagram counts as dropped (k_not_received): as long as the loopback
/// scenarios' bounded waits, so a stall of this shared machine is not taken for a loss.
constexpr int k_recv_timeout_ms = 10'000;
/// The drop reason of a datagram sent across the link and not received within k_recv_timeout_ms.
constexpr const char* k_not_received = "not_received_in_time";

/// Our stack on the TAP link, for one visit (see the file comment for the order).
struct tap_bed {
    tap_bed(const point& p, const tap_link& link)
        : plan(cpu_plan::of(p.pin)), app(plan.app(0), p.cfg.sched), s(testbed_config(p, plan.tcpip())) {
        tap_config cfg;
        cfg.ifname = link.ifname;
        cfg.netns = link.netns;
        cfg.ip = k_our_addr;
        cfg.netmask = k_netmask;
        auto opened = tap_netif::open(s, cfg);
        if (!opened.tap) throw std::runtime_error(opened.error);
        tap = std::move(opened.tap);
    }
    ~tap_bed() { tap.reset(); }  // before the stack: stops the driver thread, removes the netif
    tap_bed(const tap_bed&) = delete;
    tap_bed& operator=(const tap_bed&) = delete;

    cpu_plan plan;
    app_thread_setup app;  // before the TAP opens: its driver thread inherits pinning and policy
    stack s;
    std::unique_ptr<tap_netif> tap;
};

/// A kernel UDP socket at 192.0.2.1:k_kernel_port inside the link's namespace, with a
/// receive timeout (so its thread rechecks a stop flag) and a deep receive buffer.
/// Closed by the destructor.
class kernel_socket {
public:
    explicit kernel_socket(const tap_link& link) {
        const auto made = open_in_netns(link.netns, "kernel peer socket", [] {
            return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        });
        if (made.fd < 0) throw std::runtime_error(made.error);
        _fd = made.fd;
        const sockaddr_in local = endpoint::addr_of(k_kernel_port, k_kernel_addr);
        const int buffer = 4 << 20, on = 1;
        if (::bind(_fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
            ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &k_kernel_wake, sizeof k_kernel_wake) != 0 ||
            ::setsockopt(_fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) {
            ::close(_fd);
            throw std::runtime_error("kernel peer socket: bind 192.0.2.1:7 or setsockopt failed");
        }
        (void)::setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);  // capped by rmem_max: fine
        // A persistent TAP has no carrier while no descriptor is attached; the kernel
        // takes it up asynchronously (link watch) after ours attached, and until then
        // drops what it sends on it. Wait (bounded) until it is running.
        if (!wait_until([&] { return link_running(link.ifname); }, std::chrono::seconds(5))) {
            ::close(_fd);
            throw std::runtime_error("the kernel's side of " + link.ifname + " did not come up within 5 s");
        }
    }
    ~kernel_socket() { ::close(_fd); }
    kernel_socket(const kernel_socket&) = delete;
    kernel_socket& operator=(const kernel_socket&) = delete;

    /// One datagram into `buf`: its length, or -1 (the receive timeout: nothing came).
    /// `from` gets the sender; overflow_drops the kernel's count of datagrams this
    /// socket's full buffer dropped so far (SO_RXQ_OVFL), when the kernel says it.
    long receive(std::span<std::byte> buf, sockaddr_in& from) {
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint32_t))];
        msghdr m{};
        m.msg_name = &from;
        m.msg_namelen = sizeof from;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(_fd, &m, 0);
        if (n < 0) return -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                std::uint32_t dropped = 0;
                std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
                overflow_drops.store(dropped, std::memory_order_relaxed);
            }
        return static_cast<long>(n);
    }
    bool send(std::span<const std::byte> data, const sockaddr_in& to) {
        return ::sendto(_fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
               static_cast<ssize_t>(data.size());
    }

    std::atomic<std::uint64_t> overflow_drops{0};

private:
    /// IFF_RUNNING of the device, as the kernel in the socket's namespace sees it.
    [[nodiscard]] bool link_running(const std::string& ifname) const {
        ifreq req{};
        std::memcpy(req.ifr_name, ifname.c_str(), std::min(ifname.size(), sizeof req.ifr_name - 1));
        return ::ioctl(_fd, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_RUNNING) != 0;
    }

    int _fd = -1;
};

/// The kernel's side runs one loop on one thread of `group` (pinned to `cpu`) until
/// `stop`; the group's stop callback sets it, and the receive timeout bounds the wait.
template <class Loop>
void run_kernel_side(thread_group& group, int cpu, Loop loop) {
    group.spawn([cpu, loop]() mutable {
        scoped_pin kernel_pin(cpu);
        loop();
    });
}

/// One visit's link for the paced scenarios: our stack on the TAP, the kernel's
/// socket, and our endpoint bound to `port`, sending to the kernel, its receive bounded
/// by k_recv_timeout_ms. Members go in reverse order: the endpoint before the stack.
struct paced_link {
    paced_link(const point& p, const tap_link& link, std::uint16_t port)
        : bed(p, link), kernel(link), ours(bed.s, p.api, p.payload, port, k_kernel_addr) {
        if (!ours.ok())
            throw std::runtime_error(std::string("tap ") + to_string(p.scenario) + ": could not open our endpoint");
        ours.set_recv_timeout(k_recv_timeout_ms);
    }
    tap_bed bed;
    kernel_socket kernel;
    endpoint ours;
};

rep_out tap_round_trip(const point& p, const visit& v) {
    const run_options& o = v.options;
    paced_link link(p, o.tap, k_tx_port);
    // Plain references, not a structured binding: lambdas below capture them (clang
    // before 16 refuses to capture structured bindings).
    tap_bed& bed = link.bed;
    kernel_socket& kernel = link.kernel;
    endpoint& ours = link.ours;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> echoed{0};
    thread_group peer([&] { stop.store(true); });
    run_kernel_side(peer, bed.plan.app(1), [&] {
        std::vector<std::byte> buf(2048);
        while (!stop.load()) {
            sockaddr_in from{};
            const long n = kernel.receive(buf, from);
            if (n >= 0 && kernel.send({buf.data(), static_cast<std::size_t>(n)}, from)) echoed.fetch_add(1);
        }
    });
    rep_out out;
    counter_window counters(v.counted, o.hardware_counters);  // after every thread exists: counts the echo too
    const auto before = counts_snapshot::of(bed.s);
    const long total = o.warmup + o.ops;
    std::int64_t begin = 0;
    bool lost_answer = false;
    long i = 0;
    for (; i < total && !cancel_requested(o.cancel); ++i) {
        if (i == o.warmup) {
            counters.start();
            begin = now_ns();
        }
        const auto t0 = now_ns();
        if (!ours.send(k_kernel_port)) {
            out.rep.errors += 1;
            break;
        }
        if (ours.recv() < 0) {  // sent, but no answer within k_recv_timeout_ms
            out.rep.errors += 1;
            lost_answer = true;
            break;
        }
        if (i >= o.warmup) out.rep.samples_ns.push_back(static_cast<double>(now_ns() - t0));
    }
    finish_paced(out, begin, counters, peer, bed.s, before, i, o.cancel);
    out.rep.sent = static_cast<std::uint64_t>(i + (lost_answer ? 1 : 0));
    out.rep.received = static_cast<std::uint64_t>(i);
    if (lost_answer) out.rep.dropped_by_reason[k_not_received] += 1;
    return out;
}

rep_out tap_delivery(const point& p, const visit& v) {
    const run_options& o = v.options;
    paced_link link(p, o.tap, k_rx_port);
    // Plain references, not a structured binding: lambdas below capture them (clang
    // before 16 refuses to capture structured bindings).
    tap_bed& bed = link.bed;
    kernel_socket& kernel = link.kernel;
    endpoint& ours = link.ours;
    // Our endpoint makes the kernel learn our MAC before the first timed datagram: the
    // warm-up's first send would otherwise wait for ARP.
    if (!ours.send(k_kernel_port)) throw std::runtime_error("tap delivery_latency: could not send to the kernel");
    const long total = o.warmup + o.ops;
    rep_out out;
    // Opened before the kernel's sending thread exists: it is not counted (file comment).
    counter_window counters(v.counted, o.hardware_counters);
    const auto before = counts_snapshot::of(bed.s);
    // The kernel's thread sleeps while our side works (a condition variable, not a
    // spin), so it takes no CPU from the threads being counted.
    std::mutex pace_mutex;
    std::condition_variable pace;
    bool stop = false;
    long delivered = 0;
    std::atomic<std::int64_t> sent_at{0};
    std::atomic<long> kernel_sent{0};
    thread_group sender([&] {
        {
            std::lock_guard lock(pace_mutex);
            stop = true;
        }
        pace.notify_all();
    });
    run_kernel_side(sender, bed.plan.app(1), [&] {
        // Niced, so that its wake-up (the receiver's notify) does not preempt the
        // receiver on a shared CPU: that switch would be the harness's, not the stack's.
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), k_pacer_nice);
        std::vector<std::byte> payload(p.payload, std::byte{0x6b});
        const sockaddr_in to = endpoint::addr_of(k_rx_port, k_our_addr);
        for (long k = 0; k < total; ++k) {
            {  // One datagram at a time: the next only once ours holds this one (bounded).
                std::unique_lock lock(pace_mutex);
                if (!pace.wait_for(lock, std::chrono::milliseconds(k_recv_timeout_ms),
                                   [&] { return delivered >= k || stop; }) || stop)
                    return;
            }
            sent_at.store(now_ns(), std::memory_order_release);
            if (!kernel.send(payload, to)) return;
            kernel_sent.fetch_add(1, std::memory_order_relaxed);
        }
    });
    std::int64_t begin = 0;
    long i = 0;
    for (; i < total && !cancel_requested(o.cancel); ++i) {
        if (i == o.warmup) {
            counters.start();
            begin = now_ns();
        }
        if (ours.recv() < 0) {
            out.rep.errors += 1;
            break;
        }
        const auto held = p.api == api_kind::raw ? ours.raw_arrival_ns() : now_ns();
        const auto sample = static_cast<double>(held - sent_at.load(std::memory_order_acquire));
        {
            std::lock_guard lock(pace_mutex);
            delivered = i + 1;
        }
        pace.notify_one();
        if (i >= o.warmup) out.rep.samples_ns.push_back(sample);
    }
    finish_paced(out, begin, counters, sender, bed.s, before, i, o.cancel);
    const auto sent = static_cast<std::uint64_t>(kernel_sent.load());  // the sender has been joined
    const auto received = static_cast<std::uint64_t>(i);
    out.rep.sent = sent;
    out.rep.received = received;
    if (sent > received) out.rep.dropped_by_reason[k_not_received] += sent - received;
    return out;
}

rep_out tap_throughput(const point& p, const visit& v) {
    const run_options& o = v.options;
    tap_bed bed(p, o.tap);
    kernel_socket kernel(o.tap);
    std::vector<std::unique_ptr<endpoint>> senders;
    for (int t = 0; t < p.threads; ++t)
        senders.push_back(std::make_unique<endpoint>(bed.s, p.api, p.payload, 0, k_kernel_addr));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> arrived{0};
    thread_group sink([&] { stop.store(true); });
    run_kernel_side(sink, bed.plan.app(p.threads), [&] {
        std::vector<std::byte> buf(2048);
        while (!stop.load()) {
            sockaddr_in from{};
            if (kernel.receive(buf, from) >= 0) arrived.fetch_add(1, std::memory_order_relaxed);
        }
    });
    // Warm-up, single-threaded; also resolves the kernel's address.
    for (long i = 0; i < std::min<long>(o.warmup, 500); ++i) (void)senders[0]->send(k_kernel_port);
    (void)bed.s.callback_wait([](void*) { return err::ok; }, nullptr);
    const auto settled = [&](std::uint64_t expected) {
        return wait_until([&] { return arrived.load() + kernel.overflow_drops.load() >= expected; },
                          std::chrono::seconds(2), o.cancel);
    };
    (void)settled(static_cast<std::uint64_t>(std::min<long>(o.warmup, 500)));
    throw_if_cancelled(o.cancel);
    const auto arrived0 = arrived.load();
    const auto overflow0 = kernel.overflow_drops.load();
    const auto before = counts_snapshot::of(bed.s);
    constexpr int k_sends_per_sample = 16;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::vector<double>> samples(static_cast<std::size_t>(p.threads));
    std::vector<long> errors(static_cast<std::size_t>(p.threads), 0), calls(static_cast<std::size_t>(p.threads), 0);
    thread_group senders_group([&] { go.store(true, std::memory_order_release); });
    for (int t = 0; t < p.threads; ++t) {
        senders_group.spawn([&, t] {
            const auto at = static_cast<std::size_t>(t);
            const app_thread_setup sender_setup(bed.plan.app(t), p.cfg.sched);
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            calls[at] = sample_loop(o.ops, k_sends_per_sample, [&] { return senders[at]->send(k_kernel_port); },
                                    samples[at], errors[at], o.cancel);
        });
    }
    wait_until([&] { return ready.load() == p.threads; }, std::chrono::seconds(10), o.cancel);
    counter_window counters(v.counted, o.hardware_counters);  // after every thread exists
    counters.start();
    const auto begin = now_ns();
    go.store(true, std::memory_order_release);
    senders_group.wait();
    (void)bed.s.callback_wait([](void*) { return err::ok; }, nullptr);  // everything posted has gone out
    rep_out out;
    const long total_calls = merge_senders(out.rep, samples, errors, calls);
    const auto ours_after = counts_snapshot::of(bed.s);
    auto drops = drops_between(before, ours_after);
    std::uint64_t our_drops = 0;
    for (const auto& [reason, n] : drops) our_drops += n;
    const auto sent = static_cast<std::uint64_t>(total_calls - out.rep.errors);
    // Delivered is what the kernel's socket got; wait (bounded) until the rest is
    // either there or counted as dropped somewhere.
    (void)settled(arrived0 + overflow0 + (sent > our_drops ? sent - our_drops : 0));
    const auto end = now_ns();
    counters.stop();
    sink.join();
    throw_if_cancelled(o.cancel);
    out.rep.ops_per_sample = k_sends_per_sample;
    out.rep.counted = v.counted;
    out.rep.wall_ns = static_cast<double>(end - begin);
    out.rep.counters = counters.read();
    out.rep.ops = total_calls;
    out.rep.sent = sent;
    out.rep.received = arrived.load() - arrived0;
    if (const auto overflow = kernel.overflow_drops.load() - overflow0) drops["kernel_rcvbuf_full"] = overflow;
    out.rep.dropped_by_reason = std::move(drops);
    out.per_op = per_op_counts(before, ours_after, static_cast<double>(std::max(1L, total_calls)));
    return out;
}

}  // namespace

rep_out measure_tap(const point& p, const visit& v) {
    switch (p.scenario) {
        case scenario_kind::round_trip: return tap_round_trip(p, v);
        case scenario_kind::delivery_latency: return tap_delivery(p, v);
        case scenario_kind::throughput: return tap_throughput(p, v);
        default: break;
    }
    throw std::invalid_argument(std::string("--netif tap has no ") + to_string(p.scenario) + " scenario");
}

}  // namespace scenarios
}  // namespace lwbench::harness
