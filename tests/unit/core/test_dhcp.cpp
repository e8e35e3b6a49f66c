// test_dhcp.cpp — the DHCP wire view and option parser (fixed bytes, malformed inputs
// of every kind, emit/parse round trip) and the client (stack/src/core/dhcp.cpp) on a
// capturing Ethernet netif: the exchange, renew, rebind, expiry, NAK, release,
// retransmission with backoff, replies that are dropped and counted. Server replies are
// built here byte by byte, independently of the stack. Time: the client's own clock
// runs 100× fast (dhcp_config::time_divisor, tick 1 ms), so a 10 s lease lasts 100 ms;
// waits are bounded polls of the client's state, never sleeps.
#include <gtest/gtest.h>

#include "ethernet_support.hpp"
#include "lwbench/dhcp.hpp"
#include "lwbench/wire/dhcp.hpp"

namespace lwbench::test {
namespace {

const ip4_addr k_offered = ip4_addr::from_octets(192, 0, 2, 100);
const ip4_addr k_server = k_peer_ip;  // 192.0.2.1
const ip4_addr k_broadcast = ip4_addr::from_octets(255, 255, 255, 255);

/// The 240-byte fixed part of a BOOTREPLY (op 2, Ethernet, cookie), built by hand.
bytes bootp_header(std::uint8_t op, std::uint32_t xid, const wire::mac_addr& chaddr, ip4_addr yiaddr) {
    bytes b(240);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    put_be16(b, 4, static_cast<std::uint16_t>(xid >> 16));
    put_be16(b, 6, static_cast<std::uint16_t>(xid));
    put_addr(b, 16, yiaddr);
    put_mac(b, 28, chaddr);
    b[236] = 0x63;
    b[237] = 0x82;
    b[238] = 0x53;
    b[239] = 0x63;
    return b;
}

bytes option(std::uint8_t code, std::initializer_list<std::uint8_t> value) {
    bytes b{code, static_cast<std::uint8_t>(value.size())};
    b.insert(b.end(), value);
    return b;
}
bytes option_addr(std::uint8_t code, ip4_addr a) {
    bytes b{code, 4, 0, 0, 0, 0};
    put_addr(b, 2, a);
    return b;
}
bytes option_u32(std::uint8_t code, std::uint32_t v) {
    return option(code, {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                         static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

/// A server reply: header, message type, server id, mask, router, lease (if non-zero), end.
bytes reply(std::uint8_t type, std::uint32_t xid, std::uint32_t lease_s = 10, ip4_addr yiaddr = k_offered,
            const wire::mac_addr& chaddr = k_our_mac) {
    bytes b = bootp_header(2, xid, chaddr, yiaddr);
    for (const bytes& o : {option(53, {type}), option_addr(54, k_server), option_addr(1, k_netmask),
                           option_addr(3, k_server)})
        b.insert(b.end(), o.begin(), o.end());
    if (lease_s) {
        const bytes l = option_u32(51, lease_s);
        b.insert(b.end(), l.begin(), l.end());
    }
    b.push_back(255);
    return b;
}

/// The DHCP payload in an Ethernet frame from the server (67 → 68), to `dst`.
bytes server_frame(const bytes& dhcp, ip4_addr dst = k_broadcast) {
    pkt_spec spec;
    spec.src = k_server;
    spec.dst = dst;
    spec.sport = 67;
    spec.dport = 68;
    const wire::mac_addr eth_dst = dst == k_broadcast ? wire::mac_addr::broadcast() : k_our_mac;
    return ethernet_frame(eth_dst, k_peer_mac, wire::k_ethertype_ipv4, build_udp(spec, dhcp));
}

// ---- wire ----------------------------------------------------------------------------------

std::span<const std::byte> as_span(const bytes& b) { return std::as_bytes(std::span(b)); }

TEST(WireDhcp, ParsesFixedBytes) {
    const bytes b = reply(5, 0x11223344, 120);
    const auto v = wire::dhcp_view::parse(as_span(b));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->op(), wire::k_bootp_reply);
    EXPECT_EQ(v->xid(), 0x11223344u);
    EXPECT_EQ(v->yiaddr(), k_offered);
    EXPECT_EQ(v->chaddr(), k_our_mac);
    const auto o = wire::parse_dhcp_options(v->options());
    ASSERT_EQ(o.check, wire::dhcp_options_check::ok);
    EXPECT_EQ(o.options.message_type, wire::dhcp_message_type::ack);
    EXPECT_EQ(o.options.server_id, k_server);
    EXPECT_EQ(o.options.subnet_mask, k_netmask);
    EXPECT_EQ(o.options.router, k_server);
    EXPECT_EQ(o.options.lease_time, 120u);
    EXPECT_FALSE(o.options.renewal_time.has_value());
}

TEST(WireDhcp, RefusesMalformedHeaders) {
    const bytes good = reply(2, 1);
    EXPECT_EQ(wire::dhcp_view::check(as_span(good).first(239)), wire::dhcp_check::too_short);
    EXPECT_EQ(wire::dhcp_view::check({}), wire::dhcp_check::too_short);
    bytes b = good;
    b[0] = 3;
    EXPECT_EQ(wire::dhcp_view::check(as_span(b)), wire::dhcp_check::bad_op);
    b = good;
    b[1] = 6;  // IEEE 802
    EXPECT_EQ(wire::dhcp_view::check(as_span(b)), wire::dhcp_check::bad_hardware);
    b = good;
    b[2] = 16;
    EXPECT_EQ(wire::dhcp_view::check(as_span(b)), wire::dhcp_check::bad_hardware);
    b = good;
    b[239] ^= 1;  // plain BOOTP
    EXPECT_EQ(wire::dhcp_view::check(as_span(b)), wire::dhcp_check::bad_cookie);
    EXPECT_EQ(wire::dhcp_view::check(as_span(good)), wire::dhcp_check::ok);
}

TEST(WireDhcp, RefusesMalformedOptionLists) {
    using wire::dhcp_options_check;
    const auto check = [](const bytes& options) { return wire::parse_dhcp_options(as_span(options)).check; };
    EXPECT_EQ(check({}), dhcp_options_check::no_end);
    EXPECT_EQ(check({0, 0, 0}), dhcp_options_check::no_end);                    // only padding
    EXPECT_EQ(check({53, 1, 2}), dhcp_options_check::no_end);                   // no end option
    EXPECT_EQ(check({53}), dhcp_options_check::truncated);                      // length byte missing
    EXPECT_EQ(check({53, 1}), dhcp_options_check::truncated);                   // value missing
    EXPECT_EQ(check({12, 200, 'h', 'o', 's', 't', 255}), dhcp_options_check::truncated);  // runs past the end
    EXPECT_EQ(check({53, 2, 2, 2, 255}), dhcp_options_check::bad_length);       // message type of 2 bytes
    EXPECT_EQ(check({53, 1, 0, 255}), dhcp_options_check::bad_message_type);
    EXPECT_EQ(check({53, 1, 9, 255}), dhcp_options_check::bad_message_type);
    EXPECT_EQ(check({54, 3, 1, 2, 3, 255}), dhcp_options_check::bad_length);    // server id of 3 bytes
    EXPECT_EQ(check({3, 5, 1, 2, 3, 4, 5, 255}), dhcp_options_check::bad_length);  // router list not of fours
    EXPECT_EQ(check({3, 0, 255}), dhcp_options_check::bad_length);
    EXPECT_EQ(check({51, 2, 0, 1, 255}), dhcp_options_check::bad_length);       // lease time of 2 bytes
    EXPECT_EQ(check({0, 12, 0, 53, 1, 5, 255}), dhcp_options_check::ok);        // padding, unknown option, type
    EXPECT_EQ(check({255, 53, 7}), dhcp_options_check::ok);                     // anything after end is ignored
}

TEST(WireDhcp, EveryTruncationOfAValidMessageIsRefusedWithoutReadingPastIt) {
    const bytes good = reply(5, 7, 60);
    for (std::size_t len = 0; len < good.size(); ++len) {
        // A copy of exactly len bytes: ASan catches any read beyond it.
        const bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
        const auto v = wire::dhcp_view::parse(as_span(cut));
        if (len < 240) {
            EXPECT_FALSE(v.has_value()) << len;
            continue;
        }
        ASSERT_TRUE(v.has_value()) << len;
        EXPECT_NE(wire::parse_dhcp_options(v->options()).check, wire::dhcp_options_check::ok) << len;
    }
}

TEST(WireDhcp, EmitThenParseRoundTrips) {
    bytes out(300);
    auto span = std::as_writable_bytes(std::span(out));
    wire::dhcp_repr r;
    r.xid = 0xdeadbeef;
    r.flags = wire::k_dhcp_flag_broadcast;
    r.ciaddr = k_offered;
    r.chaddr = k_our_mac;
    wire::emit_dhcp_header(span.first<240>(), r);
    wire::dhcp_option_writer w(span.subspan(240));
    EXPECT_TRUE(w.add_u8(53, 3));
    EXPECT_TRUE(w.add_addr(54, k_server));
    EXPECT_TRUE(w.add_u32(51, 3600));
    const std::size_t used = w.finish();
    EXPECT_EQ(used, 3u + 6u + 6u + 1u);
    const auto v = wire::dhcp_view::parse(as_span(out));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->op(), wire::k_bootp_request);
    EXPECT_EQ(v->xid(), 0xdeadbeefu);
    EXPECT_EQ(v->flags(), wire::k_dhcp_flag_broadcast);
    EXPECT_EQ(v->ciaddr(), k_offered);
    EXPECT_EQ(v->chaddr(), k_our_mac);
    const auto o = wire::parse_dhcp_options(v->options());
    ASSERT_EQ(o.check, wire::dhcp_options_check::ok);
    EXPECT_EQ(o.options.message_type, wire::dhcp_message_type::request);
    EXPECT_EQ(o.options.server_id, k_server);
    EXPECT_EQ(o.options.lease_time, 3600u);
    // The same bytes as the hand-built header.
    bytes expect = bootp_header(1, 0xdeadbeef, k_our_mac, {});
    put_be16(expect, 10, 0x8000);
    put_addr(expect, 12, k_offered);
    EXPECT_TRUE(std::equal(expect.begin(), expect.end(), out.begin()));
}

TEST(WireDhcp, OptionWriterNeverWritesPastItsBuffer) {
    bytes out(8);
    wire::dhcp_option_writer w(std::as_writable_bytes(std::span(out)));
    EXPECT_TRUE(w.add_u8(53, 1));          // 3 bytes, 1 left for end + 4 spare
    EXPECT_FALSE(w.add_addr(54, k_server));  // 6 more would leave no room for end
    EXPECT_TRUE(w.failed());
    EXPECT_EQ(w.finish(), 0u);
}

// ---- the client ------------------------------------------------------------------------------

/// What the client sent in one frame: the DHCP message after Ethernet, IPv4 and UDP.
struct sent_message {
    ip4_addr ip_src, ip_dst;
    wire::dhcp_message_type type{};
    std::uint32_t xid = 0;
    std::uint16_t flags = 0;
    ip4_addr ciaddr;
    wire::dhcp_options options;
};

std::vector<sent_message> dhcp_messages(const std::vector<bytes>& frames) {
    std::vector<sent_message> out;
    for (const bytes& f : frames) {
        if (f.size() < 42 + 240 || be16(f, 12) != 0x0800 || f[14 + 9] != 17 || be16(f, 14 + 20 + 2) != 67) continue;
        const auto v = wire::dhcp_view::parse(as_span(f).subspan(42));
        if (!v) continue;
        const auto o = wire::parse_dhcp_options(v->options());
        if (o.check != wire::dhcp_options_check::ok || !o.options.message_type) continue;
        sent_message m;
        std::memcpy(&m.ip_src.addr, &f[14 + 12], 4);
        std::memcpy(&m.ip_dst.addr, &f[14 + 16], 4);
        m.type = *o.options.message_type;
        m.xid = v->xid();
        m.flags = v->flags();
        m.ciaddr = v->ciaddr();
        m.options = o.options;
        out.push_back(m);
    }
    return out;
}

class DhcpClientTest : public EthernetTest {
protected:
    void SetUp() override {
        EthernetTest::SetUp();
        in_core(s, [&] { netif_set_addr(&eth.nif, {}, {}, {}); });
    }
    void TearDown() override {
        in_core(s, [&] { dhcp_stop(s, &eth.nif); });
        EthernetTest::TearDown();
    }
    /// A config whose client clock runs 100× fast: a 10 s lease lasts 100 ms (and an
    /// unanswered OFFER is given up after 4 REQUESTs in ~600 ms, far longer than a test
    /// takes to answer it).
    static dhcp_config fast() {
        dhcp_config c;
        c.time_divisor = 100;
        c.tick = std::chrono::milliseconds(1);
        return c;
    }
    void start(const dhcp_config& cfg) { ASSERT_EQ(in_core(s, [&] { return dhcp_start(s, &eth.nif, cfg); }), err::ok); }
    dhcp_status status() { return in_core(s, [&] { return dhcp_get(&eth.nif); }); }
    std::vector<sent_message> sent() { return in_core(s, [&] { return dhcp_messages(eth.frames); }); }
    ip4_addr our_ip() { return in_core(s, [&] { return eth.nif.ip; }); }
    /// Drives the client to bound with a lease of lease_s seconds (on its clock).
    void bind_with_lease(std::uint32_t lease_s) {
        const std::uint32_t xid = status().xid;
        receive(server_frame(reply(2, xid, lease_s)));  // OFFER
        ASSERT_EQ(status().state, dhcp_state::requesting);
        receive(server_frame(reply(5, xid, lease_s)));  // ACK
        ASSERT_EQ(status().state, dhcp_state::bound);
    }
    template <class Pred>
    void wait_for(Pred pred, const char* what) {
        ASSERT_TRUE(wait_until([&] { return in_core(s, [&] { return pred(dhcp_get(&eth.nif)); }); })) << what;
    }
};

TEST_P(DhcpClientTest, DiscoverOfferRequestAckBindsTheAddress) {
    dhcp_config slow;  // RFC timing: nothing is retransmitted during this test
    start(slow);
    auto msgs = sent();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].type, wire::dhcp_message_type::discover);
    EXPECT_EQ(msgs[0].ip_src, ip4_addr{});
    EXPECT_EQ(msgs[0].ip_dst, k_broadcast);
    EXPECT_EQ(msgs[0].flags, wire::k_dhcp_flag_broadcast);
    const std::uint32_t xid = msgs[0].xid;
    EXPECT_EQ(status().xid, xid);

