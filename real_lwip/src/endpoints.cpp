// endpoints.cpp — where datagrams go (per variant) and the application endpoints:
// one sender per API (socket, netconn, raw pcb).
#include "runner.hpp"

namespace lwbench::lwip_runner {

addrs addrs_for(const std::string& variant) {
    addrs a{};
    if (variant == "stock_loopif") {
        IP_ADDR4(&a.sink, 127, 0, 0, 1);
        a.ping = a.pong = a.sink;
    } else {  // zero_copy: the sender is on zc0 (10.0.0.1), receivers on zc1 (10.0.0.2)
        IP_ADDR4(&a.sink, 10, 0, 0, 2);
        IP_ADDR4(&a.pong, 10, 0, 0, 2);
        IP_ADDR4(&a.ping, 10, 0, 0, 1);
    }
    return a;
}

sockaddr_in to_sockaddr(const ip_addr_t& ip, u16_t port) {
    sockaddr_in sa{};
    sa.sin_len = sizeof sa;
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons(port);
    sa.sin_addr.s_addr = ip_2_ip4(&ip)->addr;
    return sa;
}

err_t core_api(err_t (*fn)(void*), void* arg) {
#if LWIP_TCPIP_CORE_LOCKING
    LOCK_TCPIP_CORE();
    const err_t err = fn(arg);
    UNLOCK_TCPIP_CORE();
    return err;
#else
    struct call_data {
        tcpip_api_call_data base;  // first member: lwIP passes &base back
        err_t (*fn)(void*);
        void* arg;
    } call{};
    call.fn = fn;
    call.arg = arg;
    return tcpip_api_call(
        [](tcpip_api_call_data* c) {
            auto* d = reinterpret_cast<call_data*>(c);
            return d->fn(d->arg);
        },
        &call.base);
#endif
}

/// Raw send of `len` bytes at `payload` from `pcb`, from an application thread.
bool raw_send(udp_pcb* pcb, const ip_addr_t* dst, u16_t port, void* payload, u16_t len) {
    struct send_data {
        udp_pcb* pcb;
        const ip_addr_t* dst;
        u16_t port;
        void* payload;
        u16_t len;
    } data{pcb, dst, port, payload, len};
    return core_api(
               [](void* arg) {
                   auto* d = static_cast<send_data*>(arg);
                   pbuf* p = pbuf_alloc(PBUF_TRANSPORT, d->len, PBUF_REF);
                   if (p == nullptr) return static_cast<err_t>(ERR_MEM);
                   p->payload = d->payload;
                   const err_t err = udp_sendto(d->pcb, p, d->dst, d->port);
                   pbuf_free(p);
                   return err;
               },
               &data) == ERR_OK;
}


sender::sender(hx::api_kind api, const ip_addr_t& dst, u16_t port, std::uint8_t* payload, int size)
    : _dst(dst), _port(port), _payload(payload), _size(size) {
    switch (api) {
        case hx::api_kind::socket:
            _sock = lwip_socket(AF_INET, SOCK_DGRAM, 0);
            if (_sock < 0) fail("lwip_socket failed");
            _sa = to_sockaddr(dst, port);
            break;
        case hx::api_kind::netconn:
            _conn = netconn_new(NETCONN_UDP);
            _buf = netbuf_new();
            if (_conn == nullptr || _buf == nullptr) fail("netconn_new/netbuf_new failed");
            break;
        case hx::api_kind::raw:
            in_core([this] { _pcb = udp_new(); });
            if (_pcb == nullptr) fail("udp_new failed");
            break;
    }
}

sender::~sender() {
    if (_sock >= 0) lwip_close(_sock);
    if (_buf != nullptr) netbuf_delete(_buf);
    if (_conn != nullptr) netconn_delete(_conn);
    if (_pcb != nullptr) in_core([this] { udp_remove(_pcb); });
}

bool sender::send_one() {
    if (_sock >= 0) {
        return lwip_sendto(_sock, _payload, static_cast<size_t>(_size), 0, reinterpret_cast<sockaddr*>(&_sa),
                           sizeof _sa) == _size;
    }
    if (_conn != nullptr) {
        return netbuf_ref(_buf, _payload, static_cast<u16_t>(_size)) == ERR_OK &&
               netconn_sendto(_conn, _buf, &_dst, _port) == ERR_OK;
    }
    return raw_send(_pcb, &_dst, _port, _payload, static_cast<u16_t>(_size));
}

}  // namespace lwbench::lwip_runner
