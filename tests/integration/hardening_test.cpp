// hardening_test.cpp — the public API outside its happy paths (issue 11): every
// defect found by the black-box review has a test here that failed before its fix.
//  - Hardening (every configuration of all_configs()): FIONREAD, teardown with threads blocked
//    inside recvfrom/poll, descriptors of another stack, netifapi on null and foreign
//    netifs, capacities that mean what they say, SO_RCVBUF and timeout ranges.
//  - CoreContextDeathTest (the four threading × input modes, checking builds): every
//    call that waits for the core aborts with a message from core context.
//  - Config: validation at construction names the field.
//  - Descriptors: generations never wrap; a retired slot is never reused.
//  - RawSenderModeSwitch (stress configurations): a live mode switch under a raw-API
//    sender entering core context through stack::call loses nothing.
#include <sys/ioctl.h>

#include <concepts>
#include <latch>
#include <set>
#include <stdexcept>

#include "integration_support.hpp"
#include "lwbench/detail/socket_table.hpp"
#include "lwbench/detail/stack_access.hpp"

namespace lwbench::test::it {
namespace {

// ---- internal state is not reachable through the public stack (defect 10) ---------------

template <class S>
concept exposes_netifs = requires(S& s) { s.netifs(); };
template <class S>
concept exposes_udp_pcbs = requires(S& s) { s.udp_pcbs(); };
template <class S>
concept exposes_sockets = requires(S& s) { s.sockets(); };
template <class S>
concept exposes_mutable_pools = requires(S& s) { s.pools().alloc(pbuf_layer::raw, 1, pbuf_type::pool); };
template <class S>
concept exposes_deferred_work = requires(S& s) { s.run_deferred(); };
static_assert(!exposes_netifs<stack>, "the netif list is core state");
static_assert(!exposes_udp_pcbs<stack>, "the pcb list is core state");
static_assert(!exposes_sockets<stack>, "the descriptor table is internal");
static_assert(!exposes_mutable_pools<stack>, "allocate through pbuf_alloc, not the pools object");
static_assert(!exposes_deferred_work<stack>, "deferred work is the dispatcher's");

class Hardening : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(false)};
};

// ---- defect 1: FIONREAD ---------------------------------------------------------------------

TEST_P(Hardening, FionreadGivesTheBytesOfTheNextDatagram) {
    stack s(GetParam());
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7501);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    int n = -1;
    ASSERT_EQ(lwip_ioctl(s, rx, FIONREAD, &n), 0) << "errno " << errno;
    EXPECT_EQ(n, 0) << "nothing queued";
    const auto to = lo_sin(7501);
    ASSERT_EQ(lwip_sendto(s, tx, "hello", 5, 0, sa(to), sizeof to), 5);
    ASSERT_EQ(lwip_sendto(s, tx, "ninebytes", 9, 0, sa(to), sizeof to), 9);
    ASSERT_EQ(lwip_sendto(s, tx, "", 0, 0, sa(to), sizeof to), 0);
    drain(s);
    char buf[16];
    for (const int expected : {5, 9, 0}) {
        ASSERT_EQ(lwip_ioctl(s, rx, FIONREAD, &n), 0);
        EXPECT_EQ(n, expected);
        EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, MSG_DONTWAIT), expected);
    }
    ASSERT_EQ(lwip_ioctl(s, rx, FIONREAD, &n), 0);
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(fails_with(lwip_ioctl(s, rx, FIOASYNC, &n), ENOTTY));
    EXPECT_EQ(lwip_close(s, rx), 0);
    EXPECT_EQ(lwip_close(s, tx), 0);
    drain(s);
    expect_no_leaks(s);
}

// ---- defect 2: destroying a stack with threads blocked inside it ------------------------------

/// Waits (bounded by the watchdog) until the thread `tid` sleeps in the kernel: then it
/// is blocked inside the call it was started into.
void wait_until_asleep(const std::atomic<pid_t>& tid) {
    while (tid.load() == 0 || task_state(tid.load()) != 'S') std::this_thread::yield();
}

