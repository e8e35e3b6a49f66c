// integration_support.hpp — helpers shared by the integration suites: a watchdog
// that turns a hang into a failure, iteration scaling for sanitizer builds, socket
// helpers, "drain the tcpip mailbox", payload patterns, a raw-API sink, a netif that
// records where its output ran, and /proc readers for the tcpip thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/netif.hpp"
#include "lwbench/pbuf.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/stats.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"
#include "stack_fixture.hpp"

#if defined(__SANITIZE_THREAD__)
#define LWBENCH_IT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LWBENCH_IT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LWBENCH_IT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LWBENCH_IT_ASAN 1
#endif
#endif

namespace lwbench::test::it {

using namespace std::chrono_literals;

// ---- build flavour and iteration scaling ---------------------------------------------

#if defined(LWBENCH_IT_TSAN)
inline constexpr bool k_tsan = true;
#else
inline constexpr bool k_tsan = false;
#endif
#if defined(LWBENCH_IT_ASAN)
inline constexpr bool k_asan = true;
#else
inline constexpr bool k_asan = false;
#endif
#if defined(NDEBUG)
inline constexpr bool k_debug = false;
#else
inline constexpr bool k_debug = true;
#endif
inline constexpr bool k_sanitized = k_tsan || k_asan;

/// Iteration count for a stress loop: `release_n` in release builds, fewer in debug
/// and under sanitizers (TSan is 5-15x slower, ASan ~3x, both at -O0 here); sized so
/// the whole suite stays within ~90 s in release and ~6 min under TSan on 2 cores.
inline int scaled(int release_n) {
    int n = release_n;
    if (k_tsan)
        n = release_n / 3;
    else if (k_asan)
        n = release_n / 2;
    else if (k_debug)
        n = release_n / 2;
    return std::max(n, 1);
}

/// How long a test may run before the watchdog declares it hung.
inline std::chrono::seconds watchdog_limit(bool stress) {
    if (stress) return k_sanitized ? 240s : 60s;
    return k_sanitized ? 120s : 30s;
}

// ---- watchdog --------------------------------------------------------------------------

/// RAII: if not destroyed within `limit`, prints which test hung and ends the process
/// (a hung thread cannot be joined, so failing "softly" would hang too). Declare it as
/// the first member of a fixture so it also covers the fixture's teardown (stack
/// destruction joins the tcpip thread).
class watchdog {
public:
    explicit watchdog(std::chrono::seconds limit) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        _name = info ? std::string(info->test_suite_name()) + "." + info->name() : "?";
        _thread = std::thread([this, limit] {
            std::unique_lock lk(_m);
            if (!_cv.wait_for(lk, limit, [this] { return _done; })) {
                std::fprintf(stderr,
                             "\nWATCHDOG: %s did not finish within %lld s — deadlock or lost wake-up in the "
                             "stack. FAILED.\n",
                             _name.c_str(), static_cast<long long>(limit.count()));
                std::fflush(stderr);
                std::_Exit(86);
            }
        });
    }
    ~watchdog() {
        {
            std::lock_guard lk(_m);
            _done = true;
        }
        _cv.notify_all();
        _thread.join();
    }
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

private:
    std::string _name;
    std::mutex _m;
    std::condition_variable _cv;
    bool _done = false;
    std::thread _thread;
};

// ---- addresses and sockets ---------------------------------------------------------------

inline constexpr ip4_addr k_lo_ip = ip4_addr::from_octets(127, 0, 0, 1);

inline sockaddr_in sin_of(ip4_addr ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = ip.addr;
    return a;
}
inline sockaddr_in lo_sin(std::uint16_t port) { return sin_of(k_lo_ip, port); }
inline const sockaddr* sa(const sockaddr_in& a) { return reinterpret_cast<const sockaddr*>(&a); }

