// behaviour_test.cpp — what the APIs do, under every configuration of all_configs() (stack_fixture.hpp)
// (threading mode × input mode × mailbox kind × lock kind). Every assertion is an
// exact value, so passing everywhere means the results are identical everywhere.
// Every test closes everything and then checks that no pbuf leaked (TearDown).
#include <sys/ioctl.h>

#include <latch>

#include "integration_support.hpp"

namespace lwbench::test::it {
namespace {

class Behaviour : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(false)};  // first: outlives the stack's teardown
    stack s{GetParam()};
    loopback_netif lo{s};
    std::vector<int> fds;             // sockets still to close at the end
    std::uint64_t expected_drops = 0;  // drops the test deliberately caused

    void SetUp() override { ASSERT_EQ(lo.status(), err::ok); }

    void TearDown() override {
        for (int fd : fds) EXPECT_EQ(lwip_close(s, fd), 0) << "fd " << fd;
        fds.clear();
        drain(s);
        EXPECT_EQ(s.st().dropped_total(), expected_drops) << drops_text(s);
        expect_no_leaks(s);
    }

    int sock(std::uint16_t port = 0) {
        const int fd = bound_socket(s, port);
        EXPECT_GT(fd, 0) << "errno " << errno;
        if (fd > 0) fds.push_back(fd);
        return fd;
    }
    int unbound_sock() {
        const int fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
        EXPECT_GT(fd, 0) << "errno " << errno;
        if (fd > 0) fds.push_back(fd);
        return fd;
    }
    void close_now(int fd) {
        EXPECT_EQ(lwip_close(s, fd), 0);
        std::erase(fds, fd);
    }
    ssize_t send_to(int from, std::uint16_t port, const void* buf, std::size_t n) {
        const auto a = lo_sin(port);
        return lwip_sendto(s, from, buf, n, 0, sa(a), sizeof a);
    }
};

// ---- round trips ---------------------------------------------------------------------------

TEST_P(Behaviour, SocketSendtoRecvfromRoundTripKeepsContentAndSource) {
    const int rx = sock(7001);
    const int tx = sock();
    const std::uint16_t tx_port = port_of(s, tx);
    ASSERT_NE(tx_port, 0);
    for (const std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{1472}}) {
        const auto out = make_payload(n, static_cast<std::uint32_t>(n));
        ASSERT_EQ(send_to(tx, 7001, out.data(), n), static_cast<ssize_t>(n)) << "errno " << errno;
        std::vector<std::byte> in(2048);
        sockaddr_in from{};
        socklen_t fromlen = sizeof from;
        const ssize_t got = lwip_recvfrom(s, rx, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
        ASSERT_EQ(got, static_cast<ssize_t>(n)) << "errno " << errno;
        EXPECT_EQ(0, std::memcmp(in.data(), out.data(), n));
        EXPECT_EQ(fromlen, sizeof(sockaddr_in));
        EXPECT_EQ(from.sin_family, AF_INET);
        EXPECT_EQ(ntohs(from.sin_port), tx_port);
        EXPECT_EQ(from.sin_addr.s_addr, k_lo_ip.addr);
    }
    EXPECT_EQ(s.st().udp_xmit.get(), 3u);
    EXPECT_EQ(s.st().udp_delivered.get(), 3u);
}