TEST_P(Hardening, DestroyingTheStackWakesAndWaitsForBlockedRecvfromAndPoll) {
    auto s = std::make_unique<stack>(GetParam());
    auto lo = std::make_unique<loopback_netif>(*s);
    ASSERT_EQ(lo->status(), err::ok);
    const int rx = bound_socket(*s, 7502);
    const int polled = bound_socket(*s, 7503);
    ASSERT_GT(rx, 0);
    ASSERT_GT(polled, 0);
    std::atomic<pid_t> recv_tid{0}, poll_tid{0}, idle_poll_tid{0};
    ssize_t recv_result = 0;
    int recv_errno = 0, poll_result = -2, idle_poll_result = -2;
    pollfd pfd{polled, POLLIN, 0};
    pollfd idle{-1, POLLIN, 0};
    stack* raw = s.get();
    std::thread receiver([&] {
        recv_tid = static_cast<pid_t>(::syscall(SYS_gettid));
        char buf[8];
        recv_result = lwip_recvfrom(*raw, rx, buf, sizeof buf, 0, nullptr, nullptr);
        recv_errno = errno;
    });
    std::thread poller([&] {
        poll_tid = static_cast<pid_t>(::syscall(SYS_gettid));
        poll_result = lwip_poll(*raw, &pfd, 1, -1);
    });
    std::thread idle_poller([&] {  // watches no socket at all, waits forever
        idle_poll_tid = static_cast<pid_t>(::syscall(SYS_gettid));
        idle_poll_result = lwip_poll(*raw, &idle, 1, -1);
    });
    wait_until_asleep(recv_tid);
    wait_until_asleep(poll_tid);
    wait_until_asleep(idle_poll_tid);
    lo.reset();
    s.reset();  // closes rx and polled, wakes all three, waits for them to leave
    receiver.join();
    poller.join();
    idle_poller.join();
    EXPECT_EQ(recv_result, -1);
    EXPECT_EQ(recv_errno, EBADF);
    EXPECT_EQ(poll_result, 1);
    EXPECT_EQ(pfd.revents, POLLNVAL);
    EXPECT_EQ(idle_poll_result, 0);
}

// ---- defect 7: descriptors of another stack -----------------------------------------------

TEST_P(Hardening, AnotherStacksDescriptorIsRefused) {
    stack a(GetParam());
    stack b(GetParam());
    loopback_netif lo_a(a), lo_b(b);
    const int fa = bound_socket(a, 7504);
    const int fb = bound_socket(b, 7504);
    ASSERT_GT(fa, 0);
    ASSERT_GT(fb, 0);
    EXPECT_NE(fa, fb) << "descriptors are unique in the process";
    char buf[8];
    int v = 4;
    socklen_t vl = sizeof v;
    const auto to = lo_sin(7504);
    EXPECT_TRUE(fails_with(lwip_close(b, fa), EBADF)) << "closing b with a's descriptor";
    EXPECT_TRUE(fails_with(lwip_sendto(b, fa, "x", 1, 0, sa(to), sizeof to), EBADF));
    EXPECT_TRUE(fails_with(lwip_recv(b, fa, buf, sizeof buf, MSG_DONTWAIT), EBADF));
    EXPECT_TRUE(fails_with(lwip_setsockopt(b, fa, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), EBADF));
    EXPECT_TRUE(fails_with(lwip_getsockopt(b, fa, SOL_SOCKET, SO_RCVBUF, &v, &vl), EBADF));
    pollfd p{fa, POLLIN, 0};
    EXPECT_EQ(lwip_poll(b, &p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLNVAL);
    // Both sockets are intact: each stack's own send and receive work.
    for (stack* st : {&a, &b}) {
        const int fd = st == &a ? fa : fb;
        const int tx = bound_socket(*st);
        ASSERT_GT(tx, 0);
        ASSERT_EQ(lwip_sendto(*st, tx, "ok", 2, 0, sa(to), sizeof to), 2);
        drain(*st);
        EXPECT_EQ(lwip_recv(*st, fd, buf, sizeof buf, MSG_DONTWAIT), 2);
        EXPECT_EQ(lwip_close(*st, tx), 0);
        EXPECT_EQ(lwip_close(*st, fd), 0);
        drain(*st);
        EXPECT_EQ(st->st().dropped_total(), 0u) << drops_text(*st);
        expect_no_leaks(*st);
    }
}

// ---- defects 5 and 8: netifapi on null and foreign netifs; the thread-safe getter --------------

TEST_P(Hardening, NetifapiRefusesNullAndForeignNetifs) {
    stack a(GetParam());
    stack b(GetParam());
    loopback_netif lo_a(a);
    ASSERT_EQ(lo_a.status(), err::ok);
    const ip4_addr ip = ip4_addr::from_octets(192, 0, 2, 1), mask = ip4_addr::from_octets(255, 255, 255, 0);
    EXPECT_EQ(netifapi_set_up(a, nullptr), err::arg);
    EXPECT_EQ(netifapi_set_down(a, nullptr), err::arg);
    EXPECT_EQ(netifapi_set_addr(a, nullptr, ip, mask, {}), err::arg);
    EXPECT_EQ(netifapi_get(a, nullptr).error(), err::arg);
    netif* foreign = &lo_a.nif();
    EXPECT_EQ(netifapi_set_up(b, foreign), err::arg);
    EXPECT_EQ(netifapi_set_down(b, foreign), err::arg);
    EXPECT_EQ(netifapi_set_addr(b, foreign, ip, mask, {}), err::arg);
    EXPECT_EQ(netifapi_get(b, foreign).error(), err::arg);
    EXPECT_EQ(netifapi_remove(b, foreign), err::arg);
    // a's netif is untouched by b's refused calls.
    auto state = netifapi_get(a, foreign);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->ip, k_lo_ip);
    EXPECT_TRUE(state->flags & netif_flags::up);
}

