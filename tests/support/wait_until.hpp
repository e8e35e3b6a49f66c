// wait_until.hpp — the tests' bounded wait for a condition another thread makes true
// (no sleeps as synchronisation: it yields and re-checks, and gives up after a limit).
#pragma once

#include <chrono>
#include <thread>

namespace lwbench::test {

/// Waits (bounded; yields, never sleeps as synchronisation) until pred() holds.
/// Returns false after `limit`: the caller fails the test.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

}  // namespace lwbench::test