TEST_P(Behaviour, SocketConnectedSendAndEmptyDatagram) {
    const int rx = sock(7002);
    const int tx = sock();
    const auto a = lo_sin(7002);
    ASSERT_EQ(lwip_connect(s, tx, sa(a), sizeof a), 0);
    const char msg[] = "hello, core";
    ASSERT_EQ(lwip_send(s, tx, msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
    ASSERT_EQ(lwip_send(s, tx, nullptr, 0, 0), 0) << "errno " << errno;  // an empty datagram is a datagram
    char in[64] = {};
    ASSERT_EQ(lwip_recv(s, rx, in, sizeof in, 0), static_cast<ssize_t>(sizeof msg));
    EXPECT_STREQ(in, msg);
    EXPECT_EQ(lwip_recv(s, rx, in, sizeof in, 0), 0);
    // MSG_TRUNC reports the real length of a datagram larger than the buffer.
    ASSERT_EQ(lwip_send(s, tx, msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
    EXPECT_EQ(lwip_recv(s, rx, in, 4, MSG_TRUNC), static_cast<ssize_t>(sizeof msg));
}

TEST_P(Behaviour, NetconnSendRecvWithAllocAndStableRefIsZeroCopy) {
    netconn* rx = netconn_new(s);
    netconn* tx = netconn_new(s);
    ASSERT_NE(rx, nullptr);
    ASSERT_NE(tx, nullptr);
    ASSERT_EQ(netconn_bind(rx, ip4_addr::any(), 7003), err::ok);
    ASSERT_EQ(netconn_bind(tx, ip4_addr::any(), 0), err::ok);
    auto tx_addr = netconn_getaddr(tx, true);
    ASSERT_TRUE(tx_addr.ok());
    const std::uint64_t copies0 = s.st().payload_copies.get();

    // 1. netbuf.alloc: the application writes into the pbuf; the receiver reads it in place.
    const auto out = make_payload(600, 3);
    {
        netbuf nb;
        ASSERT_EQ(nb.alloc(s, out.size()), err::ok);
        ASSERT_EQ(nb.p->len, out.size());  // fits one pool element
        std::memcpy(nb.data(), out.data(), out.size());
        ASSERT_EQ(netconn_sendto(tx, nb, k_lo_ip, 7003), err::ok);
    }
    {
        auto r = netconn_recv(rx);
        ASSERT_TRUE(r.ok()) << err_name(r.error());
        ASSERT_EQ(r->len(), out.size());
        ASSERT_EQ(r->p->len, out.size());
        EXPECT_EQ(0, std::memcmp(r->data(), out.data(), out.size()));
        EXPECT_EQ(r->addr, k_lo_ip);
        EXPECT_EQ(r->port, tx_addr->second);
    }
    // 2. netbuf.ref over stable memory, connected send: the receiver sees our very bytes.
    struct release_count {
        std::atomic<int> n{0};
    } released;
    static const auto stable = make_payload(900, 4);
    ASSERT_EQ(netconn_connect(tx, k_lo_ip, 7003), err::ok);
    {
        netbuf nb;
        ASSERT_EQ(nb.ref(
                      s, stable.data(), stable.size(), /*stable=*/true,
                      [](void* arg, const void*) { static_cast<release_count*>(arg)->n.fetch_add(1); }, &released),
                  err::ok);
        ASSERT_EQ(netconn_send(tx, nb), err::ok);
    }
    {
        auto r = netconn_recv(rx);
        ASSERT_TRUE(r.ok()) << err_name(r.error());
        ASSERT_EQ(r->len(), stable.size());
        EXPECT_EQ(static_cast<const void*>(r->data()), static_cast<const void*>(stable.data()))
            << "zero copy: the receiver holds the sender's memory";
        EXPECT_EQ(0, std::memcmp(r->data(), stable.data(), stable.size()));
        EXPECT_EQ(released.n.load(), 0) << "released while the receiver still holds it";
    }
    EXPECT_EQ(released.n.load(), 1);
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 0u) << "netconn alloc/stable-ref paths must not copy";

    // 3. A volatile reference must be copied exactly once (the loopback keeps it past the call).
    {
        const auto vol = make_payload(300, 5);
        netbuf nb;
        ASSERT_EQ(nb.ref(s, vol.data(), vol.size(), /*stable=*/false), err::ok);
        ASSERT_EQ(netconn_send(tx, nb), err::ok);
    }
    {
        auto r = netconn_recv(rx);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->len(), 300u);
        const auto vol = make_payload(300, 5);
        std::vector<std::byte> in(300);
        EXPECT_EQ(r->copy_to(in.data(), in.size()), 300u);
        EXPECT_EQ(in, vol);
    }
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 2u) << "one clone by the loopback + our copy_to";
    EXPECT_EQ(lo.volatile_clones(), 1u);

    EXPECT_EQ(netconn_delete(tx), err::ok);
    EXPECT_EQ(netconn_delete(rx), err::ok);
}

TEST_P(Behaviour, NetconnRecvTimeoutNonblockingAndClose) {
    netconn* c = netconn_new(s);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(netconn_bind(c, ip4_addr::any(), 7004), err::ok);
    EXPECT_EQ(netconn_recv(c, /*dontwait=*/true).error(), err::wouldblock);
    netconn_set_nonblocking(c, true);
    EXPECT_EQ(netconn_recv(c).error(), err::wouldblock);
    netconn_set_nonblocking(c, false);
    netconn_set_recvtimeout(c, 20);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(netconn_recv(c).error(), err::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
    netconn_set_recvtimeout(c, 0);
    // A receiver blocked forever wakes with clsd when another thread closes the netconn.
    std::latch started(1);
    err seen = err::ok;
    std::thread t([&] {
        started.count_down();
        seen = netconn_recv(c).error();
    });
    started.wait();
    EXPECT_EQ(netconn_close(c), err::ok);
    t.join();
    EXPECT_EQ(seen, err::clsd);
    EXPECT_EQ(netconn_bind(c, ip4_addr::any(), 7005), err::clsd);
    EXPECT_EQ(netconn_close(c), err::ok) << "closing twice is allowed";
    EXPECT_EQ(netconn_delete(c), err::ok);
}

TEST_P(Behaviour, RawSendFromCoreGuardReachesRawRecvCallback) {
    raw_sink sink;
    ASSERT_EQ(sink.open(s, 7006), err::ok);
    const auto out = make_payload(1000, 6);
    const std::uint64_t copies0 = s.st().payload_copies.get();
    std::uint16_t src_port = 0;
    {
        core_guard g(s);
        udp_pcb* pcb = udp_new(s);
        ASSERT_NE(pcb, nullptr);
        ASSERT_EQ(udp_bind(pcb, ip4_addr::any(), 0), err::ok);
        src_port = pcb->local_port;
        pbuf* p = pbuf_alloc(s, pbuf_layer::transport, out.size(), pbuf_type::pool);
        ASSERT_NE(p, nullptr);
        std::memcpy(p->payload, out.data(), out.size());
        EXPECT_EQ(udp_sendto(pcb, p, k_lo_ip, 7006), err::ok);
        pbuf_free(p);
        udp_remove(pcb);
        EXPECT_EQ(sink.count.load(), 0u) << "delivered by recursion inside udp_sendto";
    }  // delivered when the core operation ends (inline) or via the mailbox
    drain(s);
    EXPECT_EQ(sink.count.load(), 1u);
    {
        std::lock_guard lk(sink.m);
        EXPECT_EQ(sink.last_payload, out);
        EXPECT_EQ(sink.last_src, k_lo_ip);
        EXPECT_EQ(sink.last_src_port, src_port);
    }
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 0u) << "raw path over the loopback is zero-copy";
    sink.close(s);
}

// ---- timeouts, non-blocking, poll -------------------------------------------------------------

TEST_P(Behaviour, RecvTimeoutReturnsEagainNotBeforeTheDeadline) {
    const int rx = sock(7010);
    const timeval tv{0, 60 * 1000};
    ASSERT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    timeval back{};
    socklen_t len = sizeof back;
    ASSERT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &back, &len), 0);
    EXPECT_EQ(back.tv_sec, 0);
    EXPECT_EQ(back.tv_usec, 60 * 1000);
    char buf[16];
    const auto t0 = std::chrono::steady_clock::now();
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 60ms) << "returned before the deadline";
    EXPECT_LT(waited, 10s);
    for (const int ms : {1, 7}) {  // short timeouts are not rounded down either
        const timeval t{0, ms * 1000};
        ASSERT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t), 0);
        const auto t1 = std::chrono::steady_clock::now();
        errno = 0;
        EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), -1);
        EXPECT_EQ(errno, EAGAIN);
        EXPECT_GE(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(ms));
    }
    // The timeout does not hide data that is there.
    const int tx = sock();
    ASSERT_EQ(send_to(tx, 7010, "x", 1), 1);
    drain(s);  // delivered (mailbox input), so the 7 ms timeout cannot expire first on a loaded machine
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), 1);
}

