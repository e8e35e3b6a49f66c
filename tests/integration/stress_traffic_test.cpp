// stress_traffic_test.cpp — many threads, exact accounting.
//
// Run over stress_configs() (13 representative configurations, see
// integration_support.hpp), not the full 62: each of these tests moves thousands of
// datagrams through several threads, and the 62-way matrix is the behavioural
// suites' job.
//
// The accounting rule checked everywhere: every datagram whose send returned success
// is either received by the application or counted as a drop, and (unless the test
// deliberately churns netifs) drops happen only at the bounded queues:
//     successful sends == received + recv_queue_full + input_queue_full (+ netif_queue_full)
// netif_queue_full makes the send itself fail (ENOMEM), so it is counted both as a
// failed send and as a drop and must match exactly.
//
// Nothing here sleeps to synchronise: receivers block in recv and are released by
// closing their sockets once the tally balances; every test runs under a watchdog.
#include <latch>
#include <map>
#include <memory>

#include "integration_support.hpp"
#include "lwbench/detail/stack_access.hpp"

namespace lwbench::test::it {
namespace {

/// Marks (stream, seq) pairs; reports duplicates.
class seen_map {
public:
    seen_map(std::size_t streams, std::size_t per_stream) : _per(per_stream), _bits(streams * per_stream) {}
    /// false if out of range or already seen.
    bool mark(std::uint32_t stream, std::uint32_t seq) {
        const std::size_t i = std::size_t{stream} * _per + seq;
        if (seq >= _per || i >= _bits.size()) return false;
        return _bits[i].exchange(1) == 0;
    }
    [[nodiscard]] std::size_t count() const {
        std::size_t n = 0;
        for (const auto& b : _bits) n += b.load();
        return n;
    }

private:
    std::size_t _per;
    std::vector<std::atomic<std::uint8_t>> _bits;
};

/// Paces the mode-switch test: a controller flips a mode every `every` datagrams,
/// and senders may run at most two flip periods ahead of the flips done, so the number
/// of live switches is deterministic (~total/every) while traffic keeps flowing during
/// each switch.
struct flip_pacer {
    explicit flip_pacer(std::uint32_t e) : every(e) {}
    const std::uint32_t every;
    std::atomic<std::uint32_t> progress{0};  // datagrams sent (attempted)
    std::atomic<std::uint32_t> flips{0};     // switches completed
    std::atomic<bool> stop{false};

