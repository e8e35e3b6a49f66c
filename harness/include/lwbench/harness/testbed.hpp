// testbed.hpp — the one testbed behind the harness's scenarios and the Google
// Benchmark suite: a stack, the zero-copy loopback and a counting raw sink on port 9,
// plus one application endpoint per API — so both measure exactly the same thing.
// A testbed may add work inside the core to every packet the stack outputs (the
// scenarios' --core-work; core_work.hpp): its loopback runs the busy loop in core
// context, inside the dispatched call that sends the packet.
//
// Header-only and inside the stack's variant namespace (LWBENCH_NS_BEGIN): the dispatch
// benchmark compiles it once per stack variant (lwbench::dyn, lwbench::fixed_cl, …)
// and links all of them into one binary without ODR clashes. It needs only the stack
// (no Google Benchmark), so the steady-state test uses it as well.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <string_view>
#include <vector>

#include "lwbench/harness/core_work.hpp"
#include "lwbench/harness/kinds.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/sockets.hpp"
#include "lwbench/tcpip.hpp"
#include "lwbench/udp.hpp"

LWBENCH_NS_BEGIN
namespace bench {

using api_kind = lwbench::harness::api_kind;  // stack-free: one enum for every variant
using lwbench::harness::to_string;
using lwbench::harness::wait_until;

inline constexpr std::uint16_t k_sink_port = 9;  ///< the counting raw sink (discard)
inline constexpr std::uint16_t k_rx_port = 7000, k_echo_port = 7001, k_ping_port = 7002;
inline constexpr ip4_addr k_lo = ip4_addr::from_octets(127, 0, 0, 1);

inline stack_config paired_config(threading_mode m) {
    stack_config c;
    c.mode = m;
    c.input = paired_input_mode(m);
    c.pbuf_pool_size = 2048;
    c.pbuf_ref_pool_size = 2048;
    c.recv_queue_depth = 1024;
    return c;
}

class testbed {
public:
    /// `core_work_iterations` > 0: every packet output runs that many iterations of
    /// core_work_spin in core context (counted in core_work_done / core_work_outside_core).
    explicit testbed(const stack_config& cfg, std::uint64_t core_work_iterations = 0)
        : s(cfg), lo(s, lo_config(core_work_iterations ? this : nullptr)), _core_work(core_work_iterations) {
        core_guard g(s);
        sink = udp_new(s);
        if (sink) {
            if (udp_bind(sink, ip4_addr::any(), k_sink_port) != err::ok) {
                udp_remove(sink);
                sink = nullptr;
            } else {
                udp_recv(sink, &testbed::on_sink, this);
            }
        }
    }
    explicit testbed(threading_mode m) : testbed(paired_config(m)) {}
    ~testbed() {
        if (sink) {
            core_guard g(s);
            udp_remove(sink);
        }
    }
    testbed(const testbed&) = delete;
    testbed& operator=(const testbed&) = delete;

    [[nodiscard]] bool ok() const noexcept { return sink != nullptr && lo.status() == err::ok; }
    /// Every message posted to the tcpip mailbox before this call has run (FIFO): after
    /// a message-passing send, its loopback input message has been processed.
    void flush() { (void)s.callback_wait([](void*) { return err::ok; }, nullptr); }
    /// Datagrams the sink received plus datagrams the stack dropped, since construction.
    [[nodiscard]] std::uint64_t accounted() const noexcept {
        return sunk.load(std::memory_order_acquire) + s.st().dropped_total();
    }

    /// The loopback's configuration; with `core_work_owner`, its output runs that
    /// testbed's core work.
    static loopback_config lo_config(testbed* core_work_owner = nullptr) {
        loopback_config c;
        c.queue_len = 1024;
        if (core_work_owner) {
            c.on_output = &testbed::on_core_work;
            c.on_output_arg = core_work_owner;
        }
        return c;
    }
    /// Core-work iterations run so far (all packets), and packets whose core work ran
    /// outside core context (always 0: the contract the tests check).
    [[nodiscard]] std::uint64_t core_work_done() const noexcept { return _core_work_done.load(std::memory_order_acquire); }
    [[nodiscard]] std::uint64_t core_work_outside_core() const noexcept {
        return _core_work_outside.load(std::memory_order_acquire);
    }
    static void on_sink(void* arg, udp_pcb*, pbuf* p, ip4_addr, std::uint16_t) {
        pbuf_free(p);
        static_cast<testbed*>(arg)->sunk.fetch_add(1, std::memory_order_release);
    }