TEST_P(Behaviour, RcvtimeoIsNotShortenedByItsConversion) {
    const int rx = sock(7014);
    char buf[4];
    // Sub-millisecond part: 1.5 ms must not become 1 ms.
    const timeval t15{0, 1500};
    ASSERT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &t15, sizeof t15), 0);
    const auto t0 = std::chrono::steady_clock::now();
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1500us) << "SO_RCVTIMEO of 1.5 ms expired early";
    // A long timeout (about 49.7 days) must stay long: not wrap to a short one when
    // the milliseconds do not fit an int. getsockopt shows what the socket will wait.
    const timeval huge{4294968, 0};
    ASSERT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &huge, sizeof huge), 0);
    timeval back{};
    socklen_t len = sizeof back;
    ASSERT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &back, &len), 0);
    EXPECT_GE(back.tv_sec, 24 * 24 * 3600) << "a ~49.7-day SO_RCVTIMEO became " << back.tv_sec << " s "
                                           << back.tv_usec << " us";
}

TEST_P(Behaviour, NonBlockingRecvWithDontwaitFionbioAndSockNonblock) {
    const int rx = sock(7011);
    char buf[16];
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
    int on = 1;
    ASSERT_EQ(lwip_ioctl(s, rx, FIONBIO, &on), 0);
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
    // Data waiting: non-blocking receive returns it.
    const int tx = sock();
    ASSERT_EQ(send_to(tx, 7011, "ab", 2), 2);
    drain(s);
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), 2);
    int off = 0;
    ASSERT_EQ(lwip_ioctl(s, rx, FIONBIO, &off), 0);
    ASSERT_EQ(send_to(tx, 7011, "c", 1), 1);
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), 1);  // blocking again, data there
    // SOCK_NONBLOCK at creation.
    const int nb = lwip_socket(s, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ASSERT_GT(nb, 0);
    fds.push_back(nb);
    errno = 0;
    EXPECT_EQ(lwip_recv(s, nb, buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
    // Unsupported flags and ioctls.
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, MSG_PEEK), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(lwip_ioctl(s, rx, FIONREAD + 0x1000, &on), -1);
    EXPECT_EQ(errno, ENOTTY);
}

TEST_P(Behaviour, PollReportsPollinTimeoutAndPollnval) {
    const int rx = sock(7012);
    const int tx = sock();
    pollfd p{rx, POLLIN, 0};
    EXPECT_EQ(lwip_poll(s, &p, 1, 0), 0);
    EXPECT_EQ(p.revents, 0);
    EXPECT_EQ(lwip_poll(s, &p, 1, 5), 0);
    EXPECT_EQ(p.revents, 0);
    ASSERT_EQ(send_to(tx, 7012, "x", 1), 1);
    drain(s);
    EXPECT_EQ(lwip_poll(s, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLIN);
    pollfd both{rx, POLLIN | POLLOUT, 0};
    EXPECT_EQ(lwip_poll(s, &both, 1, -1), 1);
    EXPECT_EQ(both.revents, POLLIN | POLLOUT);
    char c;
    ASSERT_EQ(lwip_recv(s, rx, &c, 1, 0), 1);
    EXPECT_EQ(lwip_poll(s, &p, 1, 0), 0);
    // Bad, stale and negative descriptors.
    const int dead = unbound_sock();
    close_now(dead);
    pollfd v[4] = {{12345678, POLLIN, 0}, {dead, POLLIN, 0}, {-1, POLLIN, 0}, {rx, POLLIN, 0}};
    EXPECT_EQ(lwip_poll(s, v, 4, 0), 2);
    EXPECT_EQ(v[0].revents, POLLNVAL);
    EXPECT_EQ(v[1].revents, POLLNVAL);
    EXPECT_EQ(v[2].revents, 0);
    EXPECT_EQ(v[3].revents, 0);
    // A poller blocked forever is woken by a datagram from another thread.
    std::latch polling(1);
    int ready = -2;
    short revents = 0;
    std::thread t([&] {
        pollfd w{rx, POLLIN, 0};
        polling.count_down();
        ready = lwip_poll(s, &w, 1, -1);
        revents = w.revents;
    });
    polling.wait();
    ASSERT_EQ(send_to(tx, 7012, "y", 1), 1);
    t.join();
    EXPECT_EQ(ready, 1);
    EXPECT_EQ(revents, POLLIN);
    ASSERT_EQ(lwip_recv(s, rx, &c, 1, 0), 1);  // read it: unread data at close is a counted drop
}

TEST_P(Behaviour, PollTimeoutDoesNotExpireEarly) {
    // POSIX: the timeout is a minimum. A poll with nothing to report must not return 0
    // before timeout_ms has passed.
    const int rx = sock(7013);
    for (const int ms : {1, 7, 30}) {
        pollfd p{rx, POLLIN, 0};
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ(lwip_poll(s, &p, 1, ms), 0);
        const auto waited = std::chrono::steady_clock::now() - t0;
        EXPECT_GE(waited, std::chrono::milliseconds(ms)) << "poll(" << ms << " ms) returned early";
        EXPECT_LT(waited, 10s);
    }
}

// ---- errno ------------------------------------------------------------------------------

TEST_P(Behaviour, ErrnoBadAndClosedDescriptors) {
    const int fd = unbound_sock();
    close_now(fd);
    char buf[8] = {};
    const auto a = lo_sin(7020);
    int v = 1;
    socklen_t vl = sizeof v;
    for (const int bad : {fd, 0, -1, 1, 999999, fd + 1024}) {
        SCOPED_TRACE("fd " + std::to_string(bad));
        errno = 0;
        EXPECT_EQ(lwip_sendto(s, bad, buf, 1, 0, sa(a), sizeof a), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_send(s, bad, buf, 1, 0), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_recv(s, bad, buf, sizeof buf, MSG_DONTWAIT), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_bind(s, bad, sa(a), sizeof a), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_connect(s, bad, sa(a), sizeof a), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_setsockopt(s, bad, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_getsockopt(s, bad, SOL_SOCKET, SO_RCVBUF, &v, &vl), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_ioctl(s, bad, FIONBIO, &v), -1);
        EXPECT_EQ(errno, EBADF);
        errno = 0;
        EXPECT_EQ(lwip_close(s, bad), -1);
        EXPECT_EQ(errno, EBADF);
    }
}

TEST_P(Behaviour, ErrnoAddressFamilyAddressInUseDestAddrReq) {
    errno = 0;
    EXPECT_EQ(lwip_socket(s, AF_INET6, SOCK_DGRAM, 0), -1);
    EXPECT_EQ(errno, EAFNOSUPPORT);
    errno = 0;
    EXPECT_EQ(lwip_socket(s, AF_INET, SOCK_RAW, 0), -1);
    EXPECT_EQ(errno, EPROTONOSUPPORT);

    const int a = sock(7021);
    const int b = unbound_sock();
    sockaddr_in bad = lo_sin(7022);
    bad.sin_family = AF_INET6;
    errno = 0;
    EXPECT_EQ(lwip_bind(s, b, sa(bad), sizeof bad), -1);
    EXPECT_EQ(errno, EAFNOSUPPORT);
    errno = 0;
    EXPECT_EQ(lwip_sendto(s, b, "x", 1, 0, sa(bad), sizeof bad), -1);
    EXPECT_EQ(errno, EAFNOSUPPORT);

    const auto same = sin_of(ip4_addr::any(), 7021);
    errno = 0;
    EXPECT_EQ(lwip_bind(s, b, sa(same), sizeof same), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    const auto lo_same = lo_sin(7021);
    errno = 0;
    EXPECT_EQ(lwip_bind(s, b, sa(lo_same), sizeof lo_same), -1) << "any-bound 7021 covers 127.0.0.1:7021";
    EXPECT_EQ(errno, EADDRINUSE);

    errno = 0;
    EXPECT_EQ(lwip_send(s, a, "x", 1, 0), -1);
    EXPECT_EQ(errno, EDESTADDRREQ);
    errno = 0;
    EXPECT_EQ(lwip_send(s, b, "x", 1, 0), -1);
    EXPECT_EQ(errno, EDESTADDRREQ);
    EXPECT_EQ(s.st().udp_xmit.get(), 0u);
    // connect, send, then disconnect (AF_UNSPEC): unconnected again.
    const auto peer = lo_sin(7021);
    ASSERT_EQ(lwip_connect(s, b, sa(peer), sizeof peer), 0);
    EXPECT_EQ(lwip_send(s, b, "x", 1, 0), 1);
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    ASSERT_EQ(lwip_connect(s, b, &unspec, sizeof unspec), 0);
    errno = 0;
    EXPECT_EQ(lwip_send(s, b, "x", 1, 0), -1);
    EXPECT_EQ(errno, EDESTADDRREQ);
    char c;
    EXPECT_EQ(lwip_recv(s, a, &c, 1, 0), 1);
}

TEST_P(Behaviour, ErrnoTooManySocketsAndCapacityComesBack) {
    const auto max = static_cast<int>(GetParam().max_sockets);
    for (int i = 0; i < max; ++i) ASSERT_GT(unbound_sock(), 0) << "socket " << i;
    errno = 0;
    EXPECT_EQ(lwip_socket(s, AF_INET, SOCK_DGRAM, 0), -1);
    EXPECT_EQ(errno, EMFILE);
    const int victim = fds[static_cast<std::size_t>(max / 2)];
    close_now(victim);
    const int again = unbound_sock();
    ASSERT_GT(again, 0);
    EXPECT_NE(again, victim) << "a descriptor is never issued twice";
    errno = 0;
    EXPECT_EQ(lwip_socket(s, AF_INET, SOCK_DGRAM, 0), -1) << "full again";
    EXPECT_EQ(errno, EMFILE);
}

TEST_P(Behaviour, ErrnoMessageSizeAndBadOptlen) {
    const int rx = sock(7023);
    const int tx = sock();
    std::vector<std::byte> big(70000);
    errno = 0;
    EXPECT_EQ(send_to(tx, 7023, big.data(), 1473), -1) << "1473 + 28 > MTU 1500";
    EXPECT_EQ(errno, EMSGSIZE);
    errno = 0;
    EXPECT_EQ(send_to(tx, 7023, big.data(), k_max_udp_payload + 1), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    errno = 0;
    EXPECT_EQ(send_to(tx, 7023, big.data(), big.size()), -1);
    EXPECT_EQ(errno, EMSGSIZE);
    errno = 0;
    EXPECT_EQ(send_to(tx, 7023, big.data(), k_max_udp_payload), -1) << "no fragmentation";
    EXPECT_EQ(errno, EMSGSIZE);
    EXPECT_EQ(send_to(tx, 7023, big.data(), 1472), 1472) << "errno " << errno;
    EXPECT_EQ(s.st().udp_xmit.get(), 1u);
    std::vector<std::byte> in(2000);
    EXPECT_EQ(lwip_recv(s, rx, in.data(), in.size(), 0), 1472);

    const timeval tv{1, 0};
    const int depth = 4;
    errno = 0;
    EXPECT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv - 1), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &depth, 2), -1);
    EXPECT_EQ(errno, EINVAL);
    const int zero = 0;
    errno = 0;
    EXPECT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &zero, sizeof zero), -1);
    EXPECT_EQ(errno, EINVAL);
    int out = 0;
    socklen_t small = 2;
    errno = 0;
    EXPECT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &out, &small), -1);
    EXPECT_EQ(errno, EINVAL);
    timeval tout{};
    socklen_t tl = sizeof tout - 1;
    errno = 0;
    EXPECT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &tout, &tl), -1);
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(lwip_setsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &depth, sizeof depth), 0);
    int type = 0;
    socklen_t type_len = sizeof type;
    EXPECT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_TYPE, &type, &type_len), 0);
    EXPECT_EQ(type, SOCK_DGRAM);
    errno = 0;
    EXPECT_EQ(lwip_setsockopt(s, rx, IPPROTO_IP, SO_RCVBUF, &depth, sizeof depth), -1);
    EXPECT_EQ(errno, ENOPROTOOPT);
}

