// stack_fixture.hpp — shared test support: leak checks (lwIP's
// lwip_check_ensure_no_alloc) and the full configuration matrix.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lwbench/tcpip.hpp"

namespace lwbench::test {

/// Every pbuf and pool entry handed out by `s` has come back.
inline void expect_no_leaks(stack& s) {
    EXPECT_EQ(s.pools().pool_in_use(), 0u) << "pool pbufs leaked";
    EXPECT_EQ(s.pools().ref_in_use(), 0u) << "ref pbufs leaked";
    EXPECT_EQ(s.pools().heap_in_use(), 0u) << "heap pbufs leaked";
}

/// lwIP's two threading modes × both input modes × every mailbox kind × every lock
/// kind (48), and the combining mode with its own input × every mailbox and lock kind
/// (12) plus once with each of lwIP's input modes (2): 62 configurations. Combining
/// with the other input modes is not crossed with every kind because those inputs run
/// the paths the lwIP modes already cover, and the matrix runs under both sanitizers.
inline std::vector<stack_config> all_configs() {
    std::vector<stack_config> out;
    const auto add = [&](threading_mode m, input_mode i, mailbox_kind mb, lock_kind l) {
        stack_config c;
        c.mode = m;
        c.input = i;
        c.mailbox = mb;
        c.lock = l;
        c.spin_iterations = 2000;  // keep spinning short: sanitizer builds are slow
        out.push_back(c);
    };
    constexpr lock_kind locks[] = {lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex};
    for (auto m : {threading_mode::message_passing, threading_mode::core_locking})
        for (auto i : {input_mode::mailbox, input_mode::inline_})
            for (auto mb : k_mailbox_kinds)
                for (auto l : locks) add(m, i, mb, l);
    for (auto mb : k_mailbox_kinds)
        for (auto l : locks) add(threading_mode::combining, input_mode::combining, mb, l);
    for (auto i : {input_mode::mailbox, input_mode::inline_})
        add(threading_mode::combining, i, mailbox_kind::mutex_cv, lock_kind::std_mutex);
    return out;
}

/// gtest parameter name: "message_passing_mailbox_mutex_cv_std_mutex".
inline std::string config_name(const testing::TestParamInfo<stack_config>& info) {
    const auto& c = info.param;
    return std::string(to_string(c.mode)) + "_" + to_string(c.input) + "_" + to_string(c.mailbox) + "_" +
           to_string(c.lock);
}

}  // namespace lwbench::test
