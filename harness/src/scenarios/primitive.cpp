// primitive.cpp — the floor: the physical limits of this machine that explain the
// scenario figures. lock_unlock (per --lock), mailbox_handoff (an empty API message
// through the tcpip mailbox, per --mailbox), semaphore_wake (futex ping-pong),
// thread_pingpong (atomic spin ping-pong), memcpy and checksum of the payload, and
// udp_emit_floor (the bare header and checksum work of one loopback datagram).
#include <cstring>

#include "lwbench/detail/core_lock.hpp"
#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/inet_chksum.hpp"
#include "lwbench/wire/ipv4.hpp"
#include "lwbench/wire/udp.hpp"
#include "scenario_kinds.hpp"

namespace lwbench::harness::scenarios {

namespace {

/// Busy-wait step of the thread ping-pong: spin briefly, then yield, so that a partner
/// pinned to the same CPU gets to run (pure spinning there would wait for the
/// scheduler tick and measure that instead).
void spin_wait(int spins) {
    if (spins < 64) {
        lwbench::detail::cpu_relax();
    } else {
        std::this_thread::yield();
    }
}

/// One op = a round trip between this thread and a partner: A wakes B, B wakes A
/// (futex semaphores), or A and B hand a counter back and forth through one cache
/// line (spinning).
repetition pingpong(const point& p, const visit& v, const cpu_plan& plan, bool futex) {
    const run_options& o = v.options;
    lwbench::detail::futex_sem ab, ba;
    std::atomic<long> ball{0};
    std::atomic<bool> stop{false};
    const long total = o.warmup + o.ops + 1;
    thread_group partner([&] {
        stop.store(true);
        if (futex) ab.post();
    });
    partner.spawn([&] {
        const app_thread_setup partner_setup(p.pin == pinning::separate_cores ? plan.tcpip() : plan.app(0), p.cfg.sched);
        for (long i = 0; i < total && !stop.load(std::memory_order_relaxed); ++i) {
            if (futex) {
                ab.acquire();
                if (stop.load(std::memory_order_relaxed)) return;
                ba.post();
            } else {
                for (int spins = 0; ball.load(std::memory_order_acquire) != 2 * i + 1; ++spins) {
                    if (stop.load(std::memory_order_relaxed)) return;
                    spin_wait(spins);
                }
                ball.store(2 * i + 2, std::memory_order_release);
            }
        }
    });
    long n = 0;
    const auto op = [&] {
        if (futex) {
            ab.post();
            ba.acquire();
        } else {
            ball.store(2 * n + 1, std::memory_order_release);
            for (int spins = 0; ball.load(std::memory_order_acquire) != 2 * n + 2; ++spins) spin_wait(spins);
        }
        ++n;
        return true;
    };
    for (long i = 0; i < o.warmup; ++i) op();
    repetition rep = time_repetition(o.ops, 1, v.counted, o.hardware_counters, o.cancel, op);
    partner.join();
    return rep;
}

}  // namespace

rep_out measure_primitive(const point& p, const visit& v) {
    const run_options& o = v.options;
    const cpu_plan plan = cpu_plan::of(p.pin);
    rep_out out;
    std::vector<std::byte> src(p.payload, std::byte{0x3c}), dst(p.payload);
    const auto batched = [&](auto&& op) {
        for (long i = 0; i < o.warmup; ++i) op();
        const int per_sample = choose_ops_per_sample(probe_op_ns(op, 1000));
        return time_repetition(o.ops, per_sample, v.counted, o.hardware_counters, o.cancel, op);
    };
    const app_thread_setup setup(plan.app(0), p.cfg.sched);
    switch (p.primitive) {
        case primitive_kind::lock_unlock: {
            lwbench::detail::core_lock lock(p.cfg.lock);
            lwbench::detail::lock_token token;
            out.rep = batched([&] {
                lock.lock(token);
                lock.unlock(token);
                return true;
            });
            break;
        }
        case primitive_kind::memcpy:
            out.rep = batched([&] {
                std::memcpy(dst.data(), src.data(), src.size());
                asm volatile("" : : "r"(dst.data()) : "memory");
                return true;
            });
            break;
        case primitive_kind::checksum: {
            volatile std::uint16_t sink = 0;
            out.rep = batched([&] {
                sink = inet_chksum(src.data(), src.size());
                return true;
            });
            (void)sink;
            break;
        }
        case primitive_kind::udp_emit_floor: {
            // The bare work of a loopback UDP datagram: write the IPv4 and UDP headers
            // (IP header checksum included), checksum payload + pseudo header on send, and
            // verify it again on receive — what raw udp_sendto + delivery cannot avoid.
            stack_config cfg;
            cfg.pbuf_pool_size = 4;
            cfg.pbuf_ref_pool_size = 4;
            stack s(cfg);
            const ip4_addr lo = bench::k_lo;
            pbuf* pb = pbuf_alloc(s, pbuf_layer::ip, p.payload + k_udp_hlen, pbuf_type::pool);
            std::memcpy(pb->bytes() + k_udp_hlen, src.data(), p.payload);
            (void)pbuf_add_header(pb, k_ip4_hlen);
            (void)pbuf_remove_header(pb, k_ip4_hlen);
            volatile std::uint16_t sink = 0;
            out.rep = batched([&] {
                (void)pbuf_add_header(pb, k_ip4_hlen);
                wire::ipv4_repr r;
                r.src = lo;
                r.dst = lo;
                r.payload_len = static_cast<std::uint16_t>(p.payload + k_udp_hlen);
                wire::emit_ipv4(std::span<std::byte, 20>(pb->bytes(), 20), r, true);
                (void)pbuf_remove_header(pb, k_ip4_hlen);
                wire::emit_udp(std::span<std::byte, 8>(pb->bytes(), 8), {7001, 9, pb->tot_len});
                const std::uint16_t c = inet_chksum_pseudo(pb, 17, pb->tot_len, lo, lo);
                std::memcpy(pb->bytes() + 6, &c, 2);
                sink = inet_chksum_pseudo(pb, 17, pb->tot_len, lo, lo);  // receiver's verify
                return true;
            });
            (void)sink;
            pbuf_free(pb);
            break;
        }
        case primitive_kind::mailbox_handoff: {
            // An empty API message in message-passing mode: post, wake the tcpip thread,
            // run nothing, post the caller's semaphore, wake the caller.
            stack_config cfg = p.cfg;
            cfg.mode = threading_mode::message_passing;
            cfg.tcpip_cpu = plan.tcpip();
            stack s(cfg);
            for (long i = 0; i < o.warmup; ++i) s.call([] { return err::ok; });
            out.rep = time_repetition(o.ops, 1, v.counted, o.hardware_counters, o.cancel,
                                      [&] { return s.call([] { return err::ok; }) == err::ok; });
            break;
        }
        case primitive_kind::semaphore_wake: out.rep = pingpong(p, v, plan, true); break;
        case primitive_kind::thread_pingpong: out.rep = pingpong(p, v, plan, false); break;
    }
    return out;
}

}  // namespace lwbench::harness::scenarios