    void before_send() {
        for (;;) {
            const std::uint32_t f = flips.load();
            if (stop.load() || progress.load() < (f + 2) * every) return;
            flips.wait(f);
        }
    }
    void after_send() {
        progress.fetch_add(1);
        progress.notify_all();
    }
    /// Controller loop: runs flip(n) each time another `every` datagrams went out.
    template <class F>
    void control(F&& flip) {
        for (;;) {
            const std::uint32_t f = flips.load();
            const std::uint32_t v = progress.load();
            if (stop.load()) return;
            if (v < (f + 1) * every) {
                progress.wait(v);
                continue;
            }
            flip(f);
            flips.fetch_add(1);
            flips.notify_all();
        }
    }
    void finish() {
        stop.store(true);
        progress.fetch_add(1);
        progress.notify_all();
        flips.fetch_add(1);
        flips.notify_all();
    }
};

/// What one sending thread did.
struct send_result {
    std::uint64_t ok = 0;
    std::map<int, std::uint64_t> failed;  // errno -> count
};

/// What one receiving thread saw.
struct recv_result {
    std::uint64_t received = 0;
    int end_errno = 0;
    std::string error;  // first corruption / duplicate / order problem
};

struct test_env {
    stack_config cfg;
    std::unique_ptr<stack> s;
    std::unique_ptr<loopback_netif> lo;
};

/// A stack with queues big enough that nothing can overflow for `total` datagrams
/// (receive mailboxes, tcpip mailbox and its message pool, pbuf pool).
stack_config roomy(stack_config c, std::size_t total, std::size_t per_socket) {
    c.recv_queue_depth = per_socket + 16;
    c.mailbox_capacity = total + 256;
    c.pbuf_pool_size = total + 512;
    c.max_sockets = 64;
    return c;
}

/// Sends datagrams tagged (stream, seq) for seq in [0, n) to dst; `allowed` errnos are
/// counted, anything else fails the test. `pacer` (if any) paces the sends.
send_result send_stream(stack& s, int fd, const sockaddr_in& dst, std::uint32_t stream, std::uint32_t n,
                        std::initializer_list<int> allowed = {}, flip_pacer* pacer = nullptr,
                        std::latch* after_k = nullptr, std::uint32_t k = 0) {
    send_result r;
    std::byte buf[512];
    for (std::uint32_t seq = 0; seq < n; ++seq) {
        if (pacer) pacer->before_send();
        const std::size_t len = fill_tagged(buf, stream, seq);
        const ssize_t got = lwip_sendto(s, fd, buf, len, 0, sa(dst), sizeof dst);
        if (got == static_cast<ssize_t>(len)) {
            ++r.ok;
        } else {
            const int e = errno;
            ++r.failed[e];
            if (std::find(allowed.begin(), allowed.end(), e) == allowed.end()) {
                ADD_FAILURE() << "stream " << stream << " seq " << seq << ": sendto failed, errno " << e << " ("
                              << std::strerror(e) << ")";
                break;
            }
        }
        if (pacer) pacer->after_send();
        if (after_k && seq + 1 == k) after_k->count_down();
    }
    if (after_k && n < k) after_k->count_down();
    return r;
}

/// Receives on fd until an error (EBADF once the test closes the socket). Checks
/// content, duplicates, and (optionally) per-stream order as seen by this receiver.
recv_result receive_until_closed(stack& s, int fd, tally& t, seen_map& seen, bool check_order,
                                 std::latch* gate = nullptr, std::atomic<std::uint64_t>* count = nullptr) {
    if (gate) gate->wait();
    recv_result r;
    std::vector<std::int64_t> last_seq;
    std::byte buf[2048];
    for (;;) {
        const ssize_t n = lwip_recv(s, fd, buf, sizeof buf, 0);
        if (n < 0) {
            r.end_errno = errno;
            return r;
        }
        tag tg{};
        std::string why;
        if (r.error.empty()) {
            if (!check_tagged(buf, static_cast<std::size_t>(n), tg, why)) {
                r.error = why;
            } else if (!seen.mark(tg.stream, tg.seq)) {
                r.error = "duplicate or out-of-range datagram stream " + std::to_string(tg.stream) + " seq " +
                          std::to_string(tg.seq);
            } else if (check_order) {
                if (last_seq.size() <= tg.stream) last_seq.resize(tg.stream + 1, -1);
                if (static_cast<std::int64_t>(tg.seq) <= last_seq[tg.stream])
                    r.error = "out of order: stream " + std::to_string(tg.stream) + " seq " + std::to_string(tg.seq) +
                              " after " + std::to_string(last_seq[tg.stream]);
                last_seq[tg.stream] = tg.seq;
            }
        }
        ++r.received;
        if (count) count->fetch_add(1);
        t.add();
    }
}

/// After the senders are done: waits (bounded) for the receivers to hold everything
/// that was not dropped, returns the expected count.
std::uint64_t wait_balanced(stack& s, tally& t, std::uint64_t successful_sends) {
    drain(s);  // every packet posted for mailbox input has now been delivered or dropped
    const std::uint64_t drops = bounded_queue_drops(s);
    EXPECT_LE(drops, successful_sends);
    const std::uint64_t expected = successful_sends - std::min(drops, successful_sends);
    const bool ok = t.wait_for(expected, k_sanitized ? 120s : 30s);
    EXPECT_TRUE(ok) << "accounting never balanced: successful sends " << successful_sends << ", received "
                    << t.received() << ", drops " << drops_text(s) << " — datagrams lost without being counted";
    return expected;
}

class StressTraffic : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(true)};
};

// ---- many threads on separate sockets ------------------------------------------------------

