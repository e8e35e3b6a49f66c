// catalog.cpp — what scenario points exist: the catalogue for `lwbench list`, point
// labels, validation against this machine, and a point's record identity.
#include <algorithm>

#include "scenario_kinds.hpp"

namespace lwbench::harness {

namespace {

template <class E>
std::vector<std::string> names_of(std::span<const E> all) {
    std::vector<std::string> n;
    for (E e : all) n.emplace_back(to_string(e));
    return n;
}

}  // namespace

const std::vector<std::string>& primitive_names() {
    static const std::vector<std::string> n = names_of(all_primitive_kinds());
    return n;
}

const std::vector<std::string>& api_names() {
    static const std::vector<std::string> n = names_of(all_api_kinds());
    return n;
}

const std::vector<scenario_info>& scenario_catalog() {
    static const std::vector<std::string> common = {"--api", "--mode", "--input-mode", "--mailbox", "--lock",
                                                    "--size", "--pinning", "--core-work"};
    const auto description = [](scenario_kind k) -> std::string {
        switch (k) {
            case scenario_kind::send_latency:
                return "time for one send call to return; datagrams go to a counting raw sink (same receive work for "
                       "every API)";
            case scenario_kind::recv_latency:
                return "time for one receive call when a datagram is already waiting (netconn, socket)";
            case scenario_kind::delivery_latency:
                return "from the start of the send call to the receiving thread holding the data (raw: to the receive "
                       "callback); --netif tap: the kernel sends, the TAP driver thread delivers (the receive path; its "
                       "context switches exclude the kernel's sending thread)";
            case scenario_kind::round_trip:
                return "ping-pong between two threads through the stack (echo thread or raw echo callback); `run` adds "
                       "the Linux kernel's own UDP loopback ping-pong per size and pinning as a reference (stack "
                       "kernel); --netif tap: with a kernel UDP echo across the TAP link";
            case scenario_kind::throughput:
                return "datagrams/s and bytes/s delivered with 1..N sender threads and one receiver; offered rate and "
                       "loss by reason beside it; --netif tap: into a kernel UDP sink across the TAP link";
            case scenario_kind::primitive:
                return "the floor: lock_unlock (per --lock), mailbox_handoff (empty API message, per --mailbox), "
                       "semaphore_wake (futex ping-pong), thread_pingpong (atomic spin ping-pong), memcpy, checksum, "
                       "udp_emit_floor (IPv4+UDP header writes + send and verify checksums)";
            case scenario_kind::bulk_tcp:
                return "1..N TCP connections in parallel (--threads: one sender thread per connection), writes of "
                       "--size bytes (up to 65536; no copy on raw and netconn, one copy on socket); delivered bytes/s "
                       "of all connections together, every byte checked by the receivers";
            case scenario_kind::request_response_tcp:
                return "one TCP connection, --size bytes each way per transaction; transactions/s and their latency "
                       "percentiles (the server end echoes from its receive callback, raw, or its own thread)";
            case scenario_kind::connection_rate_tcp:
                return "connect + accept + one --size exchange + close, per second";
        }
        return {};
    };
    static const std::vector<scenario_info> c = [&] {
        std::vector<scenario_info> out;
        for (scenario_kind k : all_scenario_kinds()) {
            std::vector<std::string> params = common;
            if (takes_threads(k)) params.insert(params.end() - 1, "--threads");
            if (k == scenario_kind::round_trip || k == scenario_kind::throughput || k == scenario_kind::delivery_latency)
                params.push_back("--netif");
            if (k == scenario_kind::primitive) params = {"--primitive", "--mailbox", "--lock", "--size", "--pinning"};
            out.push_back({to_string(k), description(k), params});
        }
        return out;
    }();
    return c;
}

std::string point::label() const {
    std::string s = std::string(to_string(scenario)) + "/";
    s += scenario == scenario_kind::primitive ? to_string(primitive) : to_string(api);
    s += std::string("/") + lwbench::to_string(cfg.mode) + "/in=" + lwbench::to_string(cfg.input) + "/" +
         lwbench::to_string(cfg.mailbox) + "/" + lwbench::to_string(cfg.lock) + "/" + std::to_string(payload) + "B/t" +
         std::to_string(threads) + "/" + to_string(pin);
    if (netif != netif_kind::loopback) s += std::string("/") + to_string(netif);
    if (core_work) s += "/work=" + std::to_string(core_work);
    if (cfg.sched != sched_policy::other) s += std::string("/sched=") + lwbench::to_string(cfg.sched);
    return s;
}

std::optional<std::string> validate(const point& p) {
    if (is_tcp(p.scenario)) {
        if (p.payload < 1 || p.payload > k_max_tcp_write)
            return "TCP writes take 1.." + std::to_string(k_max_tcp_write) + " bytes";
        if (p.scenario != scenario_kind::bulk_tcp && p.payload > 0xffff)
            return std::string(to_string(p.scenario)) + " takes at most 65535 bytes per request";
    } else if (p.scenario != scenario_kind::primitive) {
        if (p.scenario == scenario_kind::recv_latency && p.api == api_kind::raw)
            return "recv_latency has no raw variant (the raw API receives by callback; use delivery_latency)";
        const std::size_t max_payload = 1500 - k_ip4_hlen - k_udp_hlen;
        if (p.payload > max_payload)
            return "payload " + std::to_string(p.payload) + " B does not fit the loopback MTU of 1500 (max " +
                   std::to_string(max_payload) + " B; the stack does not fragment)";
    }
    if (p.payload < 8 && (p.scenario == scenario_kind::delivery_latency || p.scenario == scenario_kind::round_trip))
        return "delivery_latency and round_trip need a payload of at least 8 bytes";
    if (p.netif == netif_kind::tap && p.scenario != scenario_kind::round_trip &&
        p.scenario != scenario_kind::throughput && p.scenario != scenario_kind::delivery_latency)
        return std::string("--netif tap runs round_trip, throughput and delivery_latency (the kernel is the peer); ") +
               to_string(p.scenario) + " runs on the loopback only";
    if (p.core_work > static_cast<std::uint64_t>(k_max_core_work_iterations))
        return "--core-work takes at most " + std::to_string(k_max_core_work_iterations) + " iterations";
    if (p.core_work && (p.scenario == scenario_kind::primitive || p.netif != netif_kind::loopback))
        return "--core-work adds work to the packets the stack sends over the loopback: not for primitives or "
               "--netif tap";
    if (p.threads < 1) return "threads must be at least 1";
    if (p.threads > 64) return "threads must be at most 64";
    if (p.threads > 1 && !takes_threads(p.scenario))
        return "--threads > 1 only applies to the throughput and bulk_tcp scenarios";
    if (p.scenario == scenario_kind::bulk_tcp && p.threads > k_max_bulk_tcp_connections)
        return "bulk_tcp takes at most " + std::to_string(k_max_bulk_tcp_connections) +
               " connections (--threads; each has a listener port, a sender and, on netconn/socket, a receiver thread)";
    const int ncpu = online_cpus();
    if (p.pin == pinning::separate_cores && ncpu < 2)
        return "pinning separate_cores needs at least 2 CPUs (this machine has " + std::to_string(ncpu) + ")";
    if (p.cfg.sched == sched_policy::fifo && p.cfg.mailbox == mailbox_kind::spin_then_block &&
        (p.pin == pinning::same_core || ncpu < 2))
        return "--sched fifo with the spin_then_block mailbox on one CPU: the tcpip thread, above the application "
               "under SCHED_FIFO, would spin while the thread it waits for cannot run (use --mailbox adaptive, "
               "which never spins for a partner on its own CPU, or --pinning separate_cores)";
    if (auto why = sched_unavailable(p.cfg.sched)) return "--sched " + std::string(lwbench::to_string(p.cfg.sched)) + ": " + *why;
    return std::nullopt;
}

namespace scenarios {

record identity_of(const point& p) {
    record r;
    r.stack = "lwbench";
    r.scenario = to_string(p.scenario);
    r.payload_bytes = static_cast<int>(p.payload);
    r.app_threads = p.threads;
    r.pinning = to_string(p.pin);
    r.sched_policy = lwbench::to_string(p.cfg.sched);
    r.core_work_iterations = p.core_work;
    if (p.scenario == scenario_kind::primitive) {
        r.primitive = to_string(p.primitive);
        if (p.primitive == primitive_kind::lock_unlock) r.lock_kind = lwbench::to_string(p.cfg.lock);
        if (p.primitive == primitive_kind::mailbox_handoff) {
            r.mailbox_kind = lwbench::to_string(p.cfg.mailbox);
            r.threading_mode = lwbench::to_string(threading_mode::message_passing);
        }
        return r;
    }
    r.api = to_string(p.api);
    r.threading_mode = lwbench::to_string(p.cfg.mode);
    r.input_mode = lwbench::to_string(p.cfg.input);
    r.mailbox_kind = lwbench::to_string(p.cfg.mailbox);
    r.lock_kind = lwbench::to_string(p.cfg.lock);
    r.netif = to_string(p.netif);
    return r;
}

}  // namespace scenarios

}  // namespace lwbench::harness
