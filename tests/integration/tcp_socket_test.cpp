// tcp_socket_test.cpp — netconn and sockets over TCP (stack/src/api/netconn_tcp.cpp,
// sockets.cpp) in both threading modes with their paired input modes: echo byte-exact
// (also several MB each way under 1-10 % loss, and an echo of several MB at 10 % loss,
// where both directions' windows close), API messages per write and window updates per
// receive and per connection (exact), the delayed write, full duplex with a close from a third thread,
// timeouts, non-blocking calls, poll, half close, a live mode switch in the middle of
// a bulk transfer, and the errno of bad calls. Every wait is bounded (watchdog).
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <tuple>

#include "integration_support.hpp"
#include "tcp_fault_support.hpp"
#include "lwbench/tcp.hpp"

namespace lwbench::test::it {
namespace {

using test::fault_name;
using test::fault_param;
using test::fault_tcp_config;
using test::lossy_faults;
using test::paired;

/// API messages the stack ran, in either mode (posted or inline under the lock).
std::uint64_t api_messages(const stack& s) { return s.st().api_messages(); }

/// Waits (bounded, yielding) until pred() holds.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

/// Sends all of data (blocking); false on an error.
bool send_all(stack& s, int fd, const std::byte* data, std::size_t n) {
    for (std::size_t done = 0; done < n;) {
        const ssize_t k = lwip_send(s, fd, data + done, n - done, 0);
        if (k <= 0) {
            ADD_FAILURE() << "send failed after " << done << " of " << n << " bytes: errno " << errno;
            return false;
        }
        done += static_cast<std::size_t>(k);
    }
    return true;
}

/// Receives exactly n bytes into out (blocking); false on an error or an early end.
bool recv_all(stack& s, int fd, std::byte* out, std::size_t n) {
    for (std::size_t done = 0; done < n;) {
        const ssize_t k = lwip_recv(s, fd, out + done, n - done, 0);
        if (k <= 0) {
            ADD_FAILURE() << "recv ended after " << done << " of " << n << " bytes: " << k << " errno " << errno;
            return false;
        }
        done += static_cast<std::size_t>(k);
    }
    return true;
}

/// An echo through a connected pair: `client` sends `out` (then shuts its sending
/// side) while a reader thread takes the echo back; an echo thread on `server` sends
/// back every piece it receives until the client's FIN, then shuts its own side.
/// Both ends send while the other may not be reading (the echo thread is busy
/// sending), so each direction's window closes and reopens again and again.
/// Returns what came back (its size tells how far the echo got).
std::vector<std::byte> echo_through(stack& s, int client, int server, const std::vector<std::byte>& out) {
    std::vector<std::byte> back(out.size());
    std::thread echo([&] {
        std::vector<std::byte> buf(4096);
        for (;;) {
            const ssize_t k = lwip_recv(s, server, buf.data(), buf.size(), 0);
            if (k <= 0) break;
            if (!send_all(s, server, buf.data(), static_cast<std::size_t>(k))) break;
        }
        (void)lwip_shutdown(s, server, SHUT_WR);
    });
    std::thread reader([&] { EXPECT_TRUE(recv_all(s, client, back.data(), back.size())); });
    EXPECT_TRUE(send_all(s, client, out.data(), out.size()));
    EXPECT_EQ(lwip_shutdown(s, client, SHUT_WR), 0) << errno;
    reader.join();
    echo.join();
    return back;
}

/// One stack with a loopback (fast TCP timers) and the socket helpers every suite
/// here uses; closes its sockets and checks the pools at the end.
class tcp_env {
public:
    tcp_env(threading_mode m, std::uint32_t snd_buf) : s(paired(m)), snd_buf_(snd_buf) {}

protected:
    void setup() {
        ASSERT_EQ(lo.status(), err::ok);
        core_guard g(s);
        tcp_config cfg = fault_tcp_config();
        cfg.snd_buf = snd_buf_;
        ASSERT_EQ(tcp_configure(s, cfg), err::ok);
    }
    void teardown() {
        for (int fd : fds) (void)lwip_close(s, fd);
        {
            core_guard g(s);
            tcp_free_all(s);  // TIME_WAIT and closing pcbs (their queued segments) go
        }
        EXPECT_TRUE(eventually([&] { return s.pools().pool_in_use() == 0 && s.pools().ref_in_use() == 0; }));
        expect_no_leaks(s);
    }