void run_pairs(const stack_config& base, bool tiny_rcvbuf) {
    constexpr std::uint32_t pairs = 4;
    const auto n = static_cast<std::uint32_t>(scaled(6000));
    const stack_config cfg = roomy(base, pairs * n, n);
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    tally t;
    seen_map seen(pairs, n);
    std::vector<int> rx(pairs), tx(pairs);
    for (std::uint32_t i = 0; i < pairs; ++i) {
        rx[i] = bound_socket(s, static_cast<std::uint16_t>(7200 + i));
        tx[i] = bound_socket(s);
        ASSERT_GT(rx[i], 0);
        ASSERT_GT(tx[i], 0);
        if (tiny_rcvbuf) {
            ASSERT_EQ(set_rcvbuf(s, rx[i], 2), 0);
        }
    }
    // Tiny variant: receivers start only after every sender has sent k datagrams, so
    // at least k - 2 drops per receiver are certain (and more happen by racing).
    const std::uint32_t k = std::min<std::uint32_t>(n, 40);
    std::latch gate(pairs);
    std::vector<recv_result> rres(pairs);
    std::vector<send_result> sres(pairs);
    std::vector<std::thread> receivers, senders;
    for (std::uint32_t i = 0; i < pairs; ++i)
        receivers.emplace_back([&, i] {
            rres[i] = receive_until_closed(s, rx[i], t, seen, /*check_order=*/true, tiny_rcvbuf ? &gate : nullptr);
        });
    for (std::uint32_t i = 0; i < pairs; ++i)
        senders.emplace_back([&, i] {
            sres[i] = send_stream(s, tx[i], lo_sin(static_cast<std::uint16_t>(7200 + i)), i, n, {}, nullptr,
                                  tiny_rcvbuf ? &gate : nullptr, k);
        });
    for (auto& th : senders) th.join();
    std::uint64_t ok = 0;
    for (const auto& r : sres) ok += r.ok;
    const std::uint64_t expected = wait_balanced(s, t, ok);
    for (int fd : rx) EXPECT_EQ(lwip_close(s, fd), 0);  // wakes the blocked receivers (EBADF)
    for (auto& th : receivers) th.join();
    for (int fd : tx) EXPECT_EQ(lwip_close(s, fd), 0);

    EXPECT_EQ(ok, std::uint64_t{pairs} * n) << "every send must succeed (queues are roomy)";
    std::uint64_t received = 0;
    for (std::uint32_t i = 0; i < pairs; ++i) {
        EXPECT_EQ(rres[i].end_errno, EBADF) << "receiver " << i;
        EXPECT_EQ(rres[i].error, "") << "receiver " << i;
        received += rres[i].received;
    }
    EXPECT_EQ(received, expected);
    EXPECT_EQ(seen.count(), received);
    const auto& st = s.st();
    EXPECT_EQ(received + bounded_queue_drops(s), ok) << drops_text(s);
    EXPECT_EQ(st.dropped_total(), st.dropped(drop_reason::recv_queue_full)) << drops_text(s);
    if (tiny_rcvbuf) {
        EXPECT_GE(st.dropped(drop_reason::recv_queue_full), std::uint64_t{pairs} * (k - 2)) << drops_text(s);
    } else {
        EXPECT_EQ(st.dropped_total(), 0u) << drops_text(s);
    }
    EXPECT_EQ(st.udp_xmit.get(), ok);
    EXPECT_EQ(st.udp_delivered.get(), ok);
    drain(s);
    expect_no_leaks(s);
}

TEST_P(StressTraffic, ManyThreadsOnSeparateSocketsLoseNothing) { run_pairs(GetParam(), false); }
TEST_P(StressTraffic, TinyRcvbufDropsAreCountedAndBalance) { run_pairs(GetParam(), true); }

// ---- many threads on one shared socket ---------------------------------------------------