TEST_P(Hardening, NetifapiGetReadsAConsistentAddressWhileItChanges) {
    stack s(GetParam());
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const ip4_addr ips[2] = {ip4_addr::from_octets(127, 0, 0, 1), ip4_addr::from_octets(127, 0, 0, 2)};
    const ip4_addr masks[2] = {ip4_addr::from_octets(255, 0, 0, 0), ip4_addr::from_octets(255, 255, 0, 0)};
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < scaled(400); ++i)
            EXPECT_EQ(netifapi_set_addr(s, &lo.nif(), ips[i % 2], masks[i % 2], {}), err::ok);
        done = true;
    });
    int reads = 0;
    while (!done.load() || reads == 0) {
        auto st = netifapi_get(s, &lo.nif());
        ASSERT_TRUE(st);
        const bool first = st->ip == ips[0] && st->netmask == masks[0];
        const bool second = st->ip == ips[1] && st->netmask == masks[1];
        EXPECT_TRUE(first || second) << "a torn read";
        ++reads;
    }
    writer.join();
}

// ---- defect 9: capacities mean what they say; ranges are enforced ------------------------------

TEST_P(Hardening, MailboxOfCapacityNHoldsNReceivedPackets) {
    stack_config cfg = GetParam();
    constexpr std::size_t n = 4;
    cfg.mailbox_capacity = n;
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    ASSERT_EQ(s.set_input_mode(input_mode::mailbox), err::ok);
    const std::uint64_t inputs0 = s.st().tcpip_msgs_input.get();
    // Hold the tcpip thread inside a callback_wait (its message is the caller's, not
    // the pool's): the mailbox is then empty and every pool message is free.
    std::latch entered(1), release(1);
    std::thread holder([&] {
        struct ctx {
            std::latch* entered;
            std::latch* release;
        } c{&entered, &release};
        EXPECT_EQ(s.callback_wait(
                      [](void* p) {
                          auto* x = static_cast<ctx*>(p);
                          x->entered->count_down();
                          x->release->wait();
                          return err::ok;
                      },
                      &c),
                  err::ok);
    });
    entered.wait();
    for (std::size_t i = 0; i < n; ++i) {
        pbuf* p = pbuf_alloc(s, pbuf_layer::raw, 1, pbuf_type::pool);  // too short for IPv4: dropped later
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(s.input(p, &lo.nif()), err::ok) << "packet " << i << " of a mailbox of " << n;
    }
    pbuf* extra = pbuf_alloc(s, pbuf_layer::raw, 1, pbuf_type::pool);
    ASSERT_NE(extra, nullptr);
    EXPECT_EQ(s.input(extra, &lo.nif()), err::mem) << "the mailbox is full";
    release.count_down();
    holder.join();
    drain(s);
    EXPECT_EQ(s.st().tcpip_msgs_input.get() - inputs0, n);
    EXPECT_EQ(s.st().dropped(drop_reason::input_queue_full), 1u);
    EXPECT_EQ(s.st().dropped(drop_reason::ip_too_short), n);
    expect_no_leaks(s);
}