    receive(server_frame(reply(2, xid, 3600)));
    msgs = sent();
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].type, wire::dhcp_message_type::request);
    EXPECT_EQ(msgs[1].xid, xid);
    EXPECT_EQ(msgs[1].options.requested_ip, k_offered);
    EXPECT_EQ(msgs[1].options.server_id, k_server);
    EXPECT_EQ(msgs[1].ciaddr, ip4_addr{});

    receive(server_frame(reply(5, xid, 3600)));
    const auto st = status();
    EXPECT_EQ(st.state, dhcp_state::bound);
    EXPECT_EQ(st.lease.ip, k_offered);
    EXPECT_EQ(st.lease.server, k_server);
    EXPECT_EQ(st.lease.lease_s, 3600u);
    EXPECT_EQ(st.lease.t1_s, 1800u);
    EXPECT_EQ(st.lease.t2_s, 3150u);
    EXPECT_EQ(our_ip(), k_offered);
    EXPECT_EQ(in_core(s, [&] { return eth.nif.netmask; }), k_netmask);
    EXPECT_EQ(in_core(s, [&] { return eth.nif.gw; }), k_server);
    EXPECT_EQ(st.counters.offers, 1u);
    EXPECT_EQ(st.counters.acks, 1u);
    EXPECT_EQ(st.counters.leases, 1u);
    EXPECT_EQ(s.st().dhcp_recv.get(), 2u);
    EXPECT_EQ(s.st().dhcp_xmit.get(), 2u);
    EXPECT_GE(s.st().arp_xmit.get(), 1u);  // the gratuitous announcement of the new address
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

