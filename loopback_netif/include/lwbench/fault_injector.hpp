// fault_injector.hpp — a seeded fault-injecting wrapper around any netif's output:
// drop, duplicate, reorder, corrupt and delay packets, to test recovery (smoltcp's
// phy/fault_injector idea; STYLE.md 3.12: test devices wrap any netif).
//
// Rationale. The injector installs itself in front of the wrapped netif's output
// callback and keeps the original one, so it works on the loopback or any other
// driver without that driver knowing. Every outgoing packet is rolled against the
// configured probabilities (one seeded generator: the same seed and traffic give the
// same faults):
//  - drop: not passed on; output still reports ok (a wire loses packets silently);
//  - corrupt: a copy with one byte flipped is passed on instead (checksums catch it);
//  - duplicate: passed on, then a copy is passed on too;
//  - reorder: held until the next packet has been passed on (or the delay expires);
//  - delay: held for `delay_time`, then passed on by the injector's timer.
// Copies are made because a receiver on the zero-copy loopback adjusts the very pbufs
// it is handed; each copy counts in stats.payload_copies (this is a test device).
// Held packets keep a reference (pbuf_ref), so the sender may free its own.
//
// Threading: output, the timer and flush run in core context; the constructor and
// destructor go through stack::call (any thread but core context). The packet store is
// preallocated: no heap allocation per packet.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "lwbench/netif.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN

struct fault_config {
    std::uint64_t seed = 1;
    double drop = 0;       ///< probability per packet, 0..1 (likewise below)
    double corrupt = 0;
    double duplicate = 0;
    double reorder = 0;
    double delay = 0;
    std::chrono::milliseconds delay_time{5};  ///< how long delayed (and at most reordered) packets wait
    std::size_t max_held = 512;               ///< packets held at once; beyond it packets pass unharmed
};

class fault_injector {
public:
    /// Wraps n's output (n must be added to s). status() is err::arg if n is null or
    /// already wrapped, err::val if a probability is outside 0..1.
    fault_injector(stack& s, netif* n, const fault_config& cfg);
    /// Unwraps and passes on every packet still held.
    ~fault_injector();
    fault_injector(const fault_injector&) = delete;
    fault_injector& operator=(const fault_injector&) = delete;

    [[nodiscard]] err status() const noexcept { return _status; }
    /// Passes on every held packet now, in order. Core context.
    void flush();

    /// Counters (written in core context; relaxed reads from anywhere).
    [[nodiscard]] std::uint64_t passed() const noexcept { return _passed.get(); }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return _dropped.get(); }
    [[nodiscard]] std::uint64_t corrupted() const noexcept { return _corrupted.get(); }
    [[nodiscard]] std::uint64_t duplicated() const noexcept { return _duplicated.get(); }
    [[nodiscard]] std::uint64_t reordered() const noexcept { return _reordered.get(); }
    [[nodiscard]] std::uint64_t delayed() const noexcept { return _delayed.get(); }

private:
    struct held_packet {
        pbuf* p;
        ip4_addr next_hop;
        std::chrono::steady_clock::time_point due;
        bool until_next;  ///< reordered: released by the next packet passed on
    };
    static err output(netif* n, pbuf* p, ip4_addr next_hop);
    static void on_timer(void* arg);
    err handle(pbuf* p, ip4_addr next_hop);
    err pass(pbuf* p, ip4_addr next_hop);
    void hold(pbuf* p, ip4_addr next_hop, bool until_next);
    void release(bool next_passed, bool all);
    bool roll(double probability);

    stack& _s;
    netif* _n;
    fault_config _cfg;
    netif_output_fn _inner = nullptr;
    std::mt19937_64 _rng;
    std::vector<held_packet> _held;  // capacity reserved: max_held
    int _timer = 0;
    bool _releasing = false;
    err _status = err::ok;
    core_counter _passed, _dropped, _corrupted, _duplicated, _reordered, _delayed;
};

LWBENCH_NS_END
