// fuzz_socket_api.cpp — libFuzzer target for the socket API itself: sequences of
// calls (socket, bind, connect, sendto, send, recvfrom, recv, poll, setsockopt,
// getsockopt, ioctl, getsockname, close, and live mode switches) with arbitrary
// arguments, run by three threads at once on one stack, then the stack is destroyed
// with whatever is still open.
//
// Each input is one program. Its first bytes choose the stack: threading mode, input
// mode, mailbox and lock kind, and small capacities (so queues, pools and the socket
// limit run full). The rest is split into three per-thread programs; every thread
// decodes operations and arguments from its own bytes (FuzzedDataProvider). The
// descriptors the threads use come from a shared table the calls fill (so threads
// race on the same sockets) or straight from the bytes (stale, foreign, negative).
// Pointers are null or valid buffers, lengths never exceed the buffer they describe:
// the API promises errors for bad arguments, not for lies about memory.
//
// Bounded time: receives always carry MSG_DONTWAIT, poll waits at most 2 ms, every
// other call is bounded by the stack. Checked after the threads are joined, before
// the stack goes: every errno was one the API documents for that call; with all
// sockets closed, every pbuf came back. ASan+UBSan report the rest; the stack's
// destructor checks its teardown contract itself.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/ioctl.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "lwbench/loopback_netif.hpp"
#include "lwbench/sockets.hpp"

namespace {

using namespace lwbench;

[[noreturn]] void fail(const char* what, int detail) {
    std::fprintf(stderr, "fuzz_socket_api: invariant violated: %s (%d)\n", what, detail);
    std::abort();
}

constexpr std::size_t k_threads = 3;
constexpr std::size_t k_shared_fds = 6;
constexpr std::size_t k_max_payload = 70000;  // past the largest UDP payload (EMSGSIZE)

/// A read-only payload every sender may use (its bytes are never written).
const std::array<std::byte, k_max_payload>& payload() {
    static const std::array<std::byte, k_max_payload> p{};
    return p;
}

enum class op : std::uint8_t {
    socket, bind, connect, sendto, send, recvfrom, recv, poll, setsockopt, getsockopt, ioctl, getsockname,
    close, switch_mode, count_
};

/// Every errno the socket API may set (sockets.hpp); anything else is a finding.
bool documented_errno(int e) {
    switch (e) {
        case EBADF: case EINVAL: case EMSGSIZE: case EAGAIN: case EADDRINUSE: case ENOTCONN: case EDESTADDRREQ:
        case EAFNOSUPPORT: case EFAULT: case ENOBUFS: case ENOMEM: case EMFILE: case ENFILE: case EPROTONOSUPPORT:
        case EOPNOTSUPP: case ENOPROTOOPT: case EDOM: case ENOTTY: case EHOSTUNREACH: case ENETDOWN:
            return true;
        default: return false;
    }
}

struct program_state {
    stack& s;
    std::array<std::atomic<int>, k_shared_fds>& fds;
    std::vector<int>& opened;  ///< this thread's: every descriptor it was given
};

int pick_fd(FuzzedDataProvider& in, program_state& st) {
    if (in.ConsumeBool()) return st.fds[in.ConsumeIntegralInRange<std::size_t>(0, k_shared_fds - 1)].load();
    return in.ConsumeIntegral<int>();  // stale, foreign, never issued, negative
}

/// A sockaddr the call may read `len` bytes of (the storage is always large enough).
struct address {
    sockaddr_storage storage{};
    socklen_t len = 0;
    bool null = false;
    [[nodiscard]] const sockaddr* get() const { return null ? nullptr : reinterpret_cast<const sockaddr*>(&storage); }
};

address pick_address(FuzzedDataProvider& in) {
    address a;
    a.null = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    sockaddr_in sin{};
    sin.sin_family = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? in.ConsumeIntegral<sa_family_t>() : AF_INET;
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) sin.sin_family = AF_UNSPEC;
    sin.sin_port = htons(in.ConsumeIntegralInRange<std::uint16_t>(0, 8));  // a few ports, so datagrams meet sockets
    const ip4_addr choices[] = {ip4_addr::from_octets(127, 0, 0, 1), ip4_addr::any(), ip4_addr::from_octets(255, 255, 255, 255),
                                ip4_addr::from_octets(192, 0, 2, 1), ip4_addr{in.ConsumeIntegral<std::uint32_t>()}};
    sin.sin_addr.s_addr = choices[in.ConsumeIntegralInRange<std::size_t>(0, 4)].addr;
    std::memcpy(&a.storage, &sin, sizeof sin);
    a.len = in.ConsumeBool() ? static_cast<socklen_t>(sizeof sin)
                             : in.ConsumeIntegralInRange<socklen_t>(0, sizeof(sockaddr_storage));
    return a;
}

