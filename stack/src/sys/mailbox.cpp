// mailbox.cpp — the four tcpip mailbox kinds (see detail/mailbox.hpp).
#include "lwbench/detail/mailbox.hpp"

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <oneapi/tbb/concurrent_queue.h>

#include "lwbench/detail/bounded_queue.hpp"
#include "lwbench/detail/tcpip_msg.hpp"

LWBENCH_NS_BEGIN
namespace detail {

namespace {

/// Recycles fixed-size blocks: oneTBB's concurrent_bounded_queue allocates a page per
/// 32 pushes and frees it when drained, so with the default allocator the tbb_queue
/// mailbox allocates about once per 16 message-passing calls. Blocks freed here go to
/// a free list per size and are handed out again, so after warm-up the mailbox
/// allocates nothing. The lists only grow to the peak number of pages in use and are
/// kept until the process exits (still reachable: not a leak). A mutex guards them:
/// it is taken once per 32 pushes, and it also lets ThreadSanitizer see the hand-over
/// of a page between threads (libtbbmalloc's own recycling is invisible to it).
class block_recycler {
public:
    /// Immortal: never destroyed, so a queue torn down during static destruction can
    /// still give its pages back, and the cached pages stay reachable at exit.
    static block_recycler& instance() {
        static block_recycler* r = new block_recycler;
        return *r;
    }
    void* take(std::size_t bytes) {
        {
            std::lock_guard lk(_m);
            for (auto& l : _lists)
                if (l.bytes == bytes && !l.free.empty()) {
                    void* p = l.free.back();
                    l.free.pop_back();
                    return p;
                }
        }
        return ::operator new(bytes, std::align_val_t{64});
    }
    void give(void* p, std::size_t bytes) {
        std::lock_guard lk(_m);
        for (auto& l : _lists)
            if (l.bytes == bytes) {
                l.free.push_back(p);
                return;
            }
        _lists.push_back({bytes, {p}});
    }

private:
    struct list {
        std::size_t bytes;
        std::vector<void*> free;
    };
    std::mutex _m;
    std::vector<list> _lists;
};

template <class T>
struct recycling_allocator {
    using value_type = T;
    recycling_allocator() noexcept = default;
    template <class U>
    recycling_allocator(const recycling_allocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
    T* allocate(std::size_t n) { return static_cast<T*>(block_recycler::instance().take(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { block_recycler::instance().give(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const recycling_allocator<U>&) const noexcept {
        return true;
    }
};

class mutex_cv_mailbox final : public mailbox {
public:
    explicit mutex_cv_mailbox(std::size_t cap) : _ring(cap) {}
    void post(tcpip_msg* m) override {
        std::unique_lock lk(_m);
        _not_full.wait(lk, [&] { return _size < _ring.size(); });
        put(m);
        lk.unlock();
        _not_empty.notify_one();
    }
    bool trypost(tcpip_msg* m) override {
        {
            std::lock_guard lk(_m);
            if (_size == _ring.size()) return false;
            put(m);
        }
        _not_empty.notify_one();
        return true;
    }
    tcpip_msg* fetch() override {
        std::unique_lock lk(_m);
        _not_empty.wait(lk, [&] { return _size > 0; });
        tcpip_msg* m = _ring[_head];
        _head = (_head + 1) % _ring.size();
        --_size;
        lk.unlock();
        _not_full.notify_one();
        return m;
    }
    [[nodiscard]] std::size_t size() const override {
        std::lock_guard lk(_m);
        return _size;
    }

private:
    void put(tcpip_msg* m) {
        _ring[(_head + _size) % _ring.size()] = m;
        ++_size;
    }
    mutable std::mutex _m;
    std::condition_variable _not_empty, _not_full;
    std::vector<tcpip_msg*> _ring;
    std::size_t _head = 0, _size = 0;
};

class tbb_mailbox final : public mailbox {
public:
    explicit tbb_mailbox(std::size_t cap) { _q.set_capacity(static_cast<std::ptrdiff_t>(cap)); }
    void post(tcpip_msg* m) override { _q.push(m); }
    bool trypost(tcpip_msg* m) override { return _q.try_push(m); }
    tcpip_msg* fetch() override {
        tcpip_msg* m = nullptr;
        _q.pop(m);
        return m;
    }
    [[nodiscard]] std::size_t size() const override {
        const auto n = _q.size();  // may be negative while poppers wait
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

private:
    tbb::concurrent_bounded_queue<tcpip_msg*, recycling_allocator<tcpip_msg*>> _q;
};

class spin_mailbox final : public mailbox {
public:
    spin_mailbox(std::size_t cap, std::uint32_t spin) : _q(cap, spin), _spin(spin) {}
    void post(tcpip_msg* m) override { _q.push(m); }
    bool trypost(tcpip_msg* m) override { return _q.try_push(m); }
    tcpip_msg* fetch() override {
        tcpip_msg* m = nullptr;
        _q.pop(m);
        return m;
    }
    void wait_reply(futex_sem& done) override { done.acquire(_spin); }
    [[nodiscard]] std::size_t size() const override { return _q.size(); }

private:
    bounded_queue<tcpip_msg*> _q;
    std::uint32_t _spin;
};

/// The CPU the calling thread runs on now (0 if the kernel cannot say: then every
/// thread looks alike, "same CPU", and the adaptive kind never spins).
unsigned current_cpu() noexcept {
    const int cpu = sched_getcpu();
    return cpu < 0 ? 0u : static_cast<unsigned>(cpu);
}

/// What one side of the adaptive hand-off publishes for the other: the CPU it last ran
/// on, and whether it is asleep (or about to be). One word, so a reader sees both from
/// the same moment. A hint only: every wait still ends on a futex semaphore, so a
/// stale word costs at most one bounded spin or one sleep, never a lost wake-up.
/// The partner polls this word while it spins: it has a cache line of its own and is
/// stored only when it changes (in steady state, never), so publishing costs no
/// cache-line transfer on the hand-off's path.
class presence {
public:
    void running(unsigned cpu) noexcept { publish(cpu << 1); }
    void asleep(unsigned cpu) noexcept { publish((cpu << 1) | k_asleep); }
    /// Called by the thread that just woke this side: it runs again soon, on its last CPU.
    void woken() noexcept {
        if (_word.load(std::memory_order_relaxed) & k_asleep) _word.fetch_and(~k_asleep, std::memory_order_relaxed);
    }
    /// Worth spinning for: running (or woken) on a CPU other than `me`.
    [[nodiscard]] bool running_elsewhere(unsigned me) const noexcept {
        const std::uint32_t w = _word.load(std::memory_order_relaxed);
        return (w & k_asleep) == 0 && (w >> 1) != me;
    }

private:
    void publish(std::uint32_t word) noexcept {
        if (_word.load(std::memory_order_relaxed) != word) _word.store(word, std::memory_order_relaxed);
    }
    static constexpr std::uint32_t k_asleep = 1;
    alignas(k_cache_line) std::atomic<std::uint32_t> _word{k_asleep};  // nobody has run yet: asleep, CPU 0
};

/// Spins while `partner` runs on another CPU, at most `budget` times, for `ready()`;
/// true if it became ready. On one CPU (or with the partner asleep) it returns at once:
/// a spinner there would only keep the partner it waits for off the CPU.
template <class Ready>
bool spin_while_partner_runs(const presence& partner, unsigned me, std::uint32_t budget, Ready ready) noexcept {
    for (std::uint32_t i = 0; i < budget; ++i) {
        if (ready()) return true;
        if (!partner.running_elsewhere(me)) return false;
        cpu_relax();
    }
    return false;
}

/// The adaptive kind. The tcpip thread (consumer) and the API callers (producers)
/// each publish a presence word. A waiter, on either side, spins only while its
/// partner is running on another CPU, and sleeps at once otherwise: on one CPU it
/// behaves like a plain blocking mailbox, across CPUs like spin_then_block. Every wait
/// follows that rule: the tcpip thread for a message, a caller for its completion, and
/// a poster for room in a full mailbox. Who wakes a sleeper marks it woken (it runs
/// soon), so the two sides move from sleeping to spinning after one blocked hand-off.
/// The producers' word is the last blocking poster's (an API caller); trypost (input,
/// callbacks, which may come from the tcpip thread itself) leaves it alone.
class adaptive_mailbox final : public mailbox {
public:
    adaptive_mailbox(std::size_t cap, std::uint32_t spin) : _q(cap), _spin(spin) {}
    void post(tcpip_msg* m) override {
        const unsigned me = current_cpu();
        _producer.running(me);
        if (!_q.try_push(m) && !spin_while_partner_runs(_consumer, me, _spin, [&] { return _q.try_push(m); }))
            _q.push(m);
        _consumer.woken();
    }
    bool trypost(tcpip_msg* m) override {
        if (!_q.try_push(m)) return false;
        _consumer.woken();
        return true;
    }
    tcpip_msg* fetch() override {
        tcpip_msg* m = nullptr;
        const unsigned me = current_cpu();
        _consumer.running(me);
        if (spin_while_partner_runs(_producer, me, _spin, [&] { return _q.pop(m, true) == pop_status::ok; }))
            return m;
        if (_q.pop(m, true) == pop_status::ok) return m;
        _consumer.asleep(me);
        _q.pop(m);
        _consumer.running(current_cpu());
        return m;
    }
    void wait_reply(futex_sem& done) override {
        const unsigned me = current_cpu();
        if (spin_while_partner_runs(_consumer, me, _spin, [&] { return done.try_acquire(); })) return;
        if (done.try_acquire()) return;
        _producer.asleep(me);
        done.acquire();
        _producer.running(current_cpu());
    }
    void reply(futex_sem& done) override {
        done.post();
        _producer.woken();
    }
    [[nodiscard]] std::size_t size() const override { return _q.size(); }

private:
    bounded_queue<tcpip_msg*> _q;  // blocks without spinning: spinning is decided here
    std::uint32_t _spin;
    presence _consumer, _producer;
};

}  // namespace

std::unique_ptr<mailbox> make_mailbox(mailbox_kind kind, std::size_t capacity, std::uint32_t spin) {
    switch (kind) {
        case mailbox_kind::mutex_cv: return std::make_unique<mutex_cv_mailbox>(capacity);
        case mailbox_kind::tbb_queue: return std::make_unique<tbb_mailbox>(capacity);
        case mailbox_kind::spin_then_block: return std::make_unique<spin_mailbox>(capacity, spin);
        case mailbox_kind::adaptive: return std::make_unique<adaptive_mailbox>(capacity, spin);
    }
    return nullptr;
}

}  // namespace detail
LWBENCH_NS_END