TEST_P(Hardening, MailboxOfCapacityOneDeliversEveryDatagram) {
    stack_config cfg = GetParam();
    cfg.mailbox_capacity = 1;
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7505);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const auto to = lo_sin(7505);
    char buf[4];
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(lwip_sendto(s, tx, "one", 3, 0, sa(to), sizeof to), 3) << "errno " << errno;
        drain(s);
        EXPECT_EQ(lwip_recv(s, rx, buf, sizeof buf, MSG_DONTWAIT), 3) << "datagram " << i << " errno " << errno;
    }
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    EXPECT_EQ(lwip_close(s, rx), 0);
    EXPECT_EQ(lwip_close(s, tx), 0);
    drain(s);
    expect_no_leaks(s);
}

TEST_P(Hardening, RcvbufIsADatagramCountWithinItsRange) {
    stack s(GetParam());
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    const int rx = bound_socket(s, 7506);
    const int tx = bound_socket(s);
    ASSERT_GT(rx, 0);
    ASSERT_GT(tx, 0);
    const int depth = static_cast<int>(s.config().recv_queue_depth);
    for (const int bad : {0, -1, depth + 1}) EXPECT_TRUE(fails_with(set_rcvbuf(s, rx, bad), EINVAL)) << bad;
    int v = 0;
    socklen_t vl = sizeof v;
    ASSERT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
    EXPECT_EQ(v, depth) << "a refused value changes nothing";
    ASSERT_EQ(set_rcvbuf(s, rx, 5), 0);
    ASSERT_EQ(lwip_getsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
    EXPECT_EQ(v, 5);
    const auto to = lo_sin(7506);
    for (int i = 0; i < 8; ++i) ASSERT_EQ(lwip_sendto(s, tx, "d", 1, 0, sa(to), sizeof to), 1);
    drain(s);
    char c;
    int received = 0;
    while (lwip_recv(s, rx, &c, 1, MSG_DONTWAIT) == 1) ++received;
    EXPECT_EQ(received, 5);
    EXPECT_EQ(s.st().dropped(drop_reason::recv_queue_full), 3u);
    EXPECT_EQ(lwip_close(s, rx), 0);
    EXPECT_EQ(lwip_close(s, tx), 0);
    drain(s);
    expect_no_leaks(s);
}

TEST_P(Hardening, NegativeReceiveTimeoutIsRefused) {
    stack s(GetParam());
    netconn* conn = netconn_new(s);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(netconn_set_recvtimeout(conn, -5), err::arg);
    EXPECT_EQ(conn->recv_timeout_ms.load(), 0) << "nothing changed";
    EXPECT_EQ(netconn_set_recvtimeout(conn, 7), err::ok);
    EXPECT_EQ(conn->recv_timeout_ms.load(), 7);
    EXPECT_EQ(netconn_set_recvbufsize(conn, 0), err::arg);
    EXPECT_EQ(netconn_set_recvbufsize(conn, s.config().recv_queue_depth + 1), err::arg);
    EXPECT_EQ(netconn_delete(conn), err::ok);
    const int fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
    ASSERT_GT(fd, 0);
    const timeval negative{-1, 0};
    EXPECT_TRUE(fails_with(lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &negative, sizeof negative), EDOM));
    EXPECT_EQ(lwip_close(s, fd), 0);
}

TEST_P(Hardening, MaxSocketsMeansWhatItSays) {
    stack_config cfg = GetParam();
    cfg.max_sockets = 2000;  // was capped at 1024 without a word
    stack s(cfg);
    std::vector<int> fds;
    for (int i = 0; i < 2000; ++i) {
        const int fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
        ASSERT_GT(fd, 0) << "socket " << i << " errno " << errno;
        fds.push_back(fd);
    }
    EXPECT_TRUE(fails_with(lwip_socket(s, AF_INET, SOCK_DGRAM, 0), EMFILE));
    EXPECT_EQ(std::set<int>(fds.begin(), fds.end()).size(), fds.size());
    for (int fd : fds) EXPECT_EQ(lwip_close(s, fd), 0);
}

INSTANTIATE_TEST_SUITE_P(AllConfigs, Hardening, ::testing::ValuesIn(all_configs()), config_name);

// ---- defect 6: calls that wait for the core, from core context --------------------------------

/// The four threading × input modes with the default kinds: the checks do not depend
/// on the mailbox or lock kind, and each death test starts a process of its own.
std::vector<stack_config> mode_configs() {
    std::vector<stack_config> out;
    for (const auto& c : all_configs())
        if (c.mailbox == mailbox_kind::mutex_cv && c.lock == lock_kind::std_mutex) out.push_back(c);
    return out;
}