    stack s;
    loopback_netif lo;
    udp_pcb* sink = nullptr;
    std::atomic<std::uint64_t> sunk{0};

private:
    static void on_core_work(void* arg) {
        auto* self = static_cast<testbed*>(arg);
        if (!self->s.in_core_context()) self->_core_work_outside.fetch_add(1, std::memory_order_relaxed);
        self->_core_work_sink ^= lwbench::harness::core_work_spin(self->_core_work, self->_core_work_sink);
        // One writer at a time (core context): a load and a store, no read-modify-write.
        self->_core_work_done.store(self->_core_work_done.load(std::memory_order_relaxed) + self->_core_work,
                                    std::memory_order_release);
    }
    std::uint64_t _core_work = 0;
    std::uint64_t _core_work_sink = 1;  ///< the busy loop's result, kept so it cannot be elided
    std::atomic<std::uint64_t> _core_work_done{0}, _core_work_outside{0};
};

/// One application endpoint of an API on stack `s`, bound to `bind_port` (0: ephemeral
/// on first send). Sends its payload to peer:port (the loopback's 127.0.0.1, or the
/// kernel's side of a TAP link); receives on its own port.
class endpoint {
public:
    endpoint(testbed& tb, api_kind api, std::size_t payload, std::uint16_t bind_port = 0)
        : endpoint(tb.s, api, payload, bind_port, k_lo) {}
    endpoint(stack& s, api_kind api, std::size_t payload, std::uint16_t bind_port, ip4_addr peer)
        : _s(s), _api(api), _peer(peer),
          _buf(payload, std::byte{0x5a}), _rx(std::max<std::size_t>(payload, 16)) {
        switch (api) {
            case api_kind::raw: {
                core_guard g(s);
                _pcb = udp_new(s);
                if (!_pcb) return;
                if (bind_port && udp_bind(_pcb, ip4_addr::any(), bind_port) != err::ok) return;
                udp_recv(_pcb, &endpoint::on_raw, this);
                _ok = true;
                break;
            }
            case api_kind::netconn:
                _conn = netconn_new(s);
                _ok = _conn && (!bind_port || netconn_bind(_conn, ip4_addr::any(), bind_port) == err::ok);
                break;
            case api_kind::socket: {
                _fd = lwip_socket(s, AF_INET, SOCK_DGRAM, 0);
                if (_fd < 0) return;
                _ok = true;
                if (bind_port) {
                    const sockaddr_in a = addr_of(bind_port, ip4_addr::any());  // any link: loopback or TAP
                    _ok = lwip_bind(s, _fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
                }
                break;
            }
        }
    }
    ~endpoint() {
        if (_pcb) {
            core_guard g(_s);
            udp_remove(_pcb);
        }
        if (_conn) netconn_delete(_conn);
        if (_fd >= 0) lwip_close(_s, _fd);
    }
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    [[nodiscard]] bool ok() const noexcept { return _ok; }
    [[nodiscard]] api_kind api() const noexcept { return _api; }
    std::byte* payload() noexcept { return _buf.data(); }

    static sockaddr_in addr_of(std::uint16_t port, ip4_addr host = k_lo) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = host.addr;
        return a;
    }

    /// One send of the payload to peer:port (the hot path).
    bool send(std::uint16_t port) {
        stack& s = _s;
        switch (_api) {
            case api_kind::socket: {
                const sockaddr_in a = addr_of(port, _peer);
                return lwip_sendto(s, _fd, _buf.data(), _buf.size(), 0, reinterpret_cast<const sockaddr*>(&a),
                                   sizeof a) >= 0;
            }
            case api_kind::netconn: {
                netbuf nb;
                if (nb.ref(s, _buf.data(), _buf.size(), /*stable=*/true) != err::ok) return false;
                return netconn_sendto(_conn, nb, _peer, port) == err::ok;
            }
            case api_kind::raw: break;
        }
        // raw: enter core context the current mode's way — the stack's dispatcher locks
        // the core (LOCK_TCPIP_CORE) or posts and waits (tcpip_api_call); it reads the
        // mode at every call, so a live mode switch takes effect at once.
        _port = port;
        return s.call([](void* self) { return static_cast<endpoint*>(self)->raw_send(); }, this) == err::ok;
    }

    /// Raw API only: one send from core context entered with core_guard, whatever the
    /// threading mode (fast untimed traffic generation, e.g. refilling a receive queue).
    bool send_locked(std::uint16_t port) {
        _port = port;
        core_guard g(_s);
        return raw_send() == err::ok;
    }

