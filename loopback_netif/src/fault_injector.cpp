// fault_injector.cpp — seeded drop / corrupt / duplicate / reorder / delay in front of
// a netif's output (see fault_injector.hpp).
#include "lwbench/fault_injector.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

LWBENCH_NS_BEGIN

namespace {

// The wrapped netif keeps its own `state` (its driver needs it), so the injector is
// found by netif address. Wrapping is rare and per test; output looks up one or two
// entries under a mutex (several stacks may run on several threads).
std::mutex g_registry_mutex;
std::vector<std::pair<const netif*, fault_injector*>>& registry() {
    static std::vector<std::pair<const netif*, fault_injector*>> r;
    return r;
}
fault_injector* find(const netif* n) {
    std::lock_guard lk(g_registry_mutex);
    for (auto& [key, inj] : registry())
        if (key == n) return inj;
    return nullptr;
}

bool valid(double p) { return p >= 0.0 && p <= 1.0; }

}  // namespace

fault_injector::fault_injector(stack& s, netif* n, const fault_config& cfg)
    : _s(s), _n(n), _cfg(cfg), _rng(cfg.seed) {
    if (!valid(cfg.drop) || !valid(cfg.corrupt) || !valid(cfg.duplicate) || !valid(cfg.reorder) || !valid(cfg.delay)) {
        _status = err::val;
        return;
    }
    if (!n || find(n)) {
        _status = err::arg;
        return;
    }
    _held.reserve(cfg.max_held);
    _status = s.call([&] {
        if (n->owner != &s || !n->output) return err::arg;
        _inner = n->output;
        {
            std::lock_guard lk(g_registry_mutex);
            registry().emplace_back(n, this);
        }
        n->output = &fault_injector::output;
        const auto tick = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1), _cfg.delay_time / 2);
        if (_cfg.delay > 0 || _cfg.reorder > 0) _timer = s.add_cyclic_timer(tick, &fault_injector::on_timer, this);
        return err::ok;
    });
}

fault_injector::~fault_injector() {
    if (_status != err::ok) return;
    (void)_s.call([&] {
        if (_timer) _s.remove_timer(_timer);
        flush();
        if (_n->output == &fault_injector::output) _n->output = _inner;
        std::lock_guard lk(g_registry_mutex);
        std::erase_if(registry(), [this](const auto& e) { return e.second == this; });
        return err::ok;
    });
}

bool fault_injector::roll(double probability) {
    if (probability <= 0.0) return false;
    return std::uniform_real_distribution<double>(0.0, 1.0)(_rng) < probability;
}

err fault_injector::output(netif* n, pbuf* p, ip4_addr next_hop) {
    fault_injector* self = find(n);
    return self ? self->handle(p, next_hop) : err::if_;
}

err fault_injector::handle(pbuf* p, ip4_addr next_hop) {
    if (roll(_cfg.drop)) {
        _dropped.inc();
        return err::ok;
    }
    if (roll(_cfg.corrupt)) {
        pbuf* copy = pbuf_clone(pbuf_layer::link, p);
        if (!copy) return err::mem;
        const std::size_t at = std::uniform_int_distribution<std::size_t>(0, copy->tot_len - 1u)(_rng);
        const auto flip = static_cast<std::uint8_t>(std::uniform_int_distribution<unsigned>(1, 255)(_rng));
        std::size_t off = at;
        pbuf* q = copy;
        while (off >= q->len) {
            off -= q->len;
            q = q->next;
        }
        q->bytes()[off] ^= std::byte{flip};
        _corrupted.inc();
        const err e = pass(copy, next_hop);
        pbuf_free(copy);
        return e;
    }
    if (_held.size() < _cfg.max_held) {
        if (roll(_cfg.reorder)) {
            _reordered.inc();
            hold(p, next_hop, true);
            return err::ok;
        }
        if (roll(_cfg.delay)) {
            _delayed.inc();
            hold(p, next_hop, false);
            return err::ok;
        }
    }
    const err e = pass(p, next_hop);
    if (e == err::ok && roll(_cfg.duplicate)) {
        if (pbuf* copy = pbuf_clone(pbuf_layer::link, p)) {
            _duplicated.inc();
            (void)pass(copy, next_hop);
            pbuf_free(copy);
        }
    }
    return e;
}

err fault_injector::pass(pbuf* p, ip4_addr next_hop) {
    const err e = _inner(_n, p, next_hop);
    if (e == err::ok) _passed.inc();
    release(true, false);  // a packet went by: reordered ones may follow it now
    return e;
}

void fault_injector::hold(pbuf* p, ip4_addr next_hop, bool until_next) {
    pbuf_ref(p);  // ours until passed on; the sender frees its own reference
    _held.push_back({p, next_hop, std::chrono::steady_clock::now() + _cfg.delay_time, until_next});
}

void fault_injector::release(bool next_passed, bool all) {
    if (_releasing) return;  // pass() below calls back here
    _releasing = true;
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < _held.size();) {
        held_packet h = _held[i];
        if (all || h.due <= now || (next_passed && h.until_next)) {
            _held.erase(_held.begin() + static_cast<std::ptrdiff_t>(i));
            (void)_inner(_n, h.p, h.next_hop);  // a full queue loses it, as a wire would
            _passed.inc();
            pbuf_free(h.p);
        } else {
            ++i;
        }
    }
    _releasing = false;
}

void fault_injector::flush() {
    assert_core_context(_s, "fault_injector::flush");
    release(false, true);
}

void fault_injector::on_timer(void* arg) { static_cast<fault_injector*>(arg)->release(false, false); }

LWBENCH_NS_END