TEST_P(DhcpClientTest, RepliesNotForUsOrMalformedAreDroppedAndCounted) {
    start(dhcp_config{});
    const std::uint32_t xid = status().xid;
    receive(server_frame(reply(2, xid + 1)));  // another transaction
    EXPECT_EQ(dropped(drop_reason::dhcp_not_ours), 1u);
    const wire::mac_addr other{{0x02, 0, 0, 0, 0, 0x99}};
    receive(server_frame(reply(2, xid, 10, k_offered, other)));  // another client's
    EXPECT_EQ(dropped(drop_reason::dhcp_not_ours), 2u);
    bytes request = reply(2, xid);
    request[0] = 1;  // a BOOTREQUEST to port 68
    receive(server_frame(request));
    EXPECT_EQ(dropped(drop_reason::dhcp_not_ours), 3u);
    bytes truncated = reply(2, xid);
    truncated.pop_back();  // no end option
    receive(server_frame(truncated));
    bytes bootp = reply(2, xid);
    bootp[236] = 0;  // no magic cookie
    receive(server_frame(bootp));
    bytes short_message(100, 0);
    receive(server_frame(short_message));
    EXPECT_EQ(dropped(drop_reason::dhcp_malformed), 3u);
    receive(server_frame(reply(5, xid)));  // an ACK while selecting
    bytes no_server = bootp_header(2, xid, k_our_mac, k_offered);
    no_server.insert(no_server.end(), {53, 1, 2, 255});  // an OFFER without server id
    receive(server_frame(no_server));
    EXPECT_EQ(dropped(drop_reason::dhcp_unexpected), 2u);
    const auto st = status();
    EXPECT_EQ(st.state, dhcp_state::selecting);
    EXPECT_EQ(st.counters.offers, 0u);
    EXPECT_EQ(our_ip(), ip4_addr{});
    EXPECT_EQ(s.st().dhcp_recv.get(), 0u);
}

