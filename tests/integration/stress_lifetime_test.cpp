// stress_lifetime_test.cpp — socket lifetime under concurrency: close() racing
// send/recv/poll/setsockopt on the same descriptor, and the descriptor-reuse hazard
// (a stale descriptor must never reach a socket opened after its close).
//
// Run over stress_configs() (8 representative configurations; see
// integration_support.hpp). ASan and TSan are the real judges here: any use after
// free or unsynchronised access in the socket table shows up as a report.
#include <latch>

#include "integration_support.hpp"

namespace lwbench::test::it {
namespace {

class StressLifetime : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(true)};
    stack s{GetParam()};
    loopback_netif lo{s};

    void SetUp() override { ASSERT_EQ(lo.status(), err::ok); }
};

// ---- close while other threads use the descriptor ---------------------------------------

TEST_P(StressLifetime, CloseWhileOthersSendRecvPollAndSetsockopt) {
    const int rounds = scaled(80);
    std::uint64_t total_sent = 0, total_received = 0;
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const int fd = bound_socket(s);
        ASSERT_GT(fd, 0);
        const std::uint16_t port = port_of(s, fd);
        // Odd rounds: receivers and the poller use short timeouts (timed waits racing
        // the close), even rounds: they block forever (only the close can wake them).
        const bool timed = round % 2 == 1;
        if (timed) {
            const timeval tv{0, 3000};
            ASSERT_EQ(lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
        }
        const auto self = lo_sin(port);
        std::atomic<std::uint64_t> sent{0}, received{0};
        std::atomic<int> recv_errno[2] = {0, 0}, send_errno[2] = {0, 0}, opt_errno{0};
        std::atomic<short> poll_end{0};
        std::latch ready(6);
        std::vector<std::thread> th;
        for (int i = 0; i < 2; ++i)
            th.emplace_back([&, i] {  // blocking receivers: must wake with EBADF
                ready.count_down();
                char buf[256];
                for (;;) {
                    if (lwip_recv(s, fd, buf, sizeof buf, 0) < 0) {
                        if (timed && errno == EAGAIN) continue;
                        recv_errno[i].store(errno);
                        return;
                    }
                    received.fetch_add(1);
                }
            });
        for (int i = 0; i < 2; ++i)
            th.emplace_back([&, i] {  // senders to the socket itself
                ready.count_down();
                for (;;) {
                    if (lwip_sendto(s, fd, "closing", 7, 0, sa(self), sizeof self) != 7) {
                        // ENOBUFS: the pbuf pool is momentarily exhausted by packets
                        // waiting in the tcpip mailbox (mailbox input): not the end.
                        if (errno == ENOBUFS) continue;
                        send_errno[i].store(errno);
                        return;
                    }
                    sent.fetch_add(1);
                }
            });
        th.emplace_back([&] {  // poller: POLLIN until POLLNVAL/POLLHUP
            ready.count_down();
            for (;;) {
                pollfd p{fd, POLLIN, 0};
                const int r = lwip_poll(s, &p, 1, timed ? 2 : -1);
                if (timed && r == 0) continue;
                if (r != 1) {
                    ADD_FAILURE() << "poll returned " << r;
                    return;
                }
                if (p.revents & (POLLNVAL | POLLHUP)) {
                    poll_end.store(p.revents);
                    return;
                }
                char c[16];
                if (lwip_recv(s, fd, c, sizeof c, MSG_DONTWAIT) >= 0) received.fetch_add(1);  // may race the receivers
            }
        });
        th.emplace_back([&] {  // option fiddler
            ready.count_down();
            for (int v = 1;; v = v % 200 + 1) {
                if (lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) {
                    opt_errno.store(errno);
                    return;
                }
                int back = 0;
                socklen_t len = sizeof back;
                if (lwip_getsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &back, &len) != 0) {
                    opt_errno.store(errno);
                    return;
                }
            }
        });
        ready.wait();
        // Vary the moment of the close without sleeping: after 0..15 successful sends.
        const std::uint64_t after = static_cast<std::uint64_t>(round % 16);
        while (sent.load() < after && send_errno[0].load() == 0 && send_errno[1].load() == 0)
            std::this_thread::yield();
        // Two closers race: exactly one wins, the other gets EBADF.
        std::atomic<int> close_ok{0}, close_ebadf{0};
        std::thread second_closer([&] {
            if (lwip_close(s, fd) == 0)
                close_ok.fetch_add(1);
            else if (errno == EBADF)
                close_ebadf.fetch_add(1);
        });
        if (lwip_close(s, fd) == 0)
            close_ok.fetch_add(1);
        else if (errno == EBADF)
            close_ebadf.fetch_add(1);
        second_closer.join();
        EXPECT_EQ(close_ok.load(), 1);
        EXPECT_EQ(close_ebadf.load(), 1);
        for (auto& t : th) t.join();
        for (int i = 0; i < 2; ++i) {
            EXPECT_EQ(recv_errno[i].load(), EBADF) << "receiver " << i;
            EXPECT_EQ(send_errno[i].load(), EBADF) << "sender " << i;
        }
        EXPECT_EQ(opt_errno.load(), EBADF);
        EXPECT_TRUE(poll_end.load() & (POLLNVAL | POLLHUP)) << "revents " << poll_end.load();
        total_sent += sent.load();
        total_received += received.load();
        if (HasFailure()) break;
    }
    drain(s);
    // Accounting that holds even with close racing traffic: every successful send was
    // transmitted; each either came in or was dropped at the full tcpip mailbox; each
    // arrival was delivered or found no socket (closed meanwhile).
    const auto& st = s.st();
    const std::uint64_t in_drops = st.dropped(drop_reason::input_queue_full);
    EXPECT_EQ(st.udp_xmit.get(), total_sent);
    EXPECT_EQ(st.ip_recv.get() + in_drops, total_sent) << drops_text(s);
    EXPECT_EQ(st.udp_recv.get() + st.dropped(drop_reason::udp_no_port) + in_drops, total_sent) << drops_text(s);
    EXPECT_EQ(st.dropped_total(), in_drops + st.dropped(drop_reason::udp_no_port) +
                                      st.dropped(drop_reason::recv_queue_full) + st.dropped(drop_reason::recv_closed))
        << drops_text(s);
    // Every delivered datagram was read, dropped at a full receive queue, or still
    // queued when its socket was closed (recv_closed): exact, even with close racing.
    EXPECT_EQ(total_received + st.dropped(drop_reason::recv_queue_full) + st.dropped(drop_reason::recv_closed),
              st.udp_delivered.get())
        << drops_text(s);
    expect_no_leaks(s);
}