TEST_P(StressTraffic, ManyThreadsOnOneSharedSocket) {
    constexpr std::uint32_t senders_n = 4, receivers_n = 3;
    const auto n = static_cast<std::uint32_t>(scaled(5000));
    stack s(roomy(GetParam(), senders_n * n, senders_n * n));
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7210);
    const int tx = bound_socket(s);  // one sending socket shared by every sender
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    tally t;
    seen_map seen(senders_n, n);
    std::vector<recv_result> rres(receivers_n);
    std::vector<send_result> sres(senders_n);
    std::vector<std::thread> receivers, senders;
    for (std::uint32_t i = 0; i < receivers_n; ++i)
        receivers.emplace_back([&, i] { rres[i] = receive_until_closed(s, rx, t, seen, /*check_order=*/true); });
    // A poller on the shared socket too: it must end with POLLNVAL once rx is closed.
    std::atomic<short> poll_end{0};
    std::atomic<std::uint64_t> poll_wakeups{0};
    std::thread poller([&] {
        for (;;) {
            pollfd p{rx, POLLIN, 0};
            const int r = lwip_poll(s, &p, 1, -1);
            poll_wakeups.fetch_add(1);
            if (r != 1) {
                ADD_FAILURE() << "poll(-1) returned " << r << " errno " << errno;
                return;
            }
            if (p.revents & (POLLNVAL | POLLHUP)) {
                poll_end.store(p.revents);
                return;
            }
            // POLLIN: the receivers will take it; wait until it is gone or something changes.
            pollfd q{rx, POLLIN, 0};
            while (lwip_poll(s, &q, 1, 0) == 1 && q.revents == POLLIN) std::this_thread::yield();
        }
    });
    for (std::uint32_t i = 0; i < senders_n; ++i)
        senders.emplace_back([&, i] { sres[i] = send_stream(s, tx, lo_sin(7210), i, n); });
    for (auto& th : senders) th.join();
    std::uint64_t ok = 0;
    for (const auto& r : sres) ok += r.ok;
    const std::uint64_t expected = wait_balanced(s, t, ok);
    EXPECT_EQ(lwip_close(s, rx), 0);  // wakes every blocked receiver and the poller
    for (auto& th : receivers) th.join();
    poller.join();
    EXPECT_EQ(lwip_close(s, tx), 0);

    EXPECT_EQ(ok, std::uint64_t{senders_n} * n);
    std::uint64_t received = 0;
    for (std::uint32_t i = 0; i < receivers_n; ++i) {
        EXPECT_EQ(rres[i].end_errno, EBADF) << "receiver " << i;
        EXPECT_EQ(rres[i].error, "") << "receiver " << i;
        received += rres[i].received;
    }
    EXPECT_EQ(received, expected);
    EXPECT_EQ(received, ok) << drops_text(s);
    EXPECT_EQ(seen.count(), ok) << "every (sender, seq) exactly once";
    EXPECT_TRUE(poll_end.load() & (POLLNVAL | POLLHUP)) << "poller ended with revents " << poll_end.load();
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    drain(s);
    expect_no_leaks(s);
}

// ---- live mode switches under traffic --------------------------------------------------