TEST_P(DhcpClientTest, RetransmitsWithBackoffThenGivesUpARequestAndRediscovers) {
    start(fast());
    // 40, 80, 160 ms (±10 ms) on the fast clock: three retransmissions of the same DISCOVER.
    wait_for([](const dhcp_status& st) { return st.counters.discovers >= 4; }, "DISCOVER retransmitted");
    auto msgs = sent();
    ASSERT_GE(msgs.size(), 4u);
    for (const auto& m : msgs) {
        EXPECT_EQ(m.type, wire::dhcp_message_type::discover);
        EXPECT_EQ(m.xid, msgs[0].xid);  // one exchange, one transaction id
    }
    EXPECT_GE(status().counters.retransmissions, 3u);
    // An OFFER that is never confirmed: 4 REQUESTs, then discovery with a new xid.
    const std::uint32_t xid = status().xid;
    receive(server_frame(reply(2, xid)));
    wait_for([&](const dhcp_status& st) { return st.state == dhcp_state::selecting && st.xid != xid; },
             "back to discovery after unanswered REQUESTs");
    EXPECT_EQ(status().counters.requests, 4u);
}

TEST_P(DhcpClientTest, RenewsAtT1RebindsAtT2AndLosesTheAddressAtExpiry) {
    start(fast());
    bind_with_lease(10);  // T1 50 ms, T2 87.5 ms, expiry 100 ms on the fast clock
    ASSERT_EQ(our_ip(), k_offered);
    // Nobody answers: renewing (unicast to the server), rebinding (broadcast), expiry.
    wait_for([](const dhcp_status& st) { return st.counters.expiries == 1; }, "lease expired");
    const auto st = status();
    EXPECT_EQ(st.counters.renewals, 1u);
    EXPECT_EQ(st.counters.rebinds, 1u);
    EXPECT_NE(st.state, dhcp_state::bound);  // discovery again
    EXPECT_EQ(st.lease.ip, ip4_addr{});
    EXPECT_EQ(our_ip(), ip4_addr{});
    const auto msgs = sent();
    bool rebind_seen = false;
    for (const auto& m : msgs)
        if (m.type == wire::dhcp_message_type::request && m.ip_dst == k_broadcast && m.ciaddr == k_offered) {
            rebind_seen = true;
            EXPECT_EQ(m.ip_src, k_offered);
            EXPECT_FALSE(m.options.requested_ip.has_value());  // §4.3.2: not in RENEWING/REBINDING
        }
    EXPECT_TRUE(rebind_seen) << "no broadcast REQUEST from the leased address";
    // The unicast renewal waits for the server's MAC (never answered here): ARP asked for it.
    EXPECT_GE(s.st().arp_xmit.get(), 2u);
}