// ---- descriptor reuse: the classic lwIP hazard, step by step -----------------------------

TEST_P(StressLifetime, StaleDescriptorNeverReachesTheSocketOpenedAfterItsClose) {
    const int sink = bound_socket(s, 7300);
    ASSERT_GT(sink, 0);
    const int rounds = scaled(60);
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const int s1 = bound_socket(s);
        ASSERT_GT(s1, 0);
        int s2 = -1;
        std::latch closed(1), reopened(1);
        const auto to_s2 = lo_sin(7301);
        const auto to_sink = lo_sin(7300);
        std::thread a([&] {  // A holds s1 and uses it after B closed it and C opened s2
            reopened.wait();
            char buf[16];
            int v = 1;
            socklen_t vl = sizeof v;
            EXPECT_TRUE(fails_with(lwip_sendto(s, s1, "stale", 5, 0, sa(to_s2), sizeof to_s2), EBADF));
            EXPECT_TRUE(fails_with(lwip_sendto(s, s1, "stale", 5, 0, sa(to_sink), sizeof to_sink), EBADF));
            EXPECT_TRUE(fails_with(lwip_recv(s, s1, buf, sizeof buf, MSG_DONTWAIT), EBADF));
            EXPECT_TRUE(fails_with(lwip_connect(s, s1, sa(to_sink), sizeof to_sink), EBADF));
            EXPECT_TRUE(fails_with(lwip_setsockopt(s, s1, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), EBADF));
            EXPECT_TRUE(fails_with(lwip_getsockopt(s, s1, SOL_SOCKET, SO_RCVBUF, &v, &vl), EBADF));
            pollfd p{s1, POLLIN, 0};
            EXPECT_EQ(lwip_poll(s, &p, 1, 0), 1);
            EXPECT_EQ(p.revents, POLLNVAL);
            EXPECT_TRUE(fails_with(lwip_close(s, s1), EBADF)) << "a stale close must not close s2";
        });
        std::thread b([&] {  // B closes s1
            EXPECT_EQ(lwip_close(s, s1), 0);
            closed.count_down();
        });
        std::thread c([&] {  // C opens s2 after the close (a new descriptor, never s1 again)
            closed.wait();
            s2 = bound_socket(s, 7301);
            reopened.count_down();
        });
        a.join();
        b.join();
        c.join();
        ASSERT_GT(s2, 0);
        EXPECT_NE(s1, s2);
        drain(s);
        char buf[16];
        errno = 0;
        EXPECT_EQ(lwip_recv(s, s2, buf, sizeof buf, MSG_DONTWAIT), -1) << "s2 received something from A";
        EXPECT_EQ(errno, EWOULDBLOCK);
        errno = 0;
        EXPECT_EQ(lwip_recv(s, sink, buf, sizeof buf, MSG_DONTWAIT), -1) << "a stale send went out";
        EXPECT_EQ(errno, EWOULDBLOCK);
        // s2 is intact after A's stale calls (still open, still bound, not connected).
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ASSERT_EQ(lwip_sendto(s, s2, "s2", 2, 0, sa(to_sink), sizeof to_sink), 2) << "errno " << errno;
        ASSERT_EQ(lwip_recvfrom(s, sink, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl), 2);
        EXPECT_EQ(ntohs(from.sin_port), 7301);
        errno = 0;
        EXPECT_EQ(lwip_send(s, s2, "x", 1, 0), -1) << "A's stale connect reached s2";
        EXPECT_EQ(errno, EDESTADDRREQ);
        EXPECT_EQ(lwip_close(s, s2), 0);
        if (HasFailure()) break;
    }
    EXPECT_EQ(lwip_close(s, sink), 0);
    drain(s);
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    expect_no_leaks(s);
}

