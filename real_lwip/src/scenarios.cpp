// scenarios.cpp — the scenarios measured on real lwIP: send_latency, round_trip and
// throughput, timed with lwbench's measurement core (timing.hpp, aggregate.hpp): the
// same probe, batching, sample loop, timed/counted repetitions and aggregation as
// lwbench's own scenarios, so the records of both stacks mean the same.
#include "runner.hpp"

namespace lwbench::lwip_runner {

namespace {

/// Waits (the core's bounded wait) until the sink has seen `expected` datagrams, at
/// most 2 s (a datagram lost on the way never arrives). Returns the count.
std::uint64_t wait_sink(std::uint64_t expected) {
    hx::wait_until([&] { return g_sink_received.load() >= expected; }, std::chrono::seconds(2), &g_cancel);
    return g_sink_received.load();
}

/// Records what a repetition sent and what the sink received; the difference is loss
/// the sink can see, but not lwIP's reason for it (LWIP_STATS=0).
void set_delivery(hx::repetition& rep, std::uint64_t sent, std::uint64_t received) {
    rep.sent = sent;
    rep.received = received;
    if (sent > received) rep.dropped_by_reason["not_received_by_sink"] = sent - received;
}


/// Aggregates a point's repetitions with the measurement core (the same code as lwbench's).
void finish(scenario_result& res, double payload_bytes, hx::rate_basis basis) {
    hx::accumulator acc;
    for (const auto& r : res.reps) acc.add(r);
    acc.finish(res.rec, payload_bytes, basis);
}

}  // namespace

class point_runner::impl {
public:
    explicit impl(options opt) : _opt(std::move(opt)) {
        _payload.assign(std::max(k_max_payload, k_max_tcp_write), 0);
        for (std::size_t i = 0; i < _payload.size(); ++i) _payload[i] = static_cast<std::uint8_t>(i * 131u + 7u);
        _pong = _payload;
    }

    /// The payload the raw round trip echoes (start_lwip needs it).
    std::uint8_t* pong() { return _pong.data(); }

    scenario_result run(const point& pt) {
        if (pt.pinning == "separate_cores" && hx::online_cpus() < 2)
            fail("pinning separate_cores needs at least 2 online CPUs");
        const hx::cpu_plan plan = plan_of(pt.pinning);
        pin_tcpip_thread(plan.tcpip());
        setup_app_thread(plan.app(0));
        scenario_result res;
        res.rec = base_record(pt);
        switch (pt.scenario) {
            case hx::scenario_kind::send_latency: send_latency(pt, res); break;
            case hx::scenario_kind::round_trip: round_trip(pt, res); break;
            case hx::scenario_kind::throughput: throughput(pt, res); break;
            case hx::scenario_kind::bulk_tcp:
            case hx::scenario_kind::request_response_tcp:
            case hx::scenario_kind::connection_rate_tcp: run_tcp_point(pt, _opt, _payload.data(), res); break;
            default: fail(std::string("scenario ") + hx::to_string(pt.scenario) + " is not measured for real lwIP");
        }
        setup_app_thread(-1);
        return res;
    }

private:
    void arm_watchdog() const { alarm(_opt.watchdog_s); }
    /// This point's timed and counted repetitions, in run order.
    [[nodiscard]] std::vector<bool> plan() const {
        const int counted = _opt.counted_repetitions < 0 ? hx::default_counted_repetitions(_opt.repetitions)
                                                         : _opt.counted_repetitions;
        return hx::repetition_plan(_opt.repetitions, counted);
    }

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
        for (const bool counted : plan()) {
            arm_watchdog();
            const std::uint64_t before = g_sink_received.load();
            hx::repetition rep = hx::time_repetition(_opt.ops, per_sample, counted, _opt.hw_counters, &g_cancel, op);
            const auto sent = static_cast<std::uint64_t>(rep.ops - rep.errors);
            set_delivery(rep, sent, wait_sink(before + sent) - before);
            res.reps.push_back(std::move(rep));
        }
        alarm(0);
        check_path(pt.variant, zc_before, s.sent());
        finish(res, pt.size, hx::rate_basis::operations);
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
            setup_app_thread(plan_of(pinning).app(1));
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
            setup_app_thread(plan_of(pinning).app(1));
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
        switch (pt.api) {
            case hx::api_kind::socket: rt_socket(a, pt, rt); break;
            case hx::api_kind::netconn: rt_netconn(a, pt, rt); break;
            case hx::api_kind::raw: rt_raw(a, pt, rt); break;
        }
        auto& op = rt.op;
        arm_watchdog();
        const unsigned long zc_before = lwbench_zc_loopif_outputs();
        for (long i = 0; i < _opt.warmup; ++i) op();
        const int per_sample = hx::choose_ops_per_sample(hx::probe_op_ns(op, 50));
        std::uint64_t round_trips = 0;
        for (const bool counted : plan()) {
            arm_watchdog();
            hx::repetition rep = hx::time_repetition(_opt.ops, per_sample, counted, _opt.hw_counters, &g_cancel, op);
            // One op = one datagram each way: sent pings, and pongs that came back.
            set_delivery(rep, static_cast<std::uint64_t>(rep.ops), static_cast<std::uint64_t>(rep.ops - rep.errors));
            round_trips += static_cast<std::uint64_t>(rep.ops);
            res.reps.push_back(std::move(rep));
        }
        alarm(0);
        rt.teardown();
        check_path(pt.variant, zc_before, 2u * round_trips);
        // bytes/s counts the payload once per op.
        finish(res, pt.size, hx::rate_basis::operations);
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

        const hx::cpu_plan cpus = plan_of(pt.pinning);
        for (const bool counted : plan()) {
            arm_watchdog();
            const std::uint64_t before = g_sink_received.load();
            // Delivered means processed: in the message-passing build the input of the
            // last datagrams may still wait in the mailbox; a callback posted behind it
            // runs after them (FIFO). Then the clock stops, as lwbench's flush does.
            hx::repetition rep = time_parallel_repetition(
                n, cpus, _opt.ops, per_sample, counted, _opt.hw_counters,
                [&](std::size_t i) { return senders[i]->send(); },
                [] {
                    on_tcpip_thread([] {});
                    return true;
                });
            set_delivery(rep, static_cast<std::uint64_t>(rep.ops - rep.errors), g_sink_received.load() - before);
            res.reps.push_back(std::move(rep));
        }
        alarm(0);
        std::uint64_t all_sent = 0;
        for (const auto& sp : senders) all_sent += sp->sent();
        check_path(pt.variant, zc_before, all_sent);
        // Throughput is what the sink received per second, as for lwbench's stack.
        finish(res, pt.size, hx::rate_basis::delivered);
    }

    options _opt;
    std::vector<std::uint8_t> _payload;
    std::vector<std::uint8_t> _pong;
};

point_runner::point_runner(options opt) : _impl(std::make_unique<impl>(std::move(opt))) { start_lwip(_impl->pong()); }
point_runner::~point_runner() = default;
scenario_result point_runner::run(const point& pt) { return _impl->run(pt); }

}  // namespace lwbench::lwip_runner