class CoreContextDeathTest : public ::testing::TestWithParam<stack_config> {
protected:
    void SetUp() override {
#if !defined(LWBENCH_CHECK_CORE_CONTEXT)
        GTEST_SKIP() << "core-context checks are compiled into the checking builds only (debug, asan, tsan)";
#endif
        GTEST_FLAG_SET(death_test_style, "threadsafe");  // the stack runs threads
    }
    /// Runs `what` in core context (inside stack::call) on a fresh stack; the child
    /// is killed by SIGALRM if the check is missing and the call hangs instead.
    template <class F>
    static void from_core(const stack_config& cfg, F&& what) {
        alarm(20);
        stack s(cfg);
        loopback_netif lo(s);
        s.call([&] {
            what(s, lo);
            return err::ok;
        });
    }
};

constexpr const char* k_would_deadlock = "called from core context would deadlock";

TEST_P(CoreContextDeathTest, CallbackWait) {
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) {
                     s.callback_wait([](void*) { return err::ok; }, nullptr);
                 }),
                 std::string("stack::callback_wait ") + k_would_deadlock);
}

TEST_P(CoreContextDeathTest, SetThreadingAndInputMode) {
    EXPECT_DEATH(from_core(GetParam(),
                           [](stack& s, loopback_netif&) { s.set_threading_mode(threading_mode::core_locking); }),
                 std::string("stack::set_threading_mode ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { s.set_input_mode(input_mode::mailbox); }),
                 std::string("stack::set_input_mode ") + k_would_deadlock);
}

TEST_P(CoreContextDeathTest, CallAndCoreGuard) {
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { s.call([] { return err::ok; }); }),
                 std::string("stack::call ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { core_guard g(s); }),
                 std::string("core_guard ") + k_would_deadlock);
}

TEST_P(CoreContextDeathTest, SocketCalls) {
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { lwip_socket(s, AF_INET, SOCK_DGRAM, 0); }),
                 std::string("lwip_socket ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(),
                           [](stack& s, loopback_netif&) {
                               char c;
                               lwip_recvfrom(s, 1, &c, 1, 0, nullptr, nullptr);
                           }),
                 std::string("lwip_recvfrom ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { lwip_close(s, 1); }),
                 std::string("lwip_close ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(),
                           [](stack& s, loopback_netif&) {
                               pollfd p{-1, 0, 0};
                               lwip_poll(s, &p, 1, -1);
                           }),
                 std::string("lwip_poll ") + k_would_deadlock);
}

TEST_P(CoreContextDeathTest, NetconnAndNetifapi) {
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif&) { netconn_new(s); }),
                 std::string("netconn_new ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif& lo) { netifapi_set_down(s, &lo.nif()); }),
                 std::string("netifapi_set_down ") + k_would_deadlock);
    EXPECT_DEATH(from_core(GetParam(), [](stack& s, loopback_netif& lo) { netifapi_remove(s, &lo.nif()); }),
                 std::string("netifapi_remove ") + k_would_deadlock);
}

TEST_P(CoreContextDeathTest, CoreStateAccessorsAssertCoreContext) {
    EXPECT_DEATH(
        {
            stack s(GetParam());
            detail::stack_access::netifs(s);
        },
        "stack netif list called outside core context");
}

INSTANTIATE_TEST_SUITE_P(Modes, CoreContextDeathTest, ::testing::ValuesIn(mode_configs()), config_name);

// ---- the teardown contract: a netconn left alive fails loudly ---------------------------------

TEST(TeardownDeathTest, StackDestroyedWithANetconnAliveAbortsAtOnce) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto s = std::make_unique<stack>();
            netconn* leaked = netconn_new(*s);
            (void)leaked;
            s.reset();
        },
        "stack destroyed with 1 netconn\\(s\\) still alive");
}

// ---- defects 4 and 9: configuration validated at construction ----------------------------------

struct bad_field {
    const char* field;
    void (*spoil)(stack_config&);
};