void check(long r, const char* call) {
    if (r < 0 && !documented_errno(errno)) fail(call, errno);
}

void run_program(program_state st, std::vector<std::uint8_t> bytes) {
    FuzzedDataProvider in(bytes.data(), bytes.size());
    std::vector<std::byte> rx(k_max_payload);
    stack& s = st.s;
    while (in.remaining_bytes() > 0) {
        const auto which = static_cast<op>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(op::count_) - 1));
        errno = 0;
        switch (which) {
            case op::socket: {
                const int domain = in.ConsumeBool() ? AF_INET : in.ConsumeIntegral<int>();
                int type = in.ConsumeBool() ? SOCK_DGRAM : in.ConsumeIntegral<int>();
                if (in.ConsumeBool()) type |= SOCK_NONBLOCK;
                const int protocol = in.ConsumeBool() ? 0 : in.ConsumeIntegral<int>();
                const int fd = lwip_socket(s, domain, type, protocol);
                check(fd, "socket");
                if (fd >= 0) {
                    // Keep it where the others can reach it; a descriptor pushed out stays
                    // open until the end (closed there, or by the stack's destructor).
                    st.opened.push_back(fd);
                    st.fds[in.ConsumeIntegralInRange<std::size_t>(0, k_shared_fds - 1)].store(fd);
                }
                break;
            }
            case op::bind: {
                const int fd = pick_fd(in, st);
                const address a = pick_address(in);
                check(lwip_bind(s, fd, a.get(), a.len), "bind");
                break;
            }
            case op::connect: {
                const int fd = pick_fd(in, st);
                const address a = pick_address(in);
                check(lwip_connect(s, fd, a.get(), a.len), "connect");
                break;
            }
            case op::sendto:
            case op::send: {
                const int fd = pick_fd(in, st);
                const std::size_t len = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 1500)
                                                         : in.ConsumeIntegralInRange<std::size_t>(0, k_max_payload);
                const void* buf = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? nullptr : payload().data();
                const int flags = in.ConsumeBool() ? 0 : in.ConsumeIntegral<int>();
                if (which == op::send) {
                    check(lwip_send(s, fd, buf, len, flags), "send");
                } else {
                    const address a = pick_address(in);
                    check(lwip_sendto(s, fd, buf, len, flags, a.get(), a.len), "sendto");
                }
                break;
            }
            case op::recvfrom:
            case op::recv: {
                const int fd = pick_fd(in, st);
                const std::size_t len = in.ConsumeIntegralInRange<std::size_t>(0, rx.size());
                void* buf = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? nullptr : rx.data();
                const int flags = (in.ConsumeBool() ? 0 : in.ConsumeIntegral<int>()) | MSG_DONTWAIT;
                if (which == op::recv) {
                    check(lwip_recv(s, fd, buf, len, flags), "recv");
                } else {
                    sockaddr_storage from{};
                    socklen_t from_len = in.ConsumeIntegralInRange<socklen_t>(0, sizeof from);
                    const bool with_from = in.ConsumeBool();
                    check(lwip_recvfrom(s, fd, buf, len, flags, with_from ? reinterpret_cast<sockaddr*>(&from) : nullptr,
                                        in.ConsumeBool() ? &from_len : nullptr),
                          "recvfrom");
                }
                break;
            }
            case op::poll: {
                std::array<pollfd, 4> p{};
                const auto n = in.ConsumeIntegralInRange<nfds_t>(0, p.size());
                for (nfds_t i = 0; i < n; ++i) {
                    p[i].fd = pick_fd(in, st);
                    p[i].events = in.ConsumeIntegral<short>();
                }
                const bool null_fds = n == 0 && in.ConsumeBool();
                check(lwip_poll(s, null_fds ? nullptr : p.data(), n, in.ConsumeIntegralInRange<int>(0, 2)), "poll");
                break;
            }
            case op::setsockopt:
            case op::getsockopt: {
                const int fd = pick_fd(in, st);
                const int level = in.ConsumeBool() ? SOL_SOCKET : in.ConsumeIntegral<int>();
                const int names[] = {SO_RCVTIMEO, SO_RCVBUF, SO_TYPE, SO_ERROR, SO_SNDBUF, in.ConsumeIntegral<int>()};
                const int name = names[in.ConsumeIntegralInRange<std::size_t>(0, 5)];
                std::array<std::uint8_t, 64> value{};
                const auto given = in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, value.size()));
                if (!given.empty()) std::memcpy(value.data(), given.data(), given.size());
                socklen_t len = in.ConsumeIntegralInRange<socklen_t>(0, value.size());
                void* ptr = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? nullptr : value.data();
                if (which == op::setsockopt)
                    check(lwip_setsockopt(s, fd, level, name, ptr, len), "setsockopt");
                else
                    check(lwip_getsockopt(s, fd, level, name, ptr, in.ConsumeBool() ? &len : nullptr), "getsockopt");
                break;
            }
            case op::ioctl: {
                const int fd = pick_fd(in, st);
                const unsigned long requests[] = {FIONBIO, FIONREAD, in.ConsumeIntegral<unsigned long>()};
                int arg = in.ConsumeIntegral<int>();
                check(lwip_ioctl(s, fd, requests[in.ConsumeIntegralInRange<std::size_t>(0, 2)],
                                 in.ConsumeIntegralInRange<int>(0, 15) == 0 ? nullptr : &arg),
                      "ioctl");
                break;
            }
            case op::getsockname: {
                const int fd = pick_fd(in, st);
                sockaddr_storage a{};
                socklen_t len = in.ConsumeIntegralInRange<socklen_t>(0, sizeof a);
                check(lwip_getsockname(s, fd, in.ConsumeBool() ? reinterpret_cast<sockaddr*>(&a) : nullptr,
                                       in.ConsumeBool() ? &len : nullptr),
                      "getsockname");
                break;
            }
            case op::close: check(lwip_close(s, pick_fd(in, st)), "close"); break;
            case op::switch_mode: {
                const auto m = in.ConsumeBool() ? threading_mode::core_locking : threading_mode::message_passing;
                if (s.set_threading_mode(m) != err::ok) fail("set_threading_mode", 0);
                if (s.set_input_mode(in.ConsumeBool() ? paired_input_mode(m) : input_mode::mailbox) != err::ok)
                    fail("set_input_mode", 0);
                break;
            }
            case op::count_: break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return -1;  // longer programs add time, not coverage
    FuzzedDataProvider in(data, size);
    stack_config cfg;
    cfg.mode = in.ConsumeBool() ? threading_mode::core_locking : threading_mode::message_passing;
    cfg.input = in.ConsumeBool() ? input_mode::inline_ : input_mode::mailbox;
    cfg.mailbox = k_mailbox_kinds[in.ConsumeIntegralInRange<std::size_t>(0, std::size(k_mailbox_kinds) - 1)];
    cfg.lock = static_cast<lock_kind>(in.ConsumeIntegralInRange<int>(0, 2));
    cfg.mailbox_capacity = in.ConsumeIntegralInRange<std::size_t>(1, 16);
    cfg.pbuf_pool_size = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    cfg.pbuf_ref_pool_size = in.ConsumeIntegralInRange<std::size_t>(1, 16);
    cfg.recv_queue_depth = in.ConsumeIntegralInRange<std::size_t>(1, 8);
    cfg.max_sockets = in.ConsumeIntegralInRange<std::size_t>(1, 8);
    cfg.spin_iterations = 100;
    const bool close_all_first = in.ConsumeBool();
    std::array<std::vector<std::uint8_t>, k_threads> programs;
    for (auto& p : programs) p = in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 512));

    stack s(cfg);
    {
        loopback_netif lo(s);
        if (lo.status() != err::ok) fail("loopback setup", static_cast<int>(lo.status()));
        std::array<std::atomic<int>, k_shared_fds> fds;
        for (auto& fd : fds) fd.store(-1);
        std::array<std::vector<int>, k_threads> opened;
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < k_threads; ++i)
            threads.emplace_back(run_program, program_state{s, fds, opened[i]}, std::move(programs[i]));
        for (auto& t : threads) t.join();
        if (close_all_first) {
            for (const auto& list : opened)
                for (int fd : list) lwip_close(s, fd);  // EBADF for those closed already
        }
        if (s.callback_wait([](void*) { return err::ok; }, nullptr) != err::ok) fail("drain", 0);
    }  // the loopback goes: its removal drops (and counts) anything it still queues
    if (close_all_first) {
        const auto& pools = s.pools();
        if (pools.pool_in_use() != 0) fail("pool pbufs leaked", static_cast<int>(pools.pool_in_use()));
        if (pools.ref_in_use() != 0) fail("ref pbufs leaked", static_cast<int>(pools.ref_in_use()));
        if (pools.heap_in_use() != 0) fail("heap pbufs leaked", static_cast<int>(pools.heap_in_use()));
    }
    return 0;  // otherwise ~stack closes what is left open, and checks its teardown contract
}