// ---- descriptor reuse while the stale holder keeps sending ---------------------------------

TEST_P(StressLifetime, StaleSenderRacingCloseAndReopenNeverUsesTheNewSocket) {
    const int sink = bound_socket(s, 7310);
    ASSERT_GT(sink, 0);
    ASSERT_EQ(set_rcvbuf(s, sink, static_cast<int>(s.config().recv_queue_depth)), 0);
    const int rounds = scaled(150);
    for (int round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const int s1 = bound_socket(s);
        ASSERT_GT(s1, 0);
        const std::uint16_t p1 = port_of(s, s1);
        std::atomic<std::uint64_t> a_ok{0};
        std::atomic<int> s2{-1};
        std::atomic<bool> a_saw_ebadf{false}, b_closed{false};
        const auto to_sink = lo_sin(7310);
        std::thread a([&] {
            int after_ebadf = 0;
            while (after_ebadf < 20) {
                const ssize_t r = lwip_sendto(s, s1, "A", 1, 0, sa(to_sink), sizeof to_sink);
                if (r == 1) {
                    EXPECT_FALSE(a_saw_ebadf.load()) << "a send succeeded on s1 after it had failed with EBADF";
                    // Keep the sink's queue from overflowing: past 200, wait for B's close.
                    if (a_ok.fetch_add(1) + 1 >= 200)
                        while (!b_closed.load()) std::this_thread::yield();
                } else {
                    EXPECT_EQ(errno, EBADF);
                    a_saw_ebadf.store(true);
                    ++after_ebadf;
                }
            }
        });
        std::thread bc([&] {  // B closes once A is under way; C (same thread, at once) reopens
            while (a_ok.load() < static_cast<std::uint64_t>(round % 8)) std::this_thread::yield();
            EXPECT_EQ(lwip_close(s, s1), 0);
            b_closed.store(true);
            const int fd = bound_socket(s, 7311);
            s2.store(fd);
            for (int i = 0; i < 3; ++i)  // C's own traffic, marked "C"
                EXPECT_EQ(lwip_sendto(s, fd, "C", 1, 0, sa(to_sink), sizeof to_sink), 1);
        });
        a.join();
        bc.join();
        ASSERT_GT(s2.load(), 0);
        EXPECT_NE(s1, s2.load());
        drain(s);
        // Everything at the sink: A's datagrams only from s1's port, C's only from s2's.
        std::uint64_t from_a = 0, from_c = 0;
        for (;;) {
            char c = 0;
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            if (lwip_recvfrom(s, sink, &c, 1, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl) != 1) break;
            if (c == 'A') {
                EXPECT_EQ(ntohs(from.sin_port), p1) << "A's stale descriptor sent through another socket";
                ++from_a;
            } else {
                EXPECT_EQ(c, 'C');
                EXPECT_EQ(ntohs(from.sin_port), 7311);
                ++from_c;
            }
        }
        EXPECT_EQ(errno, EWOULDBLOCK);
        EXPECT_EQ(from_a, a_ok.load());
        EXPECT_EQ(from_c, 3u);
        EXPECT_EQ(lwip_close(s, s2.load()), 0);
        if (HasFailure()) break;
    }
    EXPECT_EQ(lwip_close(s, sink), 0);
    drain(s);
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    expect_no_leaks(s);
}

INSTANTIATE_TEST_SUITE_P(Representative, StressLifetime, ::testing::ValuesIn(stress_configs()), config_name);

}  // namespace
}  // namespace lwbench::test::it
