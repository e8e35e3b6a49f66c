// tcp_raw.cpp — the raw TCP ends of the TCP scenario kinds (see tcp_raw.hpp).
#include "tcp_raw.hpp"

#include <stdexcept>

namespace lwbench::harness::scenarios {

namespace {

void wake(tcp_raw_end& e) { e.wakes.fetch_add(1, std::memory_order_release); }

err on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err) {
    auto& e = *static_cast<tcp_raw_end*>(arg);
    if (p == nullptr) {  // the peer closed
        wake(e);
        return err::ok;
    }
    for (pbuf* q = p; q != nullptr; q = q->next) e.check.feed(q->payload, q->len);
    const std::uint32_t n = p->tot_len;
    tcp_recved(pcb, n);
    pbuf_free(p);
    if (e.echo > 0) {
        e.unanswered += n;
        bool replied = false;
        while (e.unanswered >= e.echo && tcp_write(pcb, e.reply, static_cast<std::uint32_t>(e.echo), 0) == err::ok) {
            e.unanswered -= e.echo;
            replied = true;
        }
        (void)tcp_output(pcb);
        if (replied && e.close_after_reply && close_end(e)) {
            wake(e);
            return err::abrt;  // close_end aborted the pcb
        }
    }
    wake(e);
    return err::ok;
}

err on_sent(void* arg, tcp_pcb*, std::uint32_t) {
    wake(*static_cast<tcp_raw_end*>(arg));
    return err::ok;
}

void on_err(void* arg, err) {
    auto& e = *static_cast<tcp_raw_end*>(arg);
    e.pcb = nullptr;  // the stack freed it
    wake(e);
}

err on_connected(void* arg, tcp_pcb* pcb, err) {
    auto& e = *static_cast<tcp_raw_end*>(arg);
    if (e.request_len > 0 && tcp_write(pcb, e.request, e.request_len, 0) == err::ok) (void)tcp_output(pcb);
    wake(e);
    return err::ok;
}

err on_accept(void* arg, tcp_pcb* pcb, err e) {
    auto& pair = *static_cast<tcp_raw_pair*>(arg);
    if (e != err::ok || pcb == nullptr) return err::val;
    if (pair.server.pcb != nullptr) close_end(pair.server);
    pair.server.unanswered = 0;
    attach(pair.server, pcb);
    return err::ok;
}

}  // namespace

void attach(tcp_raw_end& e, tcp_pcb* pcb) {
    e.pcb = pcb;
    tcp_arg(pcb, &e);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
    wake(e);
}

bool close_end(tcp_raw_end& e) {
    tcp_pcb* pcb = e.pcb;
    if (pcb == nullptr) return false;
    e.pcb = nullptr;
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_err(pcb, nullptr);
    if (tcp_close(pcb) == err::ok) return false;
    tcp_abort(pcb);
    return true;
}

bool write_all(stack& s, tcp_raw_end& e, const std::byte* data, std::size_t len, const std::atomic<bool>* cancel) {
    std::size_t off = 0;
    while (off < len) {
        std::size_t wrote = 0;
        bool gone = false;
        const std::uint64_t wakes = e.wakes.load(std::memory_order_acquire);
        (void)s.call([&]() -> err {
            if (e.pcb == nullptr) {
                gone = true;
                return err::clsd;
            }
            const std::size_t n = std::min<std::size_t>(len - off, tcp_sndbuf(e.pcb));
            if (n > 0 && tcp_write(e.pcb, data + off, static_cast<std::uint32_t>(n), 0) == err::ok) wrote = n;
            return tcp_output(e.pcb);
        });
        if (gone) return false;
        off += wrote;
        if (off < len && wrote == 0 &&
            !wait_until([&] { return e.wakes.load(std::memory_order_acquire) != wakes; }, std::chrono::seconds(10),
                        cancel))
            return false;
    }
    return true;
}

bool wait_bytes(const tcp_raw_end& e, std::uint64_t total, const std::atomic<bool>* cancel) {
    return e.check.bytes() >= total ||
           wait_until([&] { return e.check.bytes() >= total; }, std::chrono::seconds(10), cancel);
}

tcp_raw_pair::tcp_raw_pair(stack& s, const std::byte* payload, const std::byte* reply, std::size_t period,
                           std::uint16_t port, bool connect)
    : client(reply, period), server(payload, period), _s(s), _port(port) {
    const err e = s.call([&]() -> err {
        tcp_pcb* l = tcp_new(s);
        if (l == nullptr) return err::mem;
        if (const err b = tcp_bind(l, bench::k_lo, _port); b != err::ok) {
            tcp_abort(l);
            return b;
        }
        if (const err le = tcp_listen(l, 4); le != err::ok) {
            tcp_abort(l);
            return le;
        }
        _listener = l;
        tcp_arg(l, this);
        tcp_accept(l, on_accept);
        return connect ? connect_client() : err::ok;
    });
    if (e != err::ok) throw std::runtime_error(std::string("TCP scenario setup failed: ") + err_name(e));
    if (connect && !wait_until([&] {
            bool up = false;
            (void)s.call([&]() -> err {
                up = client.pcb != nullptr && server.pcb != nullptr && client.pcb->state == tcp_state::established &&
                     server.pcb->state == tcp_state::established;
                return err::ok;
            });
            return up;
        }))
        throw std::runtime_error("TCP scenario: the connection was not established within 10 s");
}

err tcp_raw_pair::connect_client() {
    tcp_pcb* c = tcp_new(_s);
    if (c == nullptr) return err::mem;
    attach(client, c);
    const err e = tcp_connect(c, bench::k_lo, _port, on_connected);
    if (e != err::ok) {
        client.pcb = nullptr;
        tcp_abort(c);
    }
    return e;
}

tcp_raw_pair::~tcp_raw_pair() {
    (void)_s.call([&]() -> err {
        close_end(client);
        close_end(server);
        if (_listener != nullptr) (void)tcp_close(_listener);
        return err::ok;
    });
}

std::vector<std::byte> tcp_pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 131u + seed) & 0xffu);
    return b;
}

}  // namespace lwbench::harness::scenarios
