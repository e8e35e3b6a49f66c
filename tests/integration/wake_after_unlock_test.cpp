// wake_after_unlock_test.cpp — wake-ups the core decides are issued after the core is
// released (detail/wake_list.hpp), seen as context-switch counts of a socket round
// trip with every thread on one CPU. If a receiver were woken while its waker still
// held the core, it would run, block on the core lock and need a second wake-up: a
// core-locking round trip would cost ~4 switches instead of 2 (issue 13, item 1).
//
// Counts (context switches of the three threads involved, from
// /proc/self/task/<tid>/status) are stable where times are not; the average over
// many round trips is compared with a small tolerance.
//
// Message passing under SCHED_FIFO (lwIP's RTOS priority order: the tcpip thread above
// the application) costs exactly 6, not the 4 of A->tcpip->B->tcpip->A, and 6 is the
// floor for lwIP's API: a send waits for its completion, so each application thread
// must run again after its own post. The client posts its send; the tcpip thread, of
// higher priority, preempts it at once (switch 1), runs the send (queues the datagram
// for the echo thread, completes the client's call) and blocks; the preempted client
// is at the head of its priority's run queue and resumes (2), returns from the send,
// blocks in recv (3: the echo thread runs), and the echo thread's send repeats the
// pattern (4, 5, 6). Under SCHED_OTHER the tcpip thread does not always preempt the
// poster, and a round trip costs 4 when the echo thread happens to run before the
// client is resumed, 6 when not: a scheduler's coin, not a property of the stack.
#include <poll.h>
#include <sched.h>

#include <algorithm>
#include <cmath>

#include "integration_support.hpp"

namespace lwbench::test::it {
namespace {

/// The first CPU this process may run on, or -1.
int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) return cpu;
    return -1;
}

void pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
}

/// The application threads' policy under `policy` (the harness's order: below the
/// tcpip thread under fifo).
void app_policy(sched_policy policy) {
    ASSERT_EQ(apply_sched_policy(policy, k_fifo_app_priority), 0) << to_string(policy);
}


void unpin_self() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);  // the kernel keeps the allowed subset
}

/// Voluntary + involuntary switches. Neither alone is stable on a loaded machine: a
/// thread preempted by another process before it blocks may find its reply already
/// there (one voluntary switch fewer, one involuntary more). Each preemption by another
/// process adds one, which is why the measured threads run at nice -20 (below).
long long switches_of(pid_t tid) {
    return task_status_field(tid, "voluntary_ctxt_switches") + task_status_field(tid, "nonvoluntary_ctxt_switches");
}

struct round_trip_case;
void PrintTo(const round_trip_case& c, std::ostream* os);

struct round_trip_case {
    stack_config cfg;  ///< cfg.sched: the tcpip thread's policy, applied to the client and echo threads too
    bool echo_polls;        ///< the echo thread waits in lwip_poll before each recv
    double switches_per_rt;  ///< expected switches per round trip (average)
    double tolerance;
};

void PrintTo(const round_trip_case& c, std::ostream* os) {
    *os << to_string(c.cfg.mode) << "/" << to_string(c.cfg.mailbox) << "/" << to_string(c.cfg.lock)
        << (c.echo_polls ? "/poll" : "/recv") << "/" << to_string(c.cfg.sched);
}

class WakeAfterUnlock : public ::testing::TestWithParam<round_trip_case> {};