    /// One blocking receive. netconn/socket: bytes, or -1. raw: waits (bounded) for the
    /// receive callback to have run once more.
    long recv() {
        switch (_api) {
            case api_kind::socket: return static_cast<long>(lwip_recv(_s, _fd, _rx.data(), _rx.size(), 0));
            case api_kind::netconn: {
                auto nb = netconn_recv(_conn);
                if (!nb) return -1;
                // The application reads a timestamp in place (zero copy: no stack copy).
                if (nb->p && nb->p->len >= sizeof(std::int64_t))
                    std::memcpy(_rx.data(), nb->p->payload, sizeof(std::int64_t));
                return static_cast<long>(nb->len());
            }
            case api_kind::raw: break;
        }
        const auto want = _raw_seen + 1;
        if (_raw_got.load(std::memory_order_acquire) < want &&
            !wait_until([&] { return _raw_got.load(std::memory_order_acquire) >= want; }))
            return -1;
        _raw_seen = want;
        return static_cast<long>(_buf.size());
    }

    /// Non-blocking receive (netconn/socket); -1 when nothing is waiting.
    long try_recv() {
        if (_api == api_kind::socket)
            return static_cast<long>(lwip_recv(_s, _fd, _rx.data(), _rx.size(), MSG_DONTWAIT));
        if (_api == api_kind::netconn) {
            auto nb = netconn_recv(_conn, true);
            return nb ? static_cast<long>(nb->len()) : -1;
        }
        return -1;
    }
    /// The first 8 bytes of the last datagram received (netconn/socket): a timestamp.
    [[nodiscard]] std::int64_t rx_stamp() const {
        std::int64_t t;
        std::memcpy(&t, _rx.data(), sizeof t);
        return t;
    }
    /// Raw API: datagrams its receive callback has seen.
    [[nodiscard]] std::uint64_t raw_received() const noexcept { return _raw_got.load(std::memory_order_acquire); }
    /// Raw API: when the receive callback last ran (harness::now_ns(), stamped in core
    /// context as the datagram arrived), so a delivery latency never includes the time
    /// the waiting application thread took to notice.
    [[nodiscard]] std::int64_t raw_arrival_ns() const noexcept { return _raw_arrival_ns.load(std::memory_order_acquire); }

    /// netconn/socket: recv() gives up after `ms` (raw: recv() waits at most 10 s anyway).
    void set_recv_timeout(int ms) {
        if (_conn) netconn_set_recvtimeout(_conn, ms);
        if (_fd >= 0) {
            timeval tv{ms / 1000, (ms % 1000) * 1000};
            (void)lwip_setsockopt(_s, _fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
    }
    /// Raw API only: echo every datagram back to its sender from the receive callback.
    void set_echo(bool on) noexcept { _echo = on; }
    /// Closes the netconn/socket: a thread blocked in recv() on it wakes with an error.
    void shutdown() {
        if (_conn) netconn_close(_conn);
        if (_fd >= 0) {
            lwip_close(_s, _fd);
            _fd = -1;
        }
    }

private:
    err raw_send() {
        pbuf* p = pbuf_alloc_ref(_s, _buf.data(), _buf.size(), /*stable=*/true);
        if (!p) return err::mem;
        const err e = udp_sendto(_pcb, p, _peer, _port);
        pbuf_free(p);
        return e;
    }
    static void on_raw(void* arg, udp_pcb* pcb, pbuf* p, ip4_addr src, std::uint16_t port) {
        auto* self = static_cast<endpoint*>(arg);
        self->_raw_arrival_ns.store(lwbench::harness::now_ns(), std::memory_order_relaxed);
        if (self->_echo) (void)udp_sendto(pcb, p, src, port);  // the very pbuf back (zero copy)
        pbuf_free(p);
        self->_raw_got.fetch_add(1, std::memory_order_release);
    }

    stack& _s;
    api_kind _api;
    ip4_addr _peer;  ///< where send() goes
    bool _ok = false;
    std::vector<std::byte> _buf, _rx;
    udp_pcb* _pcb = nullptr;
    netconn* _conn = nullptr;
    int _fd = -1;
    std::uint16_t _port = 0;
    bool _echo = false;
    std::atomic<std::uint64_t> _raw_got{0};  // released after _raw_arrival_ns is stored
    std::atomic<std::int64_t> _raw_arrival_ns{0};
    std::uint64_t _raw_seen = 0;
};

}  // namespace bench
LWBENCH_NS_END