TEST_P(DhcpClientTest, AnAckWhileRenewingExtendsTheLease) {
    start(fast());
    bind_with_lease(10);
    wait_for([](const dhcp_status& st) { return st.state == dhcp_state::renewing; }, "renewing at T1");
    const std::uint32_t xid = status().xid;
    receive(server_frame(reply(5, xid, 100000), k_offered));  // unicast ACK, a lease of 1000 s on the fast clock
    const auto st = status();
    EXPECT_EQ(st.state, dhcp_state::bound);
    EXPECT_EQ(st.counters.leases, 2u);
    EXPECT_EQ(st.counters.expiries, 0u);
    EXPECT_EQ(st.lease.lease_s, 100000u);
    EXPECT_EQ(our_ip(), k_offered);
}

TEST_P(DhcpClientTest, ANakDropsTheAddressAndRestartsDiscovery) {
    start(dhcp_config{});
    bind_with_lease(3600);
    ASSERT_EQ(in_core(s, [&] { return dhcp_start(s, &eth.nif, fast()); }), err::ok);  // restart: discovery again
    EXPECT_EQ(our_ip(), ip4_addr{});
    std::uint32_t xid = status().xid;
    receive(server_frame(reply(2, xid)));
    ASSERT_EQ(status().state, dhcp_state::requesting);
    receive(server_frame(reply(6, xid, 0)));  // NAK
    const auto st = status();
    EXPECT_EQ(st.state, dhcp_state::selecting);
    EXPECT_EQ(st.counters.naks, 1u);
    EXPECT_NE(st.xid, xid);
    EXPECT_EQ(sent().back().type, wire::dhcp_message_type::discover);
}