/// Context switches per socket round trip of the client, echo and tcpip threads, all
/// pinned to one CPU, averaged over `round_trips` after a warm-up.
double switches_per_round_trip(const round_trip_case& c, int round_trips) {
    const int cpu = first_allowed_cpu();
    if (cpu < 0) ADD_FAILURE() << "no allowed CPU";
    stack_config cfg = c.cfg;
    cfg.tcpip_cpu = cpu;
    stack s{cfg};
    loopback_netif lo{s};
    EXPECT_EQ(lo.status(), err::ok);
    const int client = bound_socket(s);
    const int server = bound_socket(s);
    EXPECT_GT(client, 0);
    EXPECT_GT(server, 0);
    const auto server_addr = lo_sin(port_of(s, server));
    const pid_t tcpip = tcpip_tid(s);
    pin_self(cpu);
    app_policy(c.cfg.sched);
    // Shielded from other processes on this CPU (integration_support.hpp: set_thread_nice;
    // seen without it: 2.10-2.12 per core-locking round trip, three attempts, TSan, load 13).
    const int nice_before = set_thread_nice(0, -20);
    set_thread_nice(tcpip, -20);

    std::atomic<pid_t> echo_tid{0};
    std::thread echo([&] {
        pin_self(cpu);
        app_policy(c.cfg.sched);
        set_thread_nice(0, -20);
        echo_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
        char buf[64];
        sockaddr_in from{};
        for (;;) {
            if (c.echo_polls) {
                pollfd p{server, POLLIN, 0};
                if (lwip_poll(s, &p, 1, -1) != 1 || !(p.revents & POLLIN)) return;
            }
            socklen_t len = sizeof from;
            const ssize_t n = lwip_recvfrom(s, server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n <= 0) return;  // closed: the test is over
            if (lwip_sendto(s, server, buf, static_cast<std::size_t>(n), 0, sa(from), len) != n) return;
        }
    });
    const auto one_round_trip = [&] {
        char buf[64] = {1};
        EXPECT_EQ(lwip_sendto(s, client, buf, sizeof buf, 0, sa(server_addr), sizeof server_addr), 64);
        EXPECT_EQ(lwip_recv(s, client, buf, sizeof buf, 0), 64);
    };
    for (int i = 0; i < 200; ++i) one_round_trip();  // warm-up: pools, caches, the scheduler's view
    const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
    const pid_t peer = echo_tid.load();
    const long long before = switches_of(self) + switches_of(peer) + switches_of(tcpip);
    for (int i = 0; i < round_trips; ++i) one_round_trip();
    const long long after = switches_of(self) + switches_of(peer) + switches_of(tcpip);

    app_policy(sched_policy::other);
    set_thread_nice(0, nice_before);
    unpin_self();
    lwip_close(s, server);  // wakes the echo thread (closed)
    echo.join();
    lwip_close(s, client);
    return static_cast<double>(after - before) / round_trips;
}

TEST_P(WakeAfterUnlock, SwitchesPerRoundTripOnOneCpu) {
    watchdog wd{watchdog_limit(false)};
    const auto& c = GetParam();
    if (auto why = sched_unavailable(c.cfg.sched)) GTEST_SKIP() << "--sched " << to_string(c.cfg.sched) << ": " << *why;
    // Another process on this CPU (a parallel ctest job, a build) preempts the pinned
    // threads and adds switches that are not the stack's; it never removes any. So the
    // fewest switches of up to three measurements is the stack's own count: a stack that
    // wakes under the core lock costs ~4 in every attempt and still fails.
    double per_rt = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        const double got = switches_per_round_trip(c, scaled(4000));
        std::printf("  %.3f context switches per round trip\n", got);
        per_rt = attempt == 0 ? got : std::min(per_rt, got);
        if (std::abs(per_rt - c.switches_per_rt) <= c.tolerance) break;
    }
    EXPECT_NEAR(per_rt, c.switches_per_rt, c.tolerance)
        << "context switches per round trip (client + echo + tcpip thread, one CPU)";
}

std::vector<round_trip_case> cases() {
    std::vector<round_trip_case> out;
    for (auto policy : k_sched_policies) {
        for (auto lock : {lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex})
            for (bool polls : {false, true}) {
                stack_config c;
                c.mode = threading_mode::core_locking;
                c.input = paired_input_mode(c.mode);
                c.lock = lock;
                c.sched = policy;
                out.push_back({c, polls, 2.0, 0.05});  // each side blocks once: its peer's datagram wakes it
            }
        for (auto mailbox : {mailbox_kind::mutex_cv, mailbox_kind::tbb_queue})
            for (bool polls : {false, true}) {
                stack_config c;
                c.mode = threading_mode::message_passing;
                c.input = paired_input_mode(c.mode);
                c.mailbox = mailbox;
                c.sched = policy;
                if (policy == sched_policy::fifo)
                    out.push_back({c, polls, 6.0, 0.05});  // the floor for a send that waits (file comment)
                else
                    // Between the lucky 4 and the floor 6 (file comment): measured 5.0-5.4 on
                    // a quiet machine, 5.9 on a loaded one, where other processes' preemptions
                    // add switches; 7.0-7.3 before the wake-ups moved after unlock and the
                    // completions after the drained mailbox. [4, 6.9] guards that gain.
                    out.push_back({c, polls, 5.45, 1.45});
            }
    }
    return out;
}

std::string case_name(const ::testing::TestParamInfo<round_trip_case>& info) {
    const auto& c = info.param;
    return std::string(to_string(c.cfg.mode)) + "_" + to_string(c.cfg.mailbox) + "_" + to_string(c.cfg.lock) + (c.echo_polls ? "_poll" : "_recv") + "_" + to_string(c.cfg.sched);
}

INSTANTIATE_TEST_SUITE_P(OneCpu, WakeAfterUnlock, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace lwbench::test::it