/// Local port of a bound socket (0 on error).
inline std::uint16_t port_of(stack& s, int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (lwip_getsockname(s, fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

/// A UDP socket bound to 127.0.0.1:port (port 0: ephemeral). -1 on failure.
inline int bound_socket(stack& s, std::uint16_t port = 0, ip4_addr ip = ip4_addr::any()) {
    const int fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    const auto a = sin_of(ip, port);
    if (lwip_bind(s, fd, sa(a), sizeof a) != 0) {
        lwip_close(s, fd);
        return -1;
    }
    return fd;
}

/// A socket call's result checked BSD-style: -1 with errno `expected`. Pass the call
/// itself as `result` (errno is read right after it): EXPECT_TRUE(fails_with(f(), EBADF)).
inline ::testing::AssertionResult fails_with(long result, int expected) {
    const int e = errno;
    if (result == -1 && e == expected) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "returned " << result << " with errno " << e << " (" << std::strerror(e)
                                         << "), expected -1 with errno " << expected << " ("
                                         << std::strerror(expected) << ")";
}

inline int set_rcvbuf(stack& s, int fd, int datagrams) {
    return lwip_setsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &datagrams, sizeof datagrams);
}

/// Waits until every message already in the tcpip mailbox has run (FIFO): packets a
/// finished send posted for mailbox input are then delivered (or dropped and
/// counted). A no-op round trip in the other modes.
inline void drain(stack& s) {
    const err e = s.callback_wait([](void*) { return err::ok; }, nullptr);
    EXPECT_EQ(e, err::ok);
}

// ---- payloads ---------------------------------------------------------------------------

inline std::byte pattern_byte(std::uint32_t stream, std::uint32_t seq, std::size_t i) {
    return static_cast<std::byte>((i * 31u + seq * 7u + stream * 13u + 1u) & 0xffu);
}
inline std::vector<std::byte> make_payload(std::size_t n, std::uint32_t seed = 0) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pattern_byte(seed, 0, i);
    return v;
}

/// A tagged stress datagram: header + pattern. Sizes vary with seq.
struct tag {
    std::uint32_t magic;
    std::uint32_t stream;
    std::uint32_t seq;
};
inline constexpr std::uint32_t k_magic = 0x4c574221u;  // "LWB!"
inline std::size_t tagged_len(std::uint32_t seq) { return sizeof(tag) + 4 + (seq * 37u) % 200u; }
inline std::size_t fill_tagged(std::byte* buf, std::uint32_t stream, std::uint32_t seq) {
    const std::size_t n = tagged_len(seq);
    const tag t{k_magic, stream, seq};
    std::memcpy(buf, &t, sizeof t);
    for (std::size_t i = sizeof t; i < n; ++i) buf[i] = pattern_byte(stream, seq, i);
    return n;
}
/// Checks a received tagged datagram; returns false (and explains) if corrupt.
inline bool check_tagged(const std::byte* buf, std::size_t n, tag& out, std::string& why) {
    if (n < sizeof(tag)) {
        why = "short datagram (" + std::to_string(n) + " bytes)";
        return false;
    }
    std::memcpy(&out, buf, sizeof out);
    if (out.magic != k_magic) {
        why = "bad magic";
        return false;
    }
    if (n != tagged_len(out.seq)) {
        why = "length " + std::to_string(n) + " != " + std::to_string(tagged_len(out.seq));
        return false;
    }
    for (std::size_t i = sizeof(tag); i < n; ++i)
        if (buf[i] != pattern_byte(out.stream, out.seq, i)) {
            why = "payload byte " + std::to_string(i) + " corrupt";
            return false;
        }
    return true;
}

// ---- raw-API sink and a recording netif ----------------------------------------------

/// A raw udp pcb whose recv callback records what arrived and on which thread.
struct raw_sink {
    udp_pcb* pcb = nullptr;
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> on_expected_thread{0};
    std::atomic<std::thread::id> expected_thread{};
    std::atomic<std::thread::id> last_thread{};
    std::mutex m;  // guards the fields below (written in core context, read by the test)
    std::vector<std::byte> last_payload;
    ip4_addr last_src;
    std::uint16_t last_src_port = 0;
    std::size_t last_chain_len = 0;

    static void recv(void* arg, udp_pcb*, pbuf* p, ip4_addr src, std::uint16_t port) {
        auto* self = static_cast<raw_sink*>(arg);
        const auto me = std::this_thread::get_id();
        self->last_thread.store(me);
        if (me == self->expected_thread.load()) self->on_expected_thread.fetch_add(1);
        {
            std::lock_guard lk(self->m);
            self->last_payload.clear();
            for (const pbuf* q = p; q; q = q->next)
                self->last_payload.insert(self->last_payload.end(), q->bytes(), q->bytes() + q->len);
            self->last_src = src;
            self->last_src_port = port;
            self->last_chain_len = pbuf_clen(p);
        }
        pbuf_free(p);
        self->count.fetch_add(1);
    }
    /// Creates and binds the pcb (takes the core lock itself).
    err open(stack& s, std::uint16_t port) {
        core_guard g(s);
        pcb = udp_new(s);
        if (!pcb) return err::mem;
        udp_recv(pcb, &raw_sink::recv, this);
        return udp_bind(pcb, ip4_addr::any(), port);
    }
    void close(stack& s) {
        core_guard g(s);
        udp_remove(pcb);
        pcb = nullptr;
    }
};

/// A netif that accepts every packet (frees nothing: output never owns p) and records
/// the thread its output ran on — i.e. where udp_sendto → ip4_output executed.
struct recording_netif {
    netif n;
    std::atomic<std::uint64_t> outputs{0};
    std::atomic<std::uint64_t> on_expected_thread{0};
    std::atomic<std::thread::id> expected_thread{};

    recording_netif(ip4_addr ip, ip4_addr mask) {
        n.name = "rec";
        n.output = &recording_netif::output;
        n.state = this;
        netif_set_addr(&n, ip, mask, {});
    }
    static err output(netif* nif, pbuf*, ip4_addr) {
        auto* self = static_cast<recording_netif*>(nif->state);
        if (std::this_thread::get_id() == self->expected_thread.load()) self->on_expected_thread.fetch_add(1);
        self->outputs.fetch_add(1);
        return err::ok;
    }
};

// ---- the tcpip thread, seen from /proc ----------------------------------------------------

/// The kernel thread id of the tcpip thread (asked on the thread itself).
inline pid_t tcpip_tid(stack& s) {
    pid_t tid = 0;
    s.callback_wait(
        [](void* c) {
            *static_cast<pid_t*>(c) = static_cast<pid_t>(::syscall(SYS_gettid));
            return err::ok;
        },
        &tid);
    return tid;
}

/// Sets the nice value of thread `tid` (0: the calling thread) where the process may
/// (root, CAP_SYS_NICE); returns the value it had. Tests that count context switches
/// or sleeps run their threads at nice -20, so that another process on their CPU (a
/// parallel ctest job under a sanitizer, a build) rarely preempts them: each such
/// preemption adds a switch, or a partner's sleep, that is not the stack's. Equal nice
/// values leave the measured threads' order among themselves as it was. Without the
/// permission nothing changes and the test runs at the default nice.
inline int set_thread_nice(pid_t tid, int nice) {
    const auto who = static_cast<id_t>(tid);
    errno = 0;
    const int before = ::getpriority(PRIO_PROCESS, who);
    (void)::setpriority(PRIO_PROCESS, who, nice);
    return errno == 0 ? before : 0;
}

/// "voluntary_ctxt_switches" (or another key) of a thread of this process; -1 if unknown.
inline long long task_status_field(pid_t tid, const std::string& key) {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
    return -1;
}

/// Scheduler state letter of a thread ('R', 'S', …); '?' if unknown.
inline char task_state(pid_t tid) {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = all.rfind(')');
    if (close == std::string::npos || close + 2 >= all.size()) return '?';
    return all[close + 2];
}

// ---- counting helpers for accounting ----------------------------------------------------

/// Sum of the drops at the stack's bounded queues.
inline std::uint64_t bounded_queue_drops(const stack& s) {
    const auto& st = s.st();
    return st.dropped(drop_reason::recv_queue_full) + st.dropped(drop_reason::netif_queue_full) +
           st.dropped(drop_reason::input_queue_full);
}

/// Non-zero drop counters, for failure messages.
inline std::string drops_text(const stack& s) {
    std::ostringstream o;
    for (const auto& [name, n] : s.st().drops_by_name()) o << name << "=" << n << " ";
    return o.str();
}

/// Receivers count here; the test thread waits (bounded) until the count reaches an
/// expected total, then closes the receivers' sockets to let them go.
class tally {
public:
    void add(std::uint64_t n = 1) {
        const auto v = _received.fetch_add(n) + n;
        if (v >= _expected.load()) {
            std::lock_guard lk(_m);
            _cv.notify_all();
        }
    }
    [[nodiscard]] std::uint64_t received() const { return _received.load(); }
    /// true if `expected` was reached before `limit` passed.
    bool wait_for(std::uint64_t expected, std::chrono::milliseconds limit) {
        _expected.store(expected);
        std::unique_lock lk(_m);
        return _cv.wait_for(lk, limit, [&] { return _received.load() >= expected; });
    }

private:
    std::atomic<std::uint64_t> _received{0};
    std::atomic<std::uint64_t> _expected{UINT64_MAX};
    std::mutex _m;
    std::condition_variable _cv;
};

/// The representative configurations for the expensive stress tests: lwIP's two
/// threading modes × both input modes with the default kinds (mutex_cv mailbox,
/// std::mutex lock), plus every other mailbox kind and every other lock kind, each once
/// per threading mode; the combining mode once with each lock kind and input mode. The
/// full matrix is covered by the behavioural suites; running every stress test over it
/// would not fit the time budget under TSan.
inline std::vector<stack_config> stress_configs() {
    struct row {
        threading_mode m;
        input_mode i;
        mailbox_kind mb;
        lock_kind l;
    };
    const row rows[] = {
        {threading_mode::message_passing, input_mode::mailbox, mailbox_kind::mutex_cv, lock_kind::std_mutex},
        {threading_mode::message_passing, input_mode::inline_, mailbox_kind::mutex_cv, lock_kind::std_mutex},
        {threading_mode::core_locking, input_mode::mailbox, mailbox_kind::mutex_cv, lock_kind::std_mutex},
        {threading_mode::core_locking, input_mode::inline_, mailbox_kind::mutex_cv, lock_kind::std_mutex},
        {threading_mode::message_passing, input_mode::mailbox, mailbox_kind::tbb_queue, lock_kind::tbb_spin_mutex},
        {threading_mode::message_passing, input_mode::inline_, mailbox_kind::spin_then_block,
         lock_kind::tbb_queuing_mutex},
        {threading_mode::core_locking, input_mode::mailbox, mailbox_kind::spin_then_block, lock_kind::tbb_spin_mutex},
        {threading_mode::core_locking, input_mode::inline_, mailbox_kind::tbb_queue, lock_kind::tbb_queuing_mutex},
        {threading_mode::message_passing, input_mode::mailbox, mailbox_kind::adaptive, lock_kind::std_mutex},
        {threading_mode::core_locking, input_mode::mailbox, mailbox_kind::adaptive, lock_kind::tbb_spin_mutex},
        {threading_mode::combining, input_mode::combining, mailbox_kind::mutex_cv, lock_kind::std_mutex},
        {threading_mode::combining, input_mode::mailbox, mailbox_kind::tbb_queue, lock_kind::tbb_spin_mutex},
        {threading_mode::combining, input_mode::inline_, mailbox_kind::spin_then_block, lock_kind::tbb_queuing_mutex},
    };
    std::vector<stack_config> out;
    for (const auto& r : rows) {
        stack_config c;
        c.mode = r.m;
        c.input = r.i;
        c.mailbox = r.mb;
        c.lock = r.l;
        c.spin_iterations = 2000;
        out.push_back(c);
    }
    return out;
}

}  // namespace lwbench::test::it