TEST_P(DhcpClientTest, ReleaseTellsTheServerAndRemovesTheAddress) {
    start(dhcp_config{});
    bind_with_lease(3600);
    // The server answers our ARP: the unicast RELEASE can leave at once.
    receive(ethernet_frame(k_our_mac, k_peer_mac, wire::k_ethertype_arp,
                           arp_packet(2, k_peer_mac, k_server, k_our_mac, k_offered)));
    ASSERT_EQ(in_core(s, [&] { return dhcp_release(s, &eth.nif); }), err::ok);
    const auto msgs = sent();
    ASSERT_FALSE(msgs.empty());
    const auto& m = msgs.back();
    EXPECT_EQ(m.type, wire::dhcp_message_type::release);
    EXPECT_EQ(m.ip_dst, k_server);
    EXPECT_EQ(m.ciaddr, k_offered);
    EXPECT_EQ(m.options.server_id, k_server);
    EXPECT_EQ(status().state, dhcp_state::off);
    EXPECT_EQ(our_ip(), ip4_addr{});
    EXPECT_EQ(in_core(s, [&] { return dhcp_release(s, &eth.nif); }), err::arg);  // not running any more
}

TEST_P(DhcpClientTest, StartRefusesBadArguments) {
    dhcp_config bad = fast();
    bad.time_divisor = 0;
    EXPECT_EQ(in_core(s, [&] { return dhcp_start(s, &eth.nif, bad); }), err::arg);
    bad = fast();
    bad.tick = std::chrono::milliseconds(0);
    EXPECT_EQ(in_core(s, [&] { return dhcp_start(s, &eth.nif, bad); }), err::arg);
    EXPECT_EQ(in_core(s, [&] { return dhcp_start(s, nullptr); }), err::arg);
    capture_netif plain;  // not added, and not Ethernet
    EXPECT_EQ(in_core(s, [&] { return dhcp_start(s, &plain.nif); }), err::arg);
    EXPECT_EQ(netifapi_dhcp_start(s, &plain.nif), err::arg);
    EXPECT_EQ(netifapi_dhcp_get(s, &plain.nif).error(), err::arg);
    in_core(s, [&] { return netif_add(s, &plain.nif); });
    EXPECT_EQ(netifapi_dhcp_start(s, &plain.nif), err::arg);  // no hardware address to send
    dhcp_config with_hw;
    with_hw.hwaddr = wire::mac_addr{{0x02, 0, 0, 0, 0, 0x42}};
    EXPECT_EQ(netifapi_dhcp_start(s, &plain.nif, with_hw), err::ok);
    EXPECT_EQ(netifapi_dhcp_get(s, &plain.nif)->state, dhcp_state::selecting);
    EXPECT_EQ(netifapi_dhcp_stop(s, &plain.nif), err::ok);
    EXPECT_EQ(netifapi_dhcp_get(s, &plain.nif)->state, dhcp_state::off);
    in_core(s, [&] { return netif_remove(s, &plain.nif); });
    EXPECT_EQ(s.st().dropped_total(), 0u);
}

TEST_P(DhcpClientTest, RemovingTheNetifStopsTheClient) {
    start(fast());
    bind_with_lease(100000);
    in_core(s, [&] { return netif_remove(s, &eth.nif); });
    EXPECT_EQ(eth.nif.dhcp, nullptr);
    EXPECT_EQ(eth.nif.ip, ip4_addr{});
    in_core(s, [&] { return netif_add(s, &eth.nif); });  // the fixture's teardown removes it again
}

INSTANTIATE_TEST_SUITE_P(Modes, DhcpClientTest, ::testing::ValuesIn(threading_modes()), mode_param_name);

}  // namespace
}  // namespace lwbench::test
