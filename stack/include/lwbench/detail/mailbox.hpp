// detail/mailbox.hpp — the tcpip thread's mailbox, four interchangeable kinds
// (a measurement dimension, chosen per stack at run time):
//  - mutex_cv:        std::mutex + std::condition_variable around a ring, like
//                     lwIP's POSIX port (sys_mbox on pthread mutex/cond).
//  - tbb_queue:       oneTBB concurrent_bounded_queue (its own waiting scheme).
//  - spin_then_block: our bounded_queue: the fetching tcpip thread spins before it
//                     sleeps on a futex; posters wake it only if it sleeps. A caller
//                     spins as long on its completion before it sleeps.
//  - adaptive:        each side publishes whether it runs (and on which CPU) or
//                     sleeps; a waiter spins only while its partner runs on another
//                     CPU and sleeps at once otherwise (one CPU: never spins).
// A mailbox also owns how an API caller waits for its call's completion and how the
// tcpip thread posts it (wait_reply/reply): the spinning policy is the kind's.
// All are bounded: post() blocks while full, trypost() fails instead (used from core
// context, which must never block on the mailbox).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "lwbench/detail/futex_sem.hpp"
#include "lwbench/tcpip.hpp"

LWBENCH_NS_BEGIN
namespace detail {

struct tcpip_msg;

class mailbox {
public:
    virtual ~mailbox() = default;
    virtual void post(tcpip_msg* m) = 0;            ///< blocks while full
    virtual bool trypost(tcpip_msg* m) = 0;         ///< false if full
    virtual tcpip_msg* fetch() = 0;                 ///< blocks until a message arrives
    [[nodiscard]] virtual std::size_t size() const = 0;  ///< approximate depth
    /// An API caller, after post(), waits for its completion `done` (the caller's own
    /// semaphore). Default: sleep at once.
    virtual void wait_reply(futex_sem& done) { done.acquire(); }
    /// The tcpip thread posts a completion (after the core is released).
    virtual void reply(futex_sem& done) { done.post(); }
};

/// `spin`: the most a waiter spins before it sleeps (spin_then_block: always that
/// much; adaptive: at most that much, while its partner runs elsewhere). Other kinds
/// ignore it.
std::unique_ptr<mailbox> make_mailbox(mailbox_kind kind, std::size_t capacity, std::uint32_t spin);

}  // namespace detail
LWBENCH_NS_END