// ---- bounded receive queue and copy counts -------------------------------------------------

TEST_P(Behaviour, RcvbufDepthTwoDropsAndCountsTheThird) {
    const int rx = sock(7030);
    const int tx = sock();
    ASSERT_EQ(set_rcvbuf(s, rx, 2), 0);
    int depth = 0;
    socklen_t len = sizeof depth;
    ASSERT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &depth, &len), 0);
    EXPECT_EQ(depth, 2);
    for (std::uint8_t i = 0; i < 3; ++i) ASSERT_EQ(send_to(tx, 7030, &i, 1), 1);
    drain(s);
    EXPECT_EQ(s.st().dropped(drop_reason::recv_queue_full), 1u);
    EXPECT_EQ(s.st().udp_delivered.get(), 3u);
    expected_drops = 1;
    std::uint8_t got = 0xff;
    ASSERT_EQ(lwip_recv(s, rx, &got, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(got, 0);
    ASSERT_EQ(lwip_recv(s, rx, &got, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(got, 1);
    errno = 0;
    EXPECT_EQ(lwip_recv(s, rx, &got, 1, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EWOULDBLOCK);
    // Room again: the next datagram is queued.
    const std::uint8_t four = 4;
    ASSERT_EQ(send_to(tx, 7030, &four, 1), 1);
    drain(s);
    ASSERT_EQ(lwip_recv(s, rx, &got, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(got, 4);
    EXPECT_EQ(s.st().dropped(drop_reason::recv_queue_full), 1u);
}

TEST_P(Behaviour, SocketSendPlusRecvIsExactlyTwoCopiesPerDatagram) {
    const int rx = sock(7031);
    const int tx = sock();
    const std::uint64_t copies0 = s.st().payload_copies.get();
    const std::uint64_t bytes0 = s.st().payload_copy_bytes.get();
    constexpr int n = 10;
    std::size_t total = 0;
    for (int i = 0; i < n; ++i) {
        const auto out = make_payload(100 + static_cast<std::size_t>(i) * 100, static_cast<std::uint32_t>(i));
        ASSERT_EQ(send_to(tx, 7031, out.data(), out.size()), static_cast<ssize_t>(out.size()));
        std::vector<std::byte> in(2000);
        ASSERT_EQ(lwip_recv(s, rx, in.data(), in.size(), 0), static_cast<ssize_t>(out.size()));
        in.resize(out.size());
        EXPECT_EQ(in, out);
        total += out.size();
    }
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 2u * n);
    EXPECT_EQ(s.st().payload_copy_bytes.get() - bytes0, 2u * total);
    EXPECT_EQ(lo.volatile_clones(), 0u);
}

// ---- a raw echo server answering from its recv callback --------------------------------

TEST_P(Behaviour, RawEchoFromRecvCallbackIsDeliveredWithoutRecursion) {
    // The callback replies with udp_sendto from core context: the reply is queued and
    // delivered after the current core operation, never by recursion.
    struct echo_state {
        udp_pcb* pcb = nullptr;
        std::atomic<int> depth{0}, max_depth{0}, echoed{0};
    } echo;
    {
        core_guard g(s);
        echo.pcb = udp_new(s);
        ASSERT_NE(echo.pcb, nullptr);
        ASSERT_EQ(udp_bind(echo.pcb, ip4_addr::any(), 7050), err::ok);
        udp_recv(
            echo.pcb,
            [](void* arg, udp_pcb* pcb, pbuf* p, ip4_addr src, std::uint16_t port) {
                auto* e = static_cast<echo_state*>(arg);
                const int d = e->depth.fetch_add(1) + 1;
                if (d > e->max_depth.load()) e->max_depth.store(d);
                if (udp_sendto(pcb, p, src, port) == err::ok) e->echoed.fetch_add(1);  // same pbuf back: zero copy
                pbuf_free(p);
                e->depth.fetch_sub(1);
            },
            &echo);
    }
    const int c = sock();
    const std::uint64_t copies0 = s.st().payload_copies.get();
    for (int i = 0; i < 20; ++i) {
        const auto out = make_payload(64 + static_cast<std::size_t>(i), static_cast<std::uint32_t>(i));
        ASSERT_EQ(send_to(c, 7050, out.data(), out.size()), static_cast<ssize_t>(out.size()));
        std::vector<std::byte> in(256);
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ASSERT_EQ(lwip_recvfrom(s, c, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl),
                  static_cast<ssize_t>(out.size()));
        in.resize(out.size());
        EXPECT_EQ(in, out);
        EXPECT_EQ(ntohs(from.sin_port), 7050);
    }
    EXPECT_EQ(echo.echoed.load(), 20);
    EXPECT_EQ(echo.max_depth.load(), 1) << "the echo recursed into the recv callback";
    EXPECT_EQ(s.st().payload_copies.get() - copies0, 40u) << "only the client's sendto/recv copies";
    core_guard g(s);
    udp_remove(echo.pcb);
}

// ---- each bounded resource, exhausted on purpose ------------------------------------------

class Limits : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(false)};
};

TEST_P(Limits, LoopbackQueueFullFailsTheSendWithEnomemAndCounts) {
    // Ten sends inside one core_guard section: the loopback queue (4) is delivered only
    // when the section ends, so sends 5..10 find it full.
    stack s(GetParam());
    loopback_config lc;
    lc.queue_len = 4;
    loopback_netif lo(s, lc);
    ASSERT_EQ(lo.status(), err::ok);
    raw_sink sink;
    ASSERT_EQ(sink.open(s, 7060), err::ok);
    int ok = 0, mem = 0;
    {
        core_guard g(s);
        udp_pcb* pcb = udp_new(s);
        ASSERT_NE(pcb, nullptr);
        for (int i = 0; i < 10; ++i) {
            pbuf* p = pbuf_alloc(s, pbuf_layer::transport, 16, pbuf_type::pool);
            ASSERT_NE(p, nullptr);
            const err e = udp_sendto(pcb, p, k_lo_ip, 7060);
            pbuf_free(p);
            if (e == err::ok) ++ok;
            if (e == err::mem) ++mem;
        }
        udp_remove(pcb);
    }
    drain(s);
    EXPECT_EQ(ok, 4);
    EXPECT_EQ(mem, 6);
    EXPECT_EQ(s.st().dropped(drop_reason::netif_queue_full), 6u);
    EXPECT_EQ(lo.queue_drops(), 6u);
    EXPECT_EQ(sink.count.load(), 4u);
    EXPECT_EQ(s.st().dropped_total(), 6u) << drops_text(s);
    sink.close(s);
    expect_no_leaks(s);
}

TEST_P(Limits, TinyTcpipMailboxInputDropsAreCountedAndBalance) {
    stack_config cfg = GetParam();
    cfg.mailbox_capacity = 4;
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7061);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const auto to = lo_sin(7061);
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) ASSERT_EQ(lwip_sendto(s, tx, "m", 1, 0, sa(to), sizeof to), 1) << "errno " << errno;
    drain(s);
    int received = 0;
    char c;
    while (lwip_recv(s, rx, &c, 1, MSG_DONTWAIT) == 1) ++received;
    EXPECT_EQ(errno, EWOULDBLOCK);
    const auto& st = s.st();
    EXPECT_EQ(static_cast<std::uint64_t>(received) + st.dropped(drop_reason::input_queue_full),
              static_cast<std::uint64_t>(n))
        << drops_text(s);
    EXPECT_EQ(st.dropped_total(), st.dropped(drop_reason::input_queue_full)) << drops_text(s);
    if (GetParam().input == input_mode::inline_) {
        EXPECT_EQ(received, n) << "inline input never uses the mailbox";
    }
    EXPECT_EQ(lwip_close(s, rx), 0);
    EXPECT_EQ(lwip_close(s, tx), 0);
    drain(s);
    expect_no_leaks(s);
}

TEST_P(Limits, PbufPoolExhaustedGivesEnobufsAndRecovers) {
    stack_config cfg = GetParam();
    cfg.pbuf_pool_size = 8;
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7062);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const auto to = lo_sin(7062);
    int ok = 0;
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(lwip_sendto(s, tx, "fill", 4, 0, sa(to), sizeof to), 4) << "errno " << errno;
        ++ok;
        drain(s);  // held by rx's queue now, not by the mailbox
    }
    errno = 0;
    EXPECT_EQ(lwip_sendto(s, tx, "more", 4, 0, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, ENOBUFS);
    EXPECT_GE(s.st().pool_exhausted.get(), 1u);
    EXPECT_EQ(s.pools().pool_in_use(), 8u);
    char buf[8];
    ASSERT_EQ(lwip_recv(s, rx, buf, sizeof buf, 0), 4);
    EXPECT_EQ(lwip_sendto(s, tx, "room", 4, 0, sa(to), sizeof to), 4) << "errno " << errno;
    drain(s);
    int received = 1;
    while (lwip_recv(s, rx, buf, sizeof buf, MSG_DONTWAIT) == 4) ++received;
    EXPECT_EQ(received, ok + 1);
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    EXPECT_EQ(lwip_close(s, rx), 0);
    EXPECT_EQ(lwip_close(s, tx), 0);
    drain(s);
    expect_no_leaks(s);
}

