// netif_hazards_test.cpp — the netif and DHCP hazards of the first seed (issue 15), as
// lwIP users meet them when netif_xxx / dhcp_xxx calls race the tcpip thread: a netif
// removed while the tcpip thread delivers to it; two netifs added at the same time
// from two threads; DHCP stopped from an application thread while its timers run
// (against a fake DHCP server in the same stack, over loopback netifs); an address
// changed under traffic. Every call goes through netifapi (stack::call), in both
// threading modes with both input modes, and in the combining mode with combining
// input; under TSan in scripts/test.sh's tsan step.
//
// What each asserts: nothing crashes or hangs (the watchdog), nothing is lost silently
// (every datagram sent is received or counted as a drop, and only for the reasons the
// hazard explains), and the netif list and DHCP state are what the calls made them.
// No sleeps: threads wait for each other's progress by bounded yielding.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>

#include "integration_support.hpp"
#include "lwbench/detail/stack_access.hpp"
#include "lwbench/dhcp.hpp"
#include "lwbench/wire/dhcp.hpp"

namespace lwbench::test::it {
namespace {

/// Both lwIP threading modes, each with mailbox input (the tcpip thread delivers) and
/// inline input (the sending thread delivers after its core operation); and combining
/// with its paired combining input (whoever holds the core runs the published calls
/// and inputs).
std::vector<stack_config> hazard_configs() {
    std::vector<stack_config> out;
    const auto add = [&](threading_mode m, input_mode i) {
        stack_config c;
        c.mode = m;
        c.input = i;
        c.spin_iterations = 2000;
        out.push_back(c);
    };
    for (auto m : {threading_mode::message_passing, threading_mode::core_locking})
        for (auto i : {input_mode::mailbox, input_mode::inline_}) add(m, i);
    add(threading_mode::combining, paired_input_mode(threading_mode::combining));
    return out;
}

const ip4_addr k_mask24 = ip4_addr::from_octets(255, 255, 255, 0);

/// Waits (yielding, bounded by the fixture's watchdog) until `counter` moves past its
/// value at the call or `done` is set: the other thread made progress.
void wait_progress(const std::atomic<std::uint64_t>& counter, const std::atomic<bool>& done) {
    const std::uint64_t base = counter.load();
    while (counter.load() == base && !done.load()) std::this_thread::yield();
}

/// A raw UDP sender on its own application thread: each datagram is one stack::call.
struct raw_sender {
    udp_pcb* pcb = nullptr;
    std::atomic<std::uint64_t> ok{0}, failed{0}, attempts{0};
    std::atomic<bool> done{false};
    std::vector<err> unexpected;  ///< failures other than the ones the test expects (sender thread only)