TEST(Config, EveryOutOfRangeFieldIsRefusedByName) {
    const bad_field cases[] = {
        {"mailbox_capacity", [](stack_config& c) { c.mailbox_capacity = 0; }},
        {"mailbox_capacity", [](stack_config& c) { c.mailbox_capacity = k_max_mailbox_capacity + 1; }},
        {"pbuf_pool_size", [](stack_config& c) { c.pbuf_pool_size = 0; }},
        {"pbuf_ref_pool_size", [](stack_config& c) { c.pbuf_ref_pool_size = 0; }},
        {"recv_queue_depth", [](stack_config& c) { c.recv_queue_depth = 0; }},
        {"max_sockets", [](stack_config& c) { c.max_sockets = 0; }},
        {"max_sockets", [](stack_config& c) { c.max_sockets = k_max_sockets + 1; }},
        {"tcpip_cpu", [](stack_config& c) { c.tcpip_cpu = -2; }},
        {"tcpip_cpu", [](stack_config& c) { c.tcpip_cpu = CPU_SETSIZE; }},
        {"mode", [](stack_config& c) { c.mode = static_cast<threading_mode>(7); }},
        {"input", [](stack_config& c) { c.input = static_cast<input_mode>(7); }},
        {"mailbox", [](stack_config& c) { c.mailbox = static_cast<mailbox_kind>(7); }},
        {"lock", [](stack_config& c) { c.lock = static_cast<lock_kind>(7); }},
    };
    for (const auto& bad : cases) {
        SCOPED_TRACE(bad.field);
        stack_config cfg;
        bad.spoil(cfg);
        const auto e = validate_config(cfg);
        ASSERT_TRUE(e.has_value());
        EXPECT_STREQ(e->field, bad.field);
        const std::string expected = std::string("stack_config.") + bad.field + ":";
        try {
            stack s(cfg);
            ADD_FAILURE() << "constructed with an invalid " << bad.field;
        } catch (const std::invalid_argument& x) {
            EXPECT_EQ(std::string(x.what()).rfind(expected, 0), 0u) << x.what();
        }
    }
    EXPECT_FALSE(validate_config(stack_config{}).has_value()) << "the defaults are valid";
    stack_config edges;
    edges.mailbox_capacity = 1;
    edges.pbuf_pool_size = 1;
    edges.pbuf_ref_pool_size = 1;
    edges.recv_queue_depth = 1;
    edges.max_sockets = k_max_sockets;
    EXPECT_FALSE(validate_config(edges).has_value()) << "range ends are valid";
}

// ---- defect 3: descriptor generations never wrap ---------------------------------------------

/// Opens and closes a socket through a small table until its generations are spent.
TEST(Descriptors, ASlotIsRetiredAfterItsLastGenerationNeverReused) {
    stack s;
    auto& owner = detail::stack_access::sockets(s);
    constexpr std::size_t slots = 2;
    constexpr std::uint32_t generations = 3;
    detail::socket_table table(slots, generations);
    std::set<int> issued;
    std::vector<int> closed;
    for (;;) {
        netconn* conn = netconn_new(s);
        ASSERT_NE(conn, nullptr);
        errno = 0;
        const int fd = table.open(owner, conn);
        if (fd < 0) {
            EXPECT_EQ(errno, ENFILE) << "every slot retired";
            netconn_delete(conn);
            break;
        }
        EXPECT_TRUE(issued.insert(fd).second) << "descriptor " << fd << " issued twice";
        EXPECT_EQ(table.close(owner, fd), 0);
        closed.push_back(fd);
        ASSERT_LE(issued.size(), slots * generations) << "a slot outlived its generations";
    }
    EXPECT_EQ(issued.size(), slots * generations);
    for (int fd : closed) {
        EXPECT_FALSE(table.acquire(owner, fd)) << "stale descriptor " << fd << " accepted";
        EXPECT_EQ(table.close(owner, fd), -1);
    }
}

/// The process table: a slot's generation space of the old design (2^21) is passed on
/// one stack, one socket at a time; the first descriptor stays refused throughout.
TEST(Descriptors, AClosedDescriptorStaysRefusedPastTheOldGenerationSpace) {
    if (k_sanitized || k_debug)
        GTEST_SKIP() << "2^21 open/close cycles take minutes in a checking build; the release preset runs it and "
                        "Descriptors.ASlotIsRetiredAfterItsLastGenerationNeverReused covers the logic everywhere";
    stack_config cfg;
    cfg.max_sockets = 1;
    stack s(cfg);
    const int first = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
    ASSERT_GT(first, 0);
    ASSERT_EQ(lwip_close(s, first), 0);
    const int v = 2;
    constexpr int cycles = (1 << 21) + 8;
    for (int i = 0; i < cycles; ++i) {
        const int fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
        ASSERT_GT(fd, 0) << "cycle " << i << " errno " << errno;
        ASSERT_NE(fd, first) << "the closed descriptor was issued again after " << i << " cycles";
        ASSERT_EQ(lwip_setsockopt(s, first, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), -1)
            << "a stale descriptor reached the socket of cycle " << i;
        ASSERT_EQ(lwip_close(s, fd), 0);
    }
}