INSTANTIATE_TEST_SUITE_P(AllConfigs, Limits, ::testing::ValuesIn(all_configs()), config_name);

// ---- tearing a busy stack down --------------------------------------------------------

class Teardown : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(false)};
};

TEST_P(Teardown, StackDestroyedWithOpenSocketsAndQueuedDatagramsFreesEverything) {
    // Sockets left open with datagrams queued, packets possibly still in the tcpip
    // mailbox: destroying the loopback and the stack must free it all (LeakSanitizer
    // in the asan preset checks the heap; the pools die with the stack).
    auto s = std::make_unique<stack>(GetParam());
    auto lo = std::make_unique<loopback_netif>(*s);
    ASSERT_EQ(lo->status(), err::ok);
    const int rx = bound_socket(*s, 7040);
    const int tx = bound_socket(*s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const auto to = lo_sin(7040);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(lwip_sendto(*s, tx, "leftover", 8, 0, sa(to), sizeof to), 8);
    netconn* orphan_rx = netconn_new(*s);
    ASSERT_NE(orphan_rx, nullptr);
    ASSERT_EQ(netconn_bind(orphan_rx, ip4_addr::any(), 7041), err::ok);
    netbuf nb;
    ASSERT_EQ(nb.alloc(*s, 10), err::ok);
    ASSERT_EQ(netconn_sendto(orphan_rx, nb, k_lo_ip, 7041), err::ok);
    nb.reset();
    drain(*s);  // mailbox input: deliver what is still in the tcpip mailbox
    EXPECT_EQ(s->pools().pool_in_use(), 51u) << "50 queued on rx + 1 on the netconn";
    // One more in flight, then the netif goes. With mailbox input its input message may
    // still be waiting (core_locking: the removal can overtake it): then it is dropped
    // as netif_removed, never delivered through a dead netif. Either way: counted once.
    ASSERT_EQ(lwip_sendto(*s, tx, "late", 4, 0, sa(to), sizeof to), 4);
    lo.reset();
    const std::uint64_t removed = s->st().dropped(drop_reason::netif_removed);
    EXPECT_LE(removed, 1u);
    if (GetParam().input == input_mode::inline_) {
        EXPECT_EQ(removed, 0u);
    }
    EXPECT_EQ(s->pools().pool_in_use() + removed, 52u);
    EXPECT_EQ(s->st().dropped_total(), removed) << drops_text(*s);
    EXPECT_EQ(netconn_delete(orphan_rx), err::ok);  // netconns are the application's to free
    EXPECT_EQ(s->pools().pool_in_use() + removed, 51u);
    s.reset();  // closes rx/tx itself, frees their queues
}


INSTANTIATE_TEST_SUITE_P(AllConfigs, Teardown, ::testing::ValuesIn(all_configs()), config_name);

INSTANTIATE_TEST_SUITE_P(AllConfigs, Behaviour, ::testing::ValuesIn(all_configs()), config_name);

}  // namespace
}  // namespace lwbench::test::it