/// Socket pairs + a netconn pair + a raw-API sender under core_guard, while a
/// controller flips the threading mode and the input mode every `flip_every`
/// datagrams. Nothing may deadlock, no waiter may be lost, and the tally must balance.
void run_mode_switches(const stack_config& base, bool tiny_rcvbuf) {
    constexpr std::uint32_t socket_pairs = 3;
    constexpr std::uint32_t streams = socket_pairs + 2;  // + netconn stream + raw stream
    const auto n = static_cast<std::uint32_t>(scaled(4000));
    const std::uint32_t flip_every = k_sanitized ? 10 : 50;
    stack s(roomy(base, streams * n, n));
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    tally t;
    seen_map seen(streams, n);
    flip_pacer pacer(flip_every);
    const std::uint32_t k = std::min<std::uint32_t>(n, 40);
    std::latch gate(streams);  // tiny variant: receivers start after k sends per stream

    // Sockets for the socket pairs and for the raw stream's receiver.
    std::vector<int> rx(socket_pairs + 1), tx(socket_pairs);
    for (std::uint32_t i = 0; i < socket_pairs + 1; ++i) {
        rx[i] = bound_socket(s, static_cast<std::uint16_t>(7220 + i));
        ASSERT_GT(rx[i], 0);
        if (tiny_rcvbuf) {
            ASSERT_EQ(set_rcvbuf(s, rx[i], 2), 0);
        }
    }
    for (auto& fd : tx) {
        fd = bound_socket(s);
        ASSERT_GT(fd, 0);
    }
    // The netconn pair.
    netconn* nc_rx = netconn_new(s);
    netconn* nc_tx = netconn_new(s);
    ASSERT_NE(nc_rx, nullptr);
    ASSERT_NE(nc_tx, nullptr);
    ASSERT_EQ(netconn_bind(nc_rx, ip4_addr::any(), 7230), err::ok);
    if (tiny_rcvbuf) netconn_set_recvbufsize(nc_rx, 2);

    std::vector<recv_result> rres(socket_pairs + 2);
    std::vector<send_result> sres(streams);
    std::vector<std::thread> receivers, senders;
    for (std::uint32_t i = 0; i < socket_pairs + 1; ++i)
        receivers.emplace_back([&, i] {
            // Order is not checked: a switch from mailbox to inline input may deliver a
            // new datagram before an older one still waiting in the mailbox (UDP
            // promises no order; loss and duplication are what is checked).
            rres[i] = receive_until_closed(s, rx[i], t, seen, false, tiny_rcvbuf ? &gate : nullptr);
        });
    receivers.emplace_back([&] {  // netconn receiver: until netconn_close (clsd)
        if (tiny_rcvbuf) gate.wait();
        auto& r = rres[socket_pairs + 1];
        std::vector<std::byte> buf;
        for (;;) {
            auto nb = netconn_recv(nc_rx);
            if (!nb.ok()) {
                r.end_errno = static_cast<int>(nb.error());
                return;
            }
            buf.resize(nb->len());
            nb->copy_to(buf.data(), buf.size());
            tag tg{};
            std::string why;
            if (r.error.empty() && !check_tagged(buf.data(), buf.size(), tg, why)) r.error = why;
            if (r.error.empty() && !seen.mark(tg.stream, tg.seq)) r.error = "duplicate netconn datagram";
            ++r.received;
            t.add();
        }
    });
    for (std::uint32_t i = 0; i < socket_pairs; ++i)
        senders.emplace_back([&, i] {
            sres[i] = send_stream(s, tx[i], lo_sin(static_cast<std::uint16_t>(7220 + i)), i, n, {}, &pacer,
                                  tiny_rcvbuf ? &gate : nullptr, k);
        });
    senders.emplace_back([&] {  // netconn sender, zero-copy netbufs
        auto& r = sres[socket_pairs];
        const std::uint32_t stream = socket_pairs;
        for (std::uint32_t seq = 0; seq < n; ++seq) {
            pacer.before_send();
            netbuf nb;
            if (nb.alloc(s, tagged_len(seq)) != err::ok) {
                ADD_FAILURE() << "netbuf alloc failed";
                break;
            }
            fill_tagged(nb.data(), stream, seq);
            const err e = netconn_sendto(nc_tx, nb, k_lo_ip, 7230);
            if (e == err::ok) {
                ++r.ok;
            } else {
                ++r.failed[static_cast<int>(e)];
                ADD_FAILURE() << "netconn_sendto: " << err_name(e);
                break;
            }
            pacer.after_send();
            if (tiny_rcvbuf && seq + 1 == k) gate.count_down();
        }
        if (tiny_rcvbuf && n < k) gate.count_down();
    });
    senders.emplace_back([&] {  // raw-API sender: core_guard in whatever mode is current
        auto& r = sres[socket_pairs + 1];
        const std::uint32_t stream = socket_pairs + 1;
        udp_pcb* pcb = nullptr;
        {
            core_guard g(s);
            pcb = udp_new(s);
            if (pcb) (void)udp_bind(pcb, ip4_addr::any(), 0);
        }
        if (!pcb) {
            ADD_FAILURE() << "udp_new";
            if (tiny_rcvbuf) gate.count_down();
            return;
        }
        for (std::uint32_t seq = 0; seq < n; ++seq) {
            pacer.before_send();
            pbuf* p = pbuf_alloc(s, pbuf_layer::transport, tagged_len(seq), pbuf_type::pool);
            if (!p) {
                ADD_FAILURE() << "pool exhausted";
                break;
            }
            fill_tagged(p->bytes(), stream, seq);
            err e;
            {
                core_guard g(s);
                e = udp_sendto(pcb, p, k_lo_ip, static_cast<std::uint16_t>(7220 + socket_pairs));
            }
            pbuf_free(p);
            if (e == err::ok) {
                ++r.ok;
            } else {
                ++r.failed[static_cast<int>(e)];
                ADD_FAILURE() << "udp_sendto: " << err_name(e);
                break;
            }
            pacer.after_send();
            if (tiny_rcvbuf && seq + 1 == k) gate.count_down();
        }
        if (tiny_rcvbuf && n < k) gate.count_down();
        core_guard g(s);
        udp_remove(pcb);
    });
    std::thread controller([&] {
        pacer.control([&](std::uint32_t f) {
            // Each flip moves one of the two modes on to the next value of its table.
            const auto next = [](auto current, const auto& all) {
                return all[(static_cast<std::size_t>(current) + 1) % std::size(all)];
            };
            if (f % 2 == 0) {
                s.set_threading_mode(next(s.get_threading_mode(), k_threading_modes));
            } else {
                s.set_input_mode(next(s.get_input_mode(), k_input_modes));
            }
        });
    });
    for (auto& th : senders) th.join();
    const std::uint32_t flips = pacer.flips.load();
    pacer.finish();
    controller.join();

    std::uint64_t ok = 0;
    for (const auto& r : sres) ok += r.ok;
    const std::uint64_t expected = wait_balanced(s, t, ok);
    for (int fd : rx) EXPECT_EQ(lwip_close(s, fd), 0);
    EXPECT_EQ(netconn_close(nc_rx), err::ok);
    for (auto& th : receivers) th.join();
    for (int fd : tx) EXPECT_EQ(lwip_close(s, fd), 0);
    EXPECT_EQ(netconn_delete(nc_rx), err::ok);
    EXPECT_EQ(netconn_delete(nc_tx), err::ok);

    EXPECT_EQ(ok, std::uint64_t{streams} * n);
    std::uint64_t received = 0;
    for (std::size_t i = 0; i < rres.size(); ++i) {
        EXPECT_EQ(rres[i].error, "") << "receiver " << i;
        received += rres[i].received;
    }
    for (std::uint32_t i = 0; i < socket_pairs + 1; ++i) EXPECT_EQ(rres[i].end_errno, EBADF) << "receiver " << i;
    EXPECT_EQ(rres[socket_pairs + 1].end_errno, static_cast<int>(err::clsd));
    EXPECT_EQ(received, expected);
    EXPECT_EQ(seen.count(), received);
    EXPECT_EQ(received + bounded_queue_drops(s), ok) << drops_text(s);
    EXPECT_EQ(s.st().dropped_total(), bounded_queue_drops(s)) << "a drop outside a bounded queue: " << drops_text(s);
    if (tiny_rcvbuf) {
        EXPECT_GE(s.st().dropped(drop_reason::recv_queue_full), std::uint64_t{streams} * (k - 2)) << drops_text(s);
    } else {
        EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    }
    EXPECT_GE(flips + 2, streams * n / flip_every) << "the controller fell behind the pacing";
    ::testing::Test::RecordProperty("mode_switches", static_cast<int>(flips));
    drain(s);
    expect_no_leaks(s);
}

