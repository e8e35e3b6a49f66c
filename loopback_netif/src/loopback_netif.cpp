// loopback_netif.cpp — zero-copy loopback: reference, queue, deliver after the
// current core operation (see loopback_netif.hpp).
#include "lwbench/loopback_netif.hpp"

LWBENCH_NS_BEGIN

loopback_netif::loopback_netif(stack& s, const loopback_config& cfg)
    : _s(s), _ring(cfg.queue_len ? cfg.queue_len : 1), _on_output(cfg.on_output), _on_output_arg(cfg.on_output_arg) {
    _netif.name = cfg.name;
    _netif.caps.mtu = cfg.mtu;
    _netif.output = &loopback_netif::output;
    _netif.poll = &loopback_netif::poll;
    _netif.on_remove = &loopback_netif::on_remove;
    _netif.state = this;
    if (!cfg.pcap_path.empty()) {
        _pcap = std::make_unique<pcap_writer>(cfg.pcap_path);
        if (!_pcap->ok()) _status = err::val;
    }
    netif_set_addr(&_netif, cfg.ip, cfg.netmask, {});
    if (const err e = netifapi_add(s, &_netif); e != err::ok) {
        _status = e;
        return;
    }
    netifapi_set_up(s, &_netif);
}

loopback_netif::~loopback_netif() {
    if (_netif.owner) netifapi_remove(_s, &_netif);
}

void loopback_netif::flush_pcap() {
    if (_pcap) _pcap->flush();
}

err loopback_netif::output(netif* n, pbuf* p, ip4_addr) {
    auto* self = static_cast<loopback_netif*>(n->state);
    if (self->_on_output) self->_on_output(self->_on_output_arg);
    if (self->_count == self->_ring.size()) {
        self->_s.st().drop(drop_reason::netif_queue_full);
        self->_drops.inc();
        return err::mem;
    }
    pbuf* q = p;
    if (pbuf_is_volatile(p)) {
        // The caller's memory is only valid during its call; we deliver later.
        q = pbuf_clone(pbuf_layer::link, p);
        if (!q) return err::mem;
        self->_clones.inc();
    } else {
        pbuf_ref(p);  // zero copy: the receiver gets this very chain
    }
    if (self->_pcap) self->_pcap->write(q);
    self->_ring[(self->_head + self->_count) % self->_ring.size()] = q;
    ++self->_count;
    self->_tx.inc();
    self->_s.request_poll(n);
    return err::ok;
}

void loopback_netif::poll(netif* n) {
    auto* self = static_cast<loopback_netif*>(n->state);
    // Deliver what is queued now; packets sent by receive callbacks during this loop
    // are queued behind and picked up by the stack's deferred-work loop.
    for (std::size_t todo = self->_count; todo > 0 && self->_count > 0; --todo) {
        pbuf* p = self->_ring[self->_head];
        self->_head = (self->_head + 1) % self->_ring.size();
        --self->_count;
        self->_rx.inc();
        self->_s.input(p, n);  // takes ownership; the input mode decides the path
    }
}

void loopback_netif::on_remove(netif* n) { static_cast<loopback_netif*>(n->state)->drop_queue(); }

void loopback_netif::drop_queue() {
    while (_count > 0) {
        pbuf_free(_ring[_head]);
        _head = (_head + 1) % _ring.size();
        --_count;
        _s.st().drop(drop_reason::netif_removed);
    }
}

LWBENCH_NS_END