    void open(stack& s) {
        core_guard g(s);
        pcb = udp_new(s);
    }
    void close(stack& s) {
        core_guard g(s);
        udp_remove(pcb);
    }
    /// Sends up to `count` datagrams to dst:port until `stop`; failures other than
    /// `allowed` are recorded. Flow control: at most k_window datagrams sent but neither
    /// received by `sink` nor counted as dropped (UDP has none of its own, and a sender
    /// that outruns the tcpip thread only fills the pools). A datagram lost silently
    /// would stall this until the watchdog fires: a live accounting check too.
    static constexpr std::uint64_t k_window = 64;
    void run(stack& s, const raw_sink& sink, ip4_addr dst, std::uint16_t port, std::uint64_t count,
             const std::atomic<bool>& stop, std::initializer_list<err> allowed) {
        for (std::uint64_t i = 0; i < count && !stop.load(); ++i) {
            while (ok.load() > sink.count.load() + s.st().dropped_total() + k_window && !stop.load())
                std::this_thread::yield();
            const err e = s.call([&] {
                pbuf* p = pbuf_alloc(s, pbuf_layer::transport, 64, pbuf_type::pool);
                if (!p) return err::mem;
                const err sent = udp_sendto(pcb, p, dst, port);
                pbuf_free(p);
                return sent;
            });
            attempts.fetch_add(1);
            if (e == err::ok) {
                ok.fetch_add(1);
                continue;
            }
            failed.fetch_add(1);
            if (std::find(allowed.begin(), allowed.end(), e) == allowed.end()) unexpected.push_back(e);
        }
        done.store(true);
    }
};

/// Delivers everything still in flight (mailbox input: input messages; the loopback's
/// replies to them post more), bounded.
void settle(stack& s) {
    for (int i = 0; i < 100; ++i) {
        drain(s);
        if (s.mailbox_depth() == 0) {
            drain(s);
            if (s.mailbox_depth() == 0) return;
        }
    }
    ADD_FAILURE() << "the tcpip mailbox did not empty";
}

/// The drop reasons of s other than `allowed`, as text ("" if none).
std::string other_drops(const stack& s, std::initializer_list<drop_reason> allowed) {
    std::string out;
    for (std::size_t i = 0; i < k_drop_reasons; ++i) {
        const auto r = static_cast<drop_reason>(i);
        if (s.st().dropped(r) && std::find(allowed.begin(), allowed.end(), r) == allowed.end())
            out += std::string(drop_reason_name(r)) + "=" + std::to_string(s.st().dropped(r)) + " ";
    }
    return out;
}

class NetifHazards : public ::testing::TestWithParam<stack_config> {
protected:
    watchdog wd{watchdog_limit(true)};
    stack s{GetParam()};
    void TearDown() override { expect_no_leaks(s); }
};

/// The shape of the hazards under traffic: raw UDP from an application thread to
/// `dst`:`port` on a loopback netif (dst/24), while this thread disturbs the netif
/// (`disturb`, after some datagrams got through) and restores it (`restore`, after a
/// send met the disturbed netif), `rounds` times. Sends may fail only with `allowed_err`;
/// afterwards every datagram sent was received or dropped and counted, and only as
/// `allowed_drop`.
template <class Disturb, class Restore>
void churn_under_traffic(stack& s, ip4_addr dst, std::uint16_t port, Disturb disturb, Restore restore, err allowed_err,
                         drop_reason allowed_drop) {
    loopback_config lc;
    lc.ip = dst;
    lc.netmask = k_mask24;
    loopback_netif lo(s, lc);
    ASSERT_EQ(lo.status(), err::ok);
    raw_sink sink;
    ASSERT_EQ(sink.open(s, port), err::ok);
    raw_sender sender;
    sender.open(s);
    std::atomic<bool> stop{false};
    std::thread traffic([&] { sender.run(s, sink, dst, port, 1'000'000, stop, {allowed_err}); });
    const int rounds = scaled(60);
    for (int i = 0; i < rounds && !sender.done.load(); ++i) {
        wait_progress(sender.ok, sender.done);  // datagrams are in flight to the netif
        disturb(lo.nif());
        wait_progress(sender.attempts, sender.done);  // a send meets the disturbed netif
        restore(lo.nif());
    }
    stop.store(true);
    traffic.join();
    settle(s);
    EXPECT_TRUE(sender.unexpected.empty()) << "first unexpected send error: " << err_name(sender.unexpected.front());
    EXPECT_GT(sender.ok.load(), 0u);
    EXPECT_EQ(sender.ok.load(), sink.count.load() + s.st().dropped_total()) << drops_text(s);
    EXPECT_EQ(other_drops(s, {allowed_drop}), "");
    std::printf("%llu sent, %llu received, %llu dropped as %s\n", static_cast<unsigned long long>(sender.ok.load()),
                static_cast<unsigned long long>(sink.count.load()),
                static_cast<unsigned long long>(s.st().dropped(allowed_drop)), drop_reason_name(allowed_drop));
    sender.close(s);
    sink.close(s);
}

TEST_P(NetifHazards, NetifRemovedWhileTheTcpipThreadDeliversToIt) {
    // A datagram queued on the netif, or waiting in the mailbox for it, when it goes is
    // dropped as netif_removed; while it is gone there is no route.
    churn_under_traffic(
        s, ip4_addr::from_octets(10, 4, 0, 1), 9000,
        [&](netif& n) { ASSERT_EQ(netifapi_remove(s, &n), err::ok); },
        [&](netif& n) {
            ASSERT_EQ(netifapi_add(s, &n), err::ok);
            ASSERT_EQ(netifapi_set_up(s, &n), err::ok);
        },
        err::rte, drop_reason::netif_removed);
}

TEST_P(NetifHazards, TwoNetifsAddedAtTheSameTimeFromTwoThreadsNoneMissing) {
    constexpr std::size_t k_per_thread = 32;
    struct plain_netif {
        netif n;
        plain_netif() { n.output = [](netif*, pbuf*, ip4_addr) { return err::ok; }; }
    };
    std::array<std::vector<plain_netif>, 2> netifs{std::vector<plain_netif>(k_per_thread),
                                                   std::vector<plain_netif>(k_per_thread)};
    const auto count_added = [&] {
        std::size_t added = 0;
        EXPECT_EQ(s.call([&] {
            for (auto& group : netifs)
                for (auto& p : group) added += netif_is_added(s, &p.n) ? 1 : 0;
            EXPECT_EQ(detail::stack_access::netifs(s).size(), added);  // and nothing else in the list
            return err::ok;
        }),
                  err::ok);
        return added;
    };
    const int rounds = scaled(30);
    for (int round = 0; round < rounds; ++round) {
        for (const bool adding : {true, false}) {
            std::atomic<int> arrived{0};
            std::array<std::thread, 2> threads;
            for (std::size_t t = 0; t < 2; ++t)
                threads[t] = std::thread([&, t] {
                    arrived.fetch_add(1);
                    while (arrived.load() < 2) std::this_thread::yield();  // start together
                    for (auto& p : netifs[t]) {
                        if (adding) {
                            EXPECT_EQ(netifapi_add(s, &p.n), err::ok);
                            EXPECT_EQ(netifapi_set_up(s, &p.n), err::ok);
                        } else {
                            EXPECT_EQ(netifapi_remove(s, &p.n), err::ok);
                        }
                    }
                });
            for (auto& th : threads) th.join();
            ASSERT_EQ(count_added(), adding ? 2 * k_per_thread : 0u) << "round " << round;
        }
    }
}

TEST_P(NetifHazards, AddressChangedUnderTraffic) {
    // A datagram in flight when the address changes arrives for an address we no longer
    // have (not for us); to the first address there is no route while the netif has the
    // second.
    const ip4_addr first = ip4_addr::from_octets(10, 5, 0, 1), second = ip4_addr::from_octets(10, 6, 0, 1);
    churn_under_traffic(
        s, first, 9100, [&](netif& n) { ASSERT_EQ(netifapi_set_addr(s, &n, second, k_mask24, {}), err::ok); },
        [&](netif& n) { ASSERT_EQ(netifapi_set_addr(s, &n, first, k_mask24, {}), err::ok); }, err::rte,
        drop_reason::ip_not_for_us);
}

// ---- DHCP stopped while its timers run ---------------------------------------------------

/// A DHCP server in the stack itself, on port 67 (core context: its pcb's callback).
/// Answers DISCOVER with OFFER and REQUEST with ACK for k_client_ip, broadcast when the
/// client asks for it, else unicast; always through the client's loopback netif.
struct fake_dhcp_server {
    static constexpr std::uint32_t k_lease_s = 10;  // 10 ms on a client clock 1000× fast
    inline static const ip4_addr k_server_ip = ip4_addr::from_octets(10, 9, 0, 1);
    inline static const ip4_addr k_client_ip = ip4_addr::from_octets(10, 9, 0, 100);