// ---- issue 10 item 5: a live mode switch under a raw-API sender -------------------------------

class RawSenderModeSwitch : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(true)};
};

TEST_P(RawSenderModeSwitch, SendsThroughCallLoseNothingAcrossSwitches) {
    const int sends = scaled(8000);
    // Room for every datagram in every queue: while the modes are half switched
    // (core locking with mailbox input) a sender that does not wait for the tcpip
    // thread can have all its datagrams in the mailbox at once.
    stack_config cfg = GetParam();
    cfg.mailbox_capacity = static_cast<std::size_t>(sends) + 256;
    cfg.pbuf_pool_size = static_cast<std::size_t>(sends) + 512;
    stack s(cfg);
    loopback_netif lo(s);
    ASSERT_EQ(lo.status(), err::ok);
    raw_sink sink;
    ASSERT_EQ(sink.open(s, 7510), err::ok);
    udp_pcb* pcb = nullptr;
    ASSERT_EQ(s.call([&] {
        pcb = udp_new(s);
        return pcb ? err::ok : err::mem;
    }),
              err::ok);
    std::atomic<bool> sending{true};
    std::atomic<int> switches{0};
    std::uint64_t sent = 0, failed = 0;
    const std::uint64_t locked0 = s.st().api_calls_locked.get(), posted0 = s.st().tcpip_msgs_api.get(),
                        combined0 = s.st().api_calls_combined_self.get() + s.st().api_calls_combined_other.get();
    std::thread sender([&] {
        int seen = 0;
        for (int i = 0; i < sends; ++i) {
            // Every 50 sends, wait for the next switch: a sender that holds the core
            // lock back to back would otherwise starve the switcher and stay in one
            // mode. Switches still land in the middle of the batches.
            if (i % 50 == 0) {
                while (switches.load() == seen) std::this_thread::yield();
                seen = switches.load();
            }
            // The raw API in core context, entered the current mode's way.
            const err e = s.call([&] {
                pbuf* p = pbuf_alloc(s, pbuf_layer::transport, 32, pbuf_type::pool);
                if (!p) return err::mem;
                const err r = udp_sendto(pcb, p, k_lo_ip, 7510);
                pbuf_free(p);
                return r;
            });
            (e == err::ok ? sent : failed)++;
        }
        sending = false;
    });
    while (sending.load()) {
        const threading_mode next = k_threading_modes[static_cast<std::size_t>(switches.load()) % std::size(k_threading_modes)];
        EXPECT_EQ(s.set_threading_mode(next), err::ok);
        EXPECT_EQ(s.set_input_mode(paired_input_mode(next)), err::ok);
        switches.fetch_add(1);
    }
    sender.join();
    drain(s);
    EXPECT_EQ(failed, 0u);
    EXPECT_EQ(sent, static_cast<std::uint64_t>(sends));
    EXPECT_EQ(sink.count.load(), sent) << "every datagram sent is delivered: " << drops_text(s);
    EXPECT_EQ(s.st().dropped_total(), 0u) << drops_text(s);
    EXPECT_GT(switches.load(), 2);
    ::testing::Test::RecordProperty("switches", switches.load());
    // Every way was used while the sender ran (the calls followed the switches).
    EXPECT_GT(s.st().api_calls_locked.get(), locked0);
    EXPECT_GT(s.st().tcpip_msgs_api.get(), posted0);
    EXPECT_GT(s.st().api_calls_combined_self.get() + s.st().api_calls_combined_other.get(), combined0);
    ASSERT_EQ(s.call([&] {
        udp_remove(pcb);
        return err::ok;
    }),
              err::ok);
    sink.close(s);
    drain(s);
    expect_no_leaks(s);
}

INSTANTIATE_TEST_SUITE_P(Representative, RawSenderModeSwitch, ::testing::ValuesIn(stress_configs()), config_name);

}  // namespace
}  // namespace lwbench::test::it