    int tcp_socket(int extra = 0) {
        const int fd = lwip_socket(s, AF_INET, SOCK_STREAM | extra, 0);
        EXPECT_GT(fd, 0) << errno;
        fds.push_back(fd);
        return fd;
    }
    /// A listening socket on 127.0.0.1:port.
    int listener(std::uint16_t port, int backlog = 4) {
        const int fd = tcp_socket();
        const auto a = lo_sin(port);
        EXPECT_EQ(lwip_bind(s, fd, sa(a), sizeof a), 0) << errno;
        EXPECT_EQ(lwip_listen(s, fd, backlog), 0) << errno;
        return fd;
    }
    /// A connected pair {client, accepted server side} through port.
    std::pair<int, int> connected_pair(std::uint16_t port) {
        const int l = listener(port);
        const int c = tcp_socket();
        const auto a = lo_sin(port);
        EXPECT_EQ(lwip_connect(s, c, sa(a), sizeof a), 0) << errno;
        const int server = lwip_accept(s, l, nullptr, nullptr);
        EXPECT_GT(server, 0) << errno;
        fds.push_back(server);
        return {c, server};
    }

    watchdog dog{watchdog_limit(true)};  // first: also covers the teardown
    stack s;
    loopback_netif lo{s};
    std::uint32_t snd_buf_;
    std::vector<int> fds;
};

class TcpSocket : public ::testing::TestWithParam<threading_mode>, protected tcp_env {
protected:
    explicit TcpSocket(std::uint32_t snd_buf = 0xffff) : tcp_env(GetParam(), snd_buf) {}
    void SetUp() override { setup(); }
    void TearDown() override { teardown(); }
};

std::string mode_name(const ::testing::TestParamInfo<threading_mode>& i) { return to_string(i.param); }
INSTANTIATE_TEST_SUITE_P(Modes, TcpSocket,
                         ::testing::Values(threading_mode::message_passing, threading_mode::core_locking), mode_name);

// ---- connect, accept, echo -------------------------------------------------------------------

TEST_P(TcpSocket, ConnectAcceptEchoByteExact) {
    const int l = listener(7001);
    const int c = tcp_socket();
    const auto a = lo_sin(7001);
    ASSERT_EQ(lwip_connect(s, c, sa(a), sizeof a), 0) << errno;
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    const int sv = lwip_accept(s, l, reinterpret_cast<sockaddr*>(&peer), &plen);
    ASSERT_GT(sv, 0) << errno;
    fds.push_back(sv);
    EXPECT_EQ(peer.sin_addr.s_addr, k_lo_ip.addr);
    EXPECT_EQ(ntohs(peer.sin_port), port_of(s, c));

    const auto out = make_payload(300000, 5);
    EXPECT_TRUE(echo_through(s, c, sv, out) == out);
    std::byte one;
    EXPECT_EQ(lwip_recv(s, c, &one, 1, 0), 0);  // the echo side's FIN: end of stream
    int type = 0;
    socklen_t tlen = sizeof type;
    ASSERT_EQ(lwip_getsockopt(s, c, SOL_SOCKET, SO_TYPE, &type, &tlen), 0);
    EXPECT_EQ(type, SOCK_STREAM);
}

// ---- API messages per write, window updates per receive ----------------------------------------

// A netconn write of at most one send buffer is exactly one API message; each
// netconn receive reopens the window with exactly one more; a socket receive that
// consumes several queued segments still posts exactly one.
TEST_P(TcpSocket, OneApiMessagePerWriteAndOneWindowUpdatePerReceive) {
    netconn* l = netconn_new(s, netconn_type::tcp);
    netconn* c = netconn_new(s, netconn_type::tcp);
    ASSERT_TRUE(l && c);
    ASSERT_EQ(netconn_bind(l, k_lo_ip, 7002), err::ok);
    ASSERT_EQ(netconn_listen(l, 2), err::ok);
    ASSERT_EQ(netconn_connect(c, k_lo_ip, 7002), err::ok);
    auto accepted = netconn_accept(l);
    ASSERT_TRUE(accepted);
    netconn* sv = *accepted;
    ASSERT_EQ(netconn_set_nodelay(c, true), err::ok);

    const auto data = make_payload(1000, 9);
    constexpr int k_writes = 10;  // 10 000 bytes: within the send buffer and the window
    for (int i = 0; i < k_writes; ++i) {
        const std::uint64_t before = api_messages(s);
        auto n = netconn_write(c, data.data(), data.size(), netconn_write_flags::copy);
        ASSERT_TRUE(n);
        EXPECT_EQ(*n, data.size());
        EXPECT_EQ(api_messages(s) - before, 1u) << "write " << i;
    }
    EXPECT_EQ(s.st().tcp_write_waits.get(), 0u);

    // netconn: one receive, one window-update message (and nothing else).
    std::size_t got = 0;
    const std::uint64_t recvd_before = s.st().tcp_recvd_calls.get();
    const std::uint64_t msgs_before = api_messages(s);
    auto nb = netconn_recv_tcp(sv);
    ASSERT_TRUE(nb);
    ASSERT_GT(nb->len(), 0u);
    got += nb->len();
    EXPECT_EQ(s.st().tcp_recvd_calls.get() - recvd_before, 1u);
    EXPECT_EQ(api_messages(s) - msgs_before, 1u);
    nb->reset();

    // The rest, through a socket-style receive: wait until it is all queued (bounded),
    // then a receive of everything consumes several segments with one message.
    ASSERT_TRUE(eventually([&] { return netconn_recv_pending(sv) >= 2; }));
    const std::uint64_t recvd_mid = s.st().tcp_recvd_calls.get();
    const std::uint64_t msgs_mid = api_messages(s);
    std::size_t segments = 0;
    std::size_t bytes = 0;
    for (;;) {
        auto piece = netconn_recv_tcp(sv, netconn_recv_flags::dontwait | netconn_recv_flags::noautorecved);
        if (!piece) break;
        bytes += piece->len();
        ++segments;
    }
    ASSERT_GE(segments, 2u);
    ASSERT_EQ(netconn_tcp_recvd(sv, bytes), err::ok);
    EXPECT_EQ(s.st().tcp_recvd_calls.get() - recvd_mid, 1u);
    EXPECT_EQ(api_messages(s) - msgs_mid, 1u);

    EXPECT_EQ(netconn_delete(sv), err::ok);
    EXPECT_EQ(netconn_delete(c), err::ok);
    EXPECT_EQ(netconn_delete(l), err::ok);
}

// One connection of connection_rate_tcp (connect + accept + one exchange + close) over
// netconn is exactly 10 API messages: each call below that enters the core is one (run
// the mode's way: posted, under the lock, or combined), the others none. The harness's
// scenario asserts the same total per op (tests/python/test_cli_formats.py).
TEST_P(TcpSocket, OneConnectionWithOneExchangeIsTenApiMessages) {
    netconn* l = netconn_new(s, netconn_type::tcp);
    ASSERT_TRUE(l);
    ASSERT_EQ(netconn_bind(l, k_lo_ip, 7030), err::ok);
    ASSERT_EQ(netconn_listen(l, 2), err::ok);
    const auto request = make_payload(64, 5), reply = make_payload(64, 6);
    const std::uint64_t start = api_messages(s);
    std::uint64_t mark = start;
    const auto messages_since_mark = [&] {
        const std::uint64_t now = api_messages(s), n = now - mark;
        mark = now;
        return n;
    };
    netconn* c = netconn_new(s, netconn_type::tcp);  // the pcb is made in core context
    ASSERT_TRUE(c);
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_new";
    ASSERT_EQ(netconn_set_nodelay(c, true), err::ok);
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_set_nodelay";
    ASSERT_EQ(netconn_connect(c, k_lo_ip, 7030), err::ok);  // waits for the SYN-ACK on the netconn's semaphore
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_connect";
    auto accepted = netconn_accept(l);  // takes what the core put in the accept mailbox
    ASSERT_TRUE(accepted);
    netconn* sv = *accepted;
    EXPECT_EQ(messages_since_mark(), 0u) << "netconn_accept";
    ASSERT_EQ(netconn_set_nodelay(sv, true), err::ok);
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_set_nodelay (server end)";
    ASSERT_TRUE(netconn_write(c, request.data(), request.size(), netconn_write_flags::copy));
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_write (request)";
    auto in = netconn_recv_tcp(sv);  // one segment; its window update is the message
    ASSERT_TRUE(in);
    ASSERT_EQ(in->len(), request.size());
    in->reset();
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_recv_tcp (request)";
    ASSERT_TRUE(netconn_write(sv, reply.data(), reply.size(), netconn_write_flags::copy));
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_write (reply)";
    auto back = netconn_recv_tcp(c);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->len(), reply.size());
    back->reset();
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_recv_tcp (reply)";
    EXPECT_EQ(netconn_delete(sv), err::ok);
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_delete (server end)";
    EXPECT_EQ(netconn_delete(c), err::ok);
    EXPECT_EQ(messages_since_mark(), 1u) << "netconn_delete (client)";
    EXPECT_EQ(api_messages(s) - start, 10u);
    EXPECT_EQ(netconn_delete(l), err::ok);
}

// Through the socket API, the same counts: one send (≤ one send buffer) is one API
// message; one recv of several queued segments posts one window update.
TEST_P(TcpSocket, SocketRecvOfManySegmentsPostsOneWindowUpdate) {
    auto [c, sv] = connected_pair(7003);
    int one = 1;
    ASSERT_EQ(lwip_setsockopt(s, c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    const auto data = make_payload(500, 3);
    for (int i = 0; i < 8; ++i) {
        const std::uint64_t before = api_messages(s);
        ASSERT_EQ(lwip_send(s, c, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
        EXPECT_EQ(api_messages(s) - before, 1u);
    }
    drain(s);  // message passing: the segments posted for input have all been delivered
    std::vector<std::byte> buf(8 * data.size());
    const std::uint64_t recvd_before = s.st().tcp_recvd_calls.get();
    const std::uint64_t msgs_before = api_messages(s);
    const ssize_t k = lwip_recv(s, sv, buf.data(), buf.size(), 0);
    ASSERT_GT(k, 0);
    EXPECT_EQ(s.st().tcp_recvd_calls.get() - recvd_before, 1u);
    EXPECT_EQ(api_messages(s) - msgs_before, 1u);
    std::size_t total = static_cast<std::size_t>(k);
    while (total < buf.size()) {
        const ssize_t more = lwip_recv(s, sv, buf.data() + total, buf.size() - total, 0);
        ASSERT_GT(more, 0);
        total += static_cast<std::size_t>(more);
    }
    for (int i = 0; i < 8; ++i)
        EXPECT_TRUE(std::equal(data.begin(), data.end(), buf.begin() + i * static_cast<std::ptrdiff_t>(data.size())));
}

// ---- the delayed write ---------------------------------------------------------------------------

class TcpSocketSmallBuffer : public TcpSocket {
protected:
    TcpSocketSmallBuffer() : TcpSocket(4096) {}
};
INSTANTIATE_TEST_SUITE_P(Modes, TcpSocketSmallBuffer,
                         ::testing::Values(threading_mode::message_passing, threading_mode::core_locking), mode_name);

// A write of 64 times the send buffer completes in one call: the writer waited (the
// core released) while the reader's ACKs freed space, and its data arrives exact.
TEST_P(TcpSocketSmallBuffer, WriteLargerThanSendBufferWaitsAndCompletes) {
    auto [c, sv] = connected_pair(7004);
    const auto out = make_payload(64 * 4096, 11);
    std::vector<std::byte> in(out.size());
    std::thread reader([&] { EXPECT_TRUE(recv_all(s, sv, in.data(), in.size())); });
    const std::uint64_t waits_before = s.st().tcp_write_waits.get();
    const std::uint64_t copies_before = s.st().payload_copies.get();
    EXPECT_EQ(lwip_send(s, c, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    reader.join();
    EXPECT_EQ(s.st().tcp_write_waits.get() - waits_before, 1u);  // one call, one wait
    EXPECT_GT(s.st().payload_copies.get(), copies_before);
    EXPECT_TRUE(in == out);
}

// The no-copy flag: the stack references the caller's memory, no payload copy on
// the way (the receiver reads the pbufs themselves).
TEST_P(TcpSocket, NoCopyWriteMakesNoPayloadCopy) {
    netconn* l = netconn_new(s, netconn_type::tcp);
    netconn* c = netconn_new(s, netconn_type::tcp);
    ASSERT_TRUE(l && c);
    ASSERT_EQ(netconn_bind(l, k_lo_ip, 7005), err::ok);
    ASSERT_EQ(netconn_listen(l, 1), err::ok);
    ASSERT_EQ(netconn_connect(c, k_lo_ip, 7005), err::ok);
    auto accepted = netconn_accept(l);
    ASSERT_TRUE(accepted);
    netconn* sv = *accepted;
    static const auto data = make_payload(200000, 13);  // outlives the stack (no release hook)
    const std::uint64_t copies_before = s.st().payload_copies.get();
    std::vector<std::uint8_t> got;
    std::thread reader([&] {
        while (got.size() < data.size()) {
            auto nb = netconn_recv_tcp(sv);
            if (!nb || nb->len() == 0) break;
            for (const pbuf* q = nb->p; q; q = q->next) {
                const auto* b = reinterpret_cast<const std::uint8_t*>(q->bytes());
                got.insert(got.end(), b, b + q->len);
            }
        }
    });
    auto n = netconn_write(c, data.data(), data.size(), 0);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, data.size());
    reader.join();
    EXPECT_EQ(s.st().payload_copies.get(), copies_before);
    ASSERT_EQ(got.size(), data.size());
    EXPECT_EQ(std::memcmp(got.data(), data.data(), data.size()), 0);
    EXPECT_EQ(netconn_delete(sv), err::ok);
    EXPECT_EQ(netconn_delete(c), err::ok);
    EXPECT_EQ(netconn_delete(l), err::ok);
}

// ---- full duplex and a close from a third thread ------------------------------------------------

TEST_P(TcpSocket, FullDuplexThenCloseFromThirdThreadWakesBoth) {
    auto [c, sv] = connected_pair(7006);
    // Phase 1: both directions at once on c (one thread sends, another receives).
    const auto up = make_payload(200000, 21), down = make_payload(150000, 22);
    std::vector<std::byte> got_up(up.size()), got_down(down.size());
    std::thread c_send([&] { EXPECT_TRUE(send_all(s, c, up.data(), up.size())); });
    std::thread c_recv([&] { EXPECT_TRUE(recv_all(s, c, got_down.data(), got_down.size())); });
    std::thread sv_send([&] { EXPECT_TRUE(send_all(s, sv, down.data(), down.size())); });
    EXPECT_TRUE(recv_all(s, sv, got_up.data(), got_up.size()));
    c_send.join();
    c_recv.join();
    sv_send.join();
    EXPECT_TRUE(got_up == up);
    EXPECT_TRUE(got_down == down);

    // Phase 2: c's receiver blocks (nothing comes), c's sender blocks (sv does not read:
    // the window closes); a third thread closes c: both return an error.
    std::atomic<int> recv_errno{0}, send_errno{0};
    const std::uint64_t waits = s.st().tcp_write_waits.get();  // before the sender can wait
    std::thread blocked_recv([&] {
        std::byte b[64];
        const ssize_t k = lwip_recv(s, c, b, sizeof b, 0);
        recv_errno = k < 0 ? errno : -1;
    });
    std::thread blocked_send([&] {
        const auto chunk = make_payload(64 * 1024, 23);
        for (int i = 0; i < 1000; ++i)
            if (lwip_send(s, c, chunk.data(), chunk.size(), 0) < 0) {
                send_errno = errno;
                return;
            }
        send_errno = -1;
    });
    const bool waiting = eventually([&] { return s.st().tcp_write_waits.get() > waits; });  // the sender waits
    EXPECT_TRUE(waiting) << "sender ended with errno " << send_errno.load();
    std::thread closer([&] { EXPECT_EQ(lwip_close(s, c), 0); });
    closer.join();
    blocked_recv.join();
    blocked_send.join();
    EXPECT_EQ(recv_errno.load(), EBADF);
    EXPECT_EQ(send_errno.load(), EBADF);
    std::byte b;
    EXPECT_TRUE(fails_with(lwip_recv(s, c, &b, 1, 0), EBADF));  // the descriptor is stale now
}

// ---- timeouts ----------------------------------------------------------------------------------------

TEST_P(TcpSocket, ReceiveAndSendTimeouts) {
    auto [c, sv] = connected_pair(7007);
    const timeval tv{0, 30000};
    ASSERT_EQ(lwip_setsockopt(s, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    ASSERT_EQ(lwip_setsockopt(s, c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    timeval back{};
    socklen_t blen = sizeof back;
    ASSERT_EQ(lwip_getsockopt(s, c, SOL_SOCKET, SO_SNDTIMEO, &back, &blen), 0);
    EXPECT_EQ(back.tv_usec, 30000);

    std::byte b[16];
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(fails_with(lwip_recv(s, c, b, sizeof b, 0), EAGAIN));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);

    // sv never reads: the send buffer and the peer's window fill, then the timeout.
    const auto big = make_payload(1 << 20, 4);
    const ssize_t k = lwip_send(s, c, big.data(), big.size(), 0);
    ASSERT_GT(k, 0);  // some was queued before the timeout ...
    EXPECT_LT(k, static_cast<ssize_t>(big.size()));  // ... but not all
    EXPECT_TRUE(fails_with(lwip_send(s, c, big.data(), big.size(), 0), EAGAIN));  // nothing fits now
    // What was accepted arrives intact.
    std::vector<std::byte> got(static_cast<std::size_t>(k));
    ASSERT_TRUE(recv_all(s, sv, got.data(), got.size()));
    EXPECT_TRUE(std::equal(got.begin(), got.end(), big.begin()));
}

// ---- non-blocking ---------------------------------------------------------------------------------

TEST_P(TcpSocket, NonBlockingConnectAcceptRecv) {
    const int l = listener(7008);
    int on = 1;
    ASSERT_EQ(lwip_ioctl(s, l, FIONBIO, &on), 0);
    EXPECT_TRUE(fails_with(lwip_accept(s, l, nullptr, nullptr), EWOULDBLOCK));

    const int c = tcp_socket(SOCK_NONBLOCK);
    const auto a = lo_sin(7008);
    EXPECT_TRUE(fails_with(lwip_connect(s, c, sa(a), sizeof a), EINPROGRESS));
    pollfd pc{c, POLLOUT, 0};
    ASSERT_EQ(lwip_poll(s, &pc, 1, 10000), 1);
    EXPECT_EQ(pc.revents, POLLOUT);
    int soerr = -1;
    socklen_t elen = sizeof soerr;
    ASSERT_EQ(lwip_getsockopt(s, c, SOL_SOCKET, SO_ERROR, &soerr, &elen), 0);
    EXPECT_EQ(soerr, 0);
    EXPECT_TRUE(fails_with(lwip_connect(s, c, sa(a), sizeof a), EISCONN));

    pollfd pl{l, POLLIN, 0};
    ASSERT_EQ(lwip_poll(s, &pl, 1, 10000), 1);
    EXPECT_EQ(pl.revents, POLLIN);
    const int sv = lwip_accept4(s, l, nullptr, nullptr, SOCK_NONBLOCK);
    ASSERT_GT(sv, 0) << errno;
    fds.push_back(sv);

    std::byte b[32];
    EXPECT_TRUE(fails_with(lwip_recv(s, c, b, sizeof b, 0), EWOULDBLOCK));
    EXPECT_TRUE(fails_with(lwip_recv(s, sv, b, sizeof b, 0), EWOULDBLOCK));
    const auto msg = make_payload(10, 1);
    ASSERT_EQ(lwip_send(s, sv, msg.data(), msg.size(), 0), 10);
    pc = {c, POLLIN, 0};
    ASSERT_EQ(lwip_poll(s, &pc, 1, 10000), 1);
    EXPECT_EQ(pc.revents, POLLIN);
    ASSERT_EQ(lwip_recv(s, c, b, sizeof b, 0), 10);
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), b));
}

// A non-blocking send queues what fits and then reports EWOULDBLOCK.
TEST_P(TcpSocket, NonBlockingSendFillsThenWouldBlock) {
    auto [c, sv] = connected_pair(7009);
    const auto big = make_payload(1 << 20, 8);
    const ssize_t k = lwip_send(s, c, big.data(), big.size(), MSG_DONTWAIT);
    ASSERT_GT(k, 0);
    EXPECT_LT(k, static_cast<ssize_t>(big.size()));
    EXPECT_EQ(s.st().tcp_write_waits.get(), 0u);  // it never waited
    // The peer reads nothing: once its window is full, nothing more fits.
    ssize_t more = 0;
    std::size_t total = static_cast<std::size_t>(k);
    ASSERT_TRUE(eventually([&] {
        more = lwip_send(s, c, big.data() + total, big.size() - total, MSG_DONTWAIT);
        if (more > 0) total += static_cast<std::size_t>(more);
        return more < 0;
    }));
    EXPECT_EQ(errno, EWOULDBLOCK);
    std::vector<std::byte> got(total);
    ASSERT_TRUE(recv_all(s, sv, got.data(), got.size()));
    EXPECT_TRUE(std::equal(got.begin(), got.end(), big.begin()));
}

// ---- poll -----------------------------------------------------------------------------------------

TEST_P(TcpSocket, PollReadableWritableHangupError) {
    auto [c, sv] = connected_pair(7010);
    pollfd p{c, POLLIN | POLLOUT, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLOUT);  // connected, send space, nothing to read

    const auto msg = make_payload(100, 2);
    ASSERT_EQ(lwip_send(s, sv, msg.data(), msg.size(), 0), 100);
    p = {c, POLLIN, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 10000), 1);
    EXPECT_EQ(p.revents, POLLIN);
    std::byte b[200];
    ASSERT_EQ(lwip_recv(s, c, b, sizeof b, 0), 100);

    // The peer's FIN: readable (recv returns 0); our own SHUT_WR too: hang-up.
    ASSERT_EQ(lwip_shutdown(s, sv, SHUT_WR), 0);
    p = {c, POLLIN, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 10000), 1);
    EXPECT_EQ(p.revents, POLLIN);
    EXPECT_EQ(lwip_recv(s, c, b, sizeof b, 0), 0);
    ASSERT_EQ(lwip_shutdown(s, c, SHUT_WR), 0);
    p = {c, POLLIN | POLLOUT, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLIN | POLLHUP);

    // Refused: an error (and readable, so a reader learns it).
    const int d = tcp_socket(SOCK_NONBLOCK);
    const auto nobody = lo_sin(7999);
    EXPECT_TRUE(fails_with(lwip_connect(s, d, sa(nobody), sizeof nobody), EINPROGRESS));
    p = {d, POLLOUT, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 10000), 1);
    EXPECT_TRUE(p.revents & POLLERR);
    int soerr = 0;
    socklen_t elen = sizeof soerr;
    ASSERT_EQ(lwip_getsockopt(s, d, SOL_SOCKET, SO_ERROR, &soerr, &elen), 0);
    EXPECT_EQ(soerr, ECONNREFUSED);

    // Closed by another thread: POLLNVAL for the stale descriptor.
    ASSERT_EQ(lwip_close(s, d), 0);
    p = {d, POLLIN, 0};
    ASSERT_EQ(lwip_poll(s, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLNVAL);
}

// ---- half close ---------------------------------------------------------------------------------------

TEST_P(TcpSocket, ShutdownWriteIsAHalfClose) {
    auto [c, sv] = connected_pair(7011);
    const auto up = make_payload(5000, 6), down = make_payload(3000, 7);
    ASSERT_TRUE(send_all(s, c, up.data(), up.size()));
    ASSERT_EQ(lwip_shutdown(s, c, SHUT_WR), 0);
    std::vector<std::byte> got(up.size());
    ASSERT_TRUE(recv_all(s, sv, got.data(), got.size()));
    EXPECT_TRUE(got == up);
    std::byte b[8];
    EXPECT_EQ(lwip_recv(s, sv, b, sizeof b, 0), 0);  // end of c's stream
    EXPECT_EQ(lwip_recv(s, sv, b, sizeof b, 0), 0);  // and it stays the end
    // The other direction still works.
    ASSERT_TRUE(send_all(s, sv, down.data(), down.size()));
    std::vector<std::byte> back(down.size());
    ASSERT_TRUE(recv_all(s, c, back.data(), back.size()));
    EXPECT_TRUE(back == down);
    EXPECT_TRUE(fails_with(lwip_send(s, c, up.data(), 10, 0), EPIPE));
    ASSERT_EQ(lwip_shutdown(s, sv, SHUT_WR), 0);
    EXPECT_EQ(lwip_recv(s, c, b, sizeof b, 0), 0);
}

// ---- a live threading-mode switch in the middle of a bulk transfer ----------------------------------------

TEST_P(TcpSocket, LiveModeSwitchDuringBulkLosesNothing) {
    auto [c, sv] = connected_pair(7012);
    const std::size_t total = static_cast<std::size_t>(scaled(4 << 20));
    const auto out = make_payload(total, 17);
    std::vector<std::byte> in(total);
    std::atomic<std::size_t> received{0};
    std::thread writer([&] { EXPECT_TRUE(send_all(s, c, out.data(), out.size())); });
    std::thread reader([&] {
        while (received < total) {
            const ssize_t k = lwip_recv(s, sv, in.data() + received.load(), std::min<std::size_t>(8192, total - received), 0);
            if (k <= 0) break;
            received += static_cast<std::size_t>(k);
        }
    });
    constexpr int k_switches = 6;
    int switched = 0;
    for (int i = 1; i <= k_switches; ++i) {
        // Switch at evenly spaced points of the transfer (bounded wait for progress).
        if (!eventually([&] { return received.load() >= total * i / (k_switches + 1); }, 60s)) break;
        const threading_mode next = s.get_threading_mode() == threading_mode::core_locking
                                        ? threading_mode::message_passing
                                        : threading_mode::core_locking;
        ASSERT_EQ(s.set_threading_mode(next), err::ok);
        ASSERT_EQ(s.set_input_mode(paired_input_mode(next)), err::ok);
        ++switched;
    }
    writer.join();
    reader.join();
    EXPECT_EQ(switched, k_switches);
    ASSERT_EQ(received.load(), total);
    EXPECT_TRUE(in == out);
}

// ---- bad calls and their errno -------------------------------------------------------------------------

TEST_P(TcpSocket, BadCallsReturnTheRightErrno) {
    const int u = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
    ASSERT_GT(u, 0);
    fds.push_back(u);
    EXPECT_TRUE(fails_with(lwip_listen(s, u, 1), EOPNOTSUPP));
    EXPECT_TRUE(fails_with(lwip_accept(s, u, nullptr, nullptr), EOPNOTSUPP));
    EXPECT_TRUE(fails_with(lwip_socket(s, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT));
    EXPECT_TRUE(fails_with(lwip_socket(s, AF_INET, SOCK_SEQPACKET, 0), EPROTONOSUPPORT));

    const int t = tcp_socket();
    std::byte b[8] = {};
    EXPECT_TRUE(fails_with(lwip_recv(s, t, b, sizeof b, 0), ENOTCONN));
    EXPECT_TRUE(fails_with(lwip_send(s, t, b, sizeof b, 0), ENOTCONN));
    EXPECT_TRUE(fails_with(lwip_accept(s, t, nullptr, nullptr), EINVAL));  // not listening
    EXPECT_TRUE(fails_with(lwip_shutdown(s, t, SHUT_WR), ENOTCONN));
    EXPECT_TRUE(fails_with(lwip_shutdown(s, t, 99), EINVAL));
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    EXPECT_TRUE(fails_with(lwip_getpeername(s, t, reinterpret_cast<sockaddr*>(&peer), &plen), ENOTCONN));
    const auto nobody = lo_sin(7998);
    EXPECT_TRUE(fails_with(lwip_connect(s, t, sa(nobody), sizeof nobody), ECONNREFUSED));

    auto [c, sv] = connected_pair(7013);
    const auto a = lo_sin(7013);
    EXPECT_TRUE(fails_with(lwip_connect(s, c, sa(a), sizeof a), EISCONN));
    EXPECT_TRUE(fails_with(lwip_listen(s, c, 1), EINVAL));
    EXPECT_TRUE(fails_with(lwip_sendto(s, c, b, sizeof b, 0, sa(a), sizeof a), EISCONN));
    EXPECT_TRUE(fails_with(lwip_bind(s, c, sa(a), sizeof a), EINVAL));
    EXPECT_TRUE(fails_with(lwip_recv(s, c, b, sizeof b, MSG_TRUNC), EINVAL));
    ASSERT_EQ(lwip_getpeername(s, c, reinterpret_cast<sockaddr*>(&peer), &plen), 0);
    EXPECT_EQ(ntohs(peer.sin_port), 7013);

    // Descriptor generations cover TCP: a closed descriptor stays invalid even when
    // its slot serves a new socket.
    ASSERT_EQ(lwip_close(s, c), 0);
    EXPECT_TRUE(fails_with(lwip_close(s, c), EBADF));
    const int again = tcp_socket();
    EXPECT_NE(again, c);
    EXPECT_TRUE(fails_with(lwip_send(s, c, b, sizeof b, 0), EBADF));
    EXPECT_TRUE(fails_with(lwip_recv(s, c, b, sizeof b, 0), EBADF));
    // The peer learns of the close: end of stream.
    EXPECT_EQ(lwip_recv(s, sv, b, sizeof b, 0), 0);
}

// ---- several MB under loss, through the socket API -----------------------------------------------------


class TcpSocketLoss : public ::testing::TestWithParam<fault_param>, protected tcp_env {
protected:
    TcpSocketLoss() : tcp_env(std::get<0>(GetParam()), 0xffff) {}
    void SetUp() override { setup(); }
    void TearDown() override { teardown(); }
};

INSTANTIATE_TEST_SUITE_P(Loss, TcpSocketLoss,
                         ::testing::Combine(::testing::Values(threading_mode::message_passing,
                                                              threading_mode::core_locking),
                                            ::testing::Values(0.01, 0.10)),
                         fault_name);

// Several MB each way at once through a lossy loopback (drop, plus a little
// corruption, duplication, reordering and delay), a sender and a receiver thread on
// each socket, then an orderly half close each way: everything arrives byte-exact and
// retransmissions are counted.
TEST_P(TcpSocketLoss, SeveralMegabytesEachWayByteExact) {
    const double loss = std::get<1>(GetParam());
    fault_injector inj(s, &lo.nif(), lossy_faults(loss));
    ASSERT_EQ(inj.status(), err::ok);

    auto [c, sv] = connected_pair(7020);
    const std::size_t total = static_cast<std::size_t>(scaled(3 << 20));
    const auto up = make_payload(total, 31), down = make_payload(total, 32);
    std::vector<std::byte> got_up(total), got_down(total);
    const auto send_then_shut = [&](int fd, const std::vector<std::byte>& data) {
        EXPECT_TRUE(send_all(s, fd, data.data(), data.size()));
        EXPECT_EQ(lwip_shutdown(s, fd, SHUT_WR), 0) << errno;
    };
    std::thread c_send(send_then_shut, c, std::cref(up));
    std::thread sv_send(send_then_shut, sv, std::cref(down));
    std::thread c_recv([&] { EXPECT_TRUE(recv_all(s, c, got_down.data(), got_down.size())); });
    EXPECT_TRUE(recv_all(s, sv, got_up.data(), got_up.size()));
    c_send.join();
    sv_send.join();
    c_recv.join();
    EXPECT_TRUE(got_up == up) << drops_text(s);
    EXPECT_TRUE(got_down == down) << drops_text(s);
    std::byte b;
    EXPECT_EQ(lwip_recv(s, sv, &b, 1, 0), 0);  // each side's FIN arrives after its data
    EXPECT_EQ(lwip_recv(s, c, &b, 1, 0), 0);
    EXPECT_GT(inj.dropped(), 0u);
    EXPECT_GT(s.st().tcp_rexmit.get(), 0u);
}

// ---- an echo under loss ------------------------------------------------------------------------------

class TcpSocketEchoLoss : public TcpSocketLoss {};
INSTANTIATE_TEST_SUITE_P(Loss, TcpSocketEchoLoss,
                         ::testing::Combine(::testing::Values(threading_mode::message_passing,
                                                              threading_mode::core_locking),
                                            ::testing::Values(0.10)),
                         fault_name);

// An echo of several MB through a lossy loopback (10 % drop, plus a little of every
// other fault). The echo thread stops reading while it sends, and the client sends
// while the echo's window is closed, so both directions' windows close and reopen
// under loss: window updates are lost, zero-window probes and retransmissions cross.
// Everything comes back byte-exact and neither end gives up on the connection.
TEST_P(TcpSocketEchoLoss, EchoSeveralMegabytesByteExact) {
    const double loss = std::get<1>(GetParam());
    fault_injector inj(s, &lo.nif(), lossy_faults(loss));
    ASSERT_EQ(inj.status(), err::ok);

    auto [c, sv] = connected_pair(7021);
    const auto out = make_payload(static_cast<std::size_t>(scaled(2 << 20)), 41);
    EXPECT_TRUE(echo_through(s, c, sv, out) == out) << drops_text(s);
    std::byte b;
    EXPECT_EQ(lwip_recv(s, c, &b, 1, 0), 0);  // the echo side's FIN: end of stream
    EXPECT_GT(inj.dropped(), 0u);
    EXPECT_GT(s.st().tcp_rexmit.get(), 0u);
}

}  // namespace
}  // namespace lwbench::test::it