TEST_P(StressTraffic, LiveModeSwitchesUnderTrafficLoseNothing) { run_mode_switches(GetParam(), false); }
TEST_P(StressTraffic, LiveModeSwitchesWithTinyRcvbufBalanceExactly) { run_mode_switches(GetParam(), true); }

// ---- netif add/remove and address changes under traffic --------------------------------

TEST_P(StressTraffic, NetifChurnUnderTraffic) {
    constexpr std::uint32_t pairs = 2;
    const auto n = static_cast<std::uint32_t>(scaled(5000));
    const int churn_rounds = scaled(300);
    const auto churn_ip_a = ip4_addr::from_octets(10, 1, 0, 1);
    const auto churn_ip_b = ip4_addr::from_octets(10, 2, 0, 1);
    const auto mask = ip4_addr::from_octets(255, 255, 255, 0);
    // The churn stream runs as long as the churn lasts (at most churn_attempts attempts;
    // most fail with EHOSTUNREACH while the netif is away), with at most `window`
    // datagrams sent but not yet received or counted as dropped — the queues and pools
    // have room for that, so its only drops are the churn's own.
    const std::size_t churn_attempts = 2000000;
    const std::uint64_t window = 512;
    stack_config cfg = roomy(GetParam(), pairs * n + 2 * window, std::max<std::size_t>(n, 2 * window));
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    tally t;
    seen_map seen(pairs + 1, std::max<std::size_t>(n, churn_attempts));
    std::vector<int> rx(pairs + 1), tx(pairs + 1);
    for (std::uint32_t i = 0; i <= pairs; ++i) {
        rx[i] = bound_socket(s, static_cast<std::uint16_t>(7240 + i));  // any address: also the churn netif's
        tx[i] = bound_socket(s);
        ASSERT_GT(rx[i], 0);
        ASSERT_GT(tx[i], 0);
    }
    std::vector<recv_result> rres(pairs + 1);
    std::vector<send_result> sres(pairs + 1);
    std::atomic<bool> churn_done{false}, churn_sender_done{false};
    std::atomic<std::uint64_t> churn_ok{0}, churn_rcvd{0};
    std::vector<std::thread> receivers, senders;
    for (std::uint32_t i = 0; i <= pairs; ++i)
        receivers.emplace_back([&, i] {
            rres[i] = receive_until_closed(s, rx[i], t, seen, i < pairs, nullptr, i == pairs ? &churn_rcvd : nullptr);
        });
    for (std::uint32_t i = 0; i < pairs; ++i)
        senders.emplace_back([&, i] {
            sres[i] = send_stream(s, tx[i], lo_sin(static_cast<std::uint16_t>(7240 + i)), i, n);
        });
    // The churn stream: to whichever address the churn netif may have, while it lasts.
    senders.emplace_back([&] {
        auto& r = sres[pairs];
        std::byte buf[512];
        for (std::uint32_t seq = 0; seq < churn_attempts && !churn_done.load(); ++seq) {
            // Flow control (also a live accounting check: a datagram that is neither
            // received nor counted as dropped would stall this until the watchdog fires).
            while (r.ok > churn_rcvd.load() + s.st().dropped_total() + window && !churn_done.load())
                std::this_thread::yield();
            const auto dst = sin_of(seq % 2 ? churn_ip_a : churn_ip_b, static_cast<std::uint16_t>(7240 + pairs));
            const std::size_t len = fill_tagged(buf, pairs, seq);
            if (lwip_sendto(s, tx[pairs], buf, len, 0, sa(dst), sizeof dst) == static_cast<ssize_t>(len)) {
                ++r.ok;
                churn_ok.fetch_add(1);
            } else {
                const int e = errno;
                ++r.failed[e];
                if (e != EHOSTUNREACH && e != ENETDOWN) {
                    ADD_FAILURE() << "churn send: errno " << e << " (" << std::strerror(e) << ")";
                    break;
                }
            }
        }
        churn_sender_done.store(true);
    });
    // Each churn step waits (without sleeping) until the churn stream got at least one
    // datagram through the second netif in its current state, so every add, address
    // change, down/up and removal happens while that traffic is flowing.
    const auto flowing = [&] {
        const std::uint64_t base = churn_ok.load();
        while (churn_ok.load() == base && !churn_sender_done.load()) std::this_thread::yield();
    };
    std::thread churn([&] {
        loopback_config lc;
        lc.name = "lo2";
        lc.ip = churn_ip_a;
        lc.netmask = mask;
        for (int i = 0; i < churn_rounds; ++i) {
            auto second = std::make_unique<loopback_netif>(s, lc);
            if (second->status() != err::ok) {
                ADD_FAILURE() << "adding the second netif: " << err_name(second->status());
                break;
            }
            netif* nif = &second->nif();
            flowing();
            EXPECT_EQ(netifapi_set_addr(s, nif, churn_ip_b, mask, {}), err::ok);
            flowing();
            EXPECT_EQ(netifapi_set_down(s, nif), err::ok);
            EXPECT_EQ(netifapi_set_up(s, nif), err::ok);
            EXPECT_EQ(netifapi_set_addr(s, nif, churn_ip_a, mask, {}), err::ok);
            flowing();
            if (i % 3 == 0) {
                EXPECT_EQ(netifapi_set_down(s, nif), err::ok);
            }
            second.reset();  // netifapi_remove (under traffic), then the memory goes
        }
        churn_done.store(true);
    });
    churn.join();
    for (auto& th : senders) th.join();
    std::uint64_t ok = 0;
    for (const auto& r : sres) ok += r.ok;
    drain(s);
    // With churn, drops also happen where the second netif vanished or changed under a
    // packet in flight; each is still counted exactly once.
    const std::uint64_t drops = s.st().dropped_total();
    const bool balanced = t.wait_for(ok - std::min(ok, drops), k_sanitized ? 120s : 30s);
    EXPECT_TRUE(balanced) << "ok " << ok << " received " << t.received() << " drops " << drops_text(s);
    for (int fd : rx) EXPECT_EQ(lwip_close(s, fd), 0);
    for (auto& th : receivers) th.join();
    for (int fd : tx) EXPECT_EQ(lwip_close(s, fd), 0);

    std::uint64_t received = 0;
    for (std::uint32_t i = 0; i <= pairs; ++i) {
        EXPECT_EQ(rres[i].end_errno, EBADF);
        EXPECT_EQ(rres[i].error, "") << "receiver " << i;
        received += rres[i].received;
    }
    for (std::uint32_t i = 0; i < pairs; ++i) {
        EXPECT_EQ(sres[i].ok, n) << "traffic on the first netif must be unaffected";
        EXPECT_EQ(rres[i].received, n) << "traffic on the first netif must be unaffected";
    }
    const auto& st = s.st();
    EXPECT_EQ(received + drops, ok) << drops_text(s);
    const std::uint64_t churn_drops = st.dropped(drop_reason::netif_removed) + st.dropped(drop_reason::ip_not_for_us) +
                                      st.dropped(drop_reason::ip_netif_down);
    EXPECT_EQ(drops, churn_drops + bounded_queue_drops(s)) << "unexpected drop reason: " << drops_text(s);
    EXPECT_EQ(bounded_queue_drops(s), 0u) << drops_text(s);
    std::ostringstream o;
    o << "churn stream: ok " << sres[pairs].ok;
    for (const auto& [e, c] : sres[pairs].failed) o << ", errno " << e << " x" << c;
    o << "; drops " << drops_text(s);
    ::testing::Test::RecordProperty("churn", o.str());
    std::printf("%s\n", o.str().c_str());
    std::size_t netifs_left = 0;
    ASSERT_EQ(s.call([&] {
        netifs_left = detail::stack_access::netifs(s).size();  // core state, read in core context
        return err::ok;
    }),
              err::ok);
    EXPECT_EQ(netifs_left, 1u) << "the second netif must be gone";
    drain(s);
    expect_no_leaks(s);
}

INSTANTIATE_TEST_SUITE_P(Representative, StressTraffic, ::testing::ValuesIn(stress_configs()), config_name);

}  // namespace
}  // namespace lwbench::test::it