    stack* s = nullptr;
    netif* client_netif = nullptr;
    udp_pcb* pcb = nullptr;
    std::atomic<std::uint64_t> received{0}, replied{0};

    err open(stack& st, netif* client) {
        s = &st;
        client_netif = client;
        core_guard g(st);
        pcb = udp_new(st);
        if (!pcb) return err::mem;
        udp_recv(pcb, &fake_dhcp_server::recv, this);
        return udp_bind(pcb, ip4_addr::any(), wire::k_dhcp_server_port);  // DISCOVERs are broadcast
    }
    void close() {
        core_guard g(*s);
        udp_remove(pcb);
    }
    static void recv(void* arg, udp_pcb*, pbuf* p, ip4_addr, std::uint16_t) {
        auto* self = static_cast<fake_dhcp_server*>(arg);
        self->received.fetch_add(1);
        std::array<std::byte, 600> in{};
        const std::size_t len = pbuf_copy_partial(p, in.data(), in.size(), 0);
        pbuf_free(p);
        const auto msg = wire::dhcp_view::parse({in.data(), len});
        ASSERT_TRUE(msg.has_value()) << "the client sent a malformed message";
        const auto opts = wire::parse_dhcp_options(msg->options());
        ASSERT_EQ(opts.check, wire::dhcp_options_check::ok);
        ASSERT_TRUE(opts.options.message_type.has_value());
        const auto type = *opts.options.message_type;
        wire::dhcp_message_type answer;
        if (type == wire::dhcp_message_type::discover) {
            answer = wire::dhcp_message_type::offer;
        } else if (type == wire::dhcp_message_type::request) {
            answer = wire::dhcp_message_type::ack;
        } else {
            return;  // nothing else is answered
        }
        self->reply(*msg, answer);
    }
    void reply(const wire::dhcp_view& request, wire::dhcp_message_type type) {
        pbuf* p = pbuf_alloc(*s, pbuf_layer::transport, 300, pbuf_type::pool);
        ASSERT_NE(p, nullptr);
        std::byte* out = p->bytes();
        std::memset(out, 0, 300);
        wire::dhcp_repr r;
        r.op = wire::k_bootp_reply;
        r.xid = request.xid();
        r.flags = request.flags();
        r.yiaddr = k_client_ip;
        r.chaddr = request.chaddr();
        wire::emit_dhcp_header(std::span<std::byte, 240>(out, 240), r);
        wire::dhcp_option_writer w({out + 240, 60});
        w.add_u8(wire::dhcp_option::message_type, static_cast<std::uint8_t>(type));
        w.add_addr(wire::dhcp_option::server_id, k_server_ip);
        w.add_addr(wire::dhcp_option::subnet_mask, k_mask24);
        w.add_u32(wire::dhcp_option::lease_time, k_lease_s);
        ASSERT_NE(w.finish(), 0u);
        const bool broadcast = (request.flags() & wire::k_dhcp_flag_broadcast) || request.ciaddr().is_any();
        const ip4_addr dst = broadcast ? ip4_addr::from_host(0xffffffffu) : request.ciaddr();
        if (udp_sendto_if(pcb, p, dst, wire::k_dhcp_client_port, client_netif) == err::ok) replied.fetch_add(1);
        pbuf_free(p);
    }
};

TEST_P(NetifHazards, DhcpStoppedFromAnApplicationThreadWhileItsTimersRun) {
    // The client's netif has no address; the server's address lives on a second netif,
    // so the client's unicast renewals to it are local. Every reply goes through the
    // client's netif.
    loopback_config client_cfg;
    client_cfg.name = "dhcp-client";
    client_cfg.ip = {};
    client_cfg.netmask = {};
    loopback_netif client(s, client_cfg);
    loopback_config server_cfg;
    server_cfg.name = "dhcp-server";
    server_cfg.ip = fake_dhcp_server::k_server_ip;
    server_cfg.netmask = ip4_addr::from_octets(255, 255, 255, 255);
    loopback_netif server_netif(s, server_cfg);
    ASSERT_EQ(client.status(), err::ok);
    ASSERT_EQ(server_netif.status(), err::ok);
    fake_dhcp_server server;
    ASSERT_EQ(server.open(s, &client.nif()), err::ok);
    dhcp_config cfg;
    cfg.time_divisor = 1000;  // T1 every 5 ms: the timer renews all the time
    cfg.tick = std::chrono::milliseconds(1);
    cfg.hwaddr = wire::mac_addr{{0x02, 0, 0, 0, 0, 0x09}};

    // A reader on another application thread all along: state and address must agree.
    std::atomic<bool> done{false}, reader_done{false};
    std::atomic<std::uint64_t> reads{0};
    std::thread reader([&] {
        while (!done.load()) {
            auto st = netifapi_dhcp_get(s, &client.nif());
            if (!st.ok()) {
                ADD_FAILURE() << "netifapi_dhcp_get: " << err_name(st.error());
                break;
            }
            if (st->state == dhcp_state::bound) {
                EXPECT_EQ(st->lease.ip, fake_dhcp_server::k_client_ip);
            }
            reads.fetch_add(1);
        }
        reader_done.store(true);
    });
    const int rounds = scaled(60);
    std::uint64_t leases = 0;
    for (int round = 0; round < rounds; ++round) {
        ASSERT_EQ(netifapi_dhcp_start(s, &client.nif(), cfg), err::ok);
        if (round % 2 == 0) {
            // Stop while bound and renewing (its timer at work) ...
            std::uint64_t renewed = 0;
            while (renewed < 2) {
                auto st = netifapi_dhcp_get(s, &client.nif());
                ASSERT_TRUE(st.ok());
                renewed = st->counters.leases;
            }
            leases += renewed;
        }
        // ... or at once, in the middle of the exchange.
        ASSERT_EQ(netifapi_dhcp_stop(s, &client.nif()), err::ok);
        auto st = netifapi_dhcp_get(s, &client.nif());
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(st->state, dhcp_state::off);
        EXPECT_EQ(netifapi_get(s, &client.nif())->ip, ip4_addr{}) << "the leased address must go with the client";
        wait_progress(reads, reader_done);  // the reader ran in this round too
    }
    done.store(true);
    reader.join();
    settle(s);
    EXPECT_GE(leases, static_cast<std::uint64_t>(rounds));  // two leases per even round
    // Every DHCP message either reached its end or was dropped and counted: replies that
    // arrive after a stop find no client (dhcp_not_ours, or udp_no_port once the shared
    // pcb is gone) or no address (ip_not_for_us); a duplicate answer is unexpected.
    const auto& st = s.st();
    EXPECT_EQ(st.dhcp_xmit.get() + server.replied.load(), server.received.load() + st.dhcp_recv.get() +
                                                               st.dropped_total())
        << drops_text(s);
    EXPECT_EQ(other_drops(s, {drop_reason::dhcp_not_ours, drop_reason::dhcp_unexpected, drop_reason::udp_no_port,
                              drop_reason::ip_not_for_us}),
              "");
    server.close();
}

INSTANTIATE_TEST_SUITE_P(EveryMode, NetifHazards, ::testing::ValuesIn(hazard_configs()), config_name);

}  // namespace
}  // namespace lwbench::test::it
