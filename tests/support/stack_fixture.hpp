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

/// Every threading mode × input mode × mailbox kind × lock kind (48 configurations).
inline std::vector<stack_config> all_configs() {
    std::vector<stack_config> out;
    for (auto m : {threading_mode::message_passing, threading_mode::core_locking})
        for (auto i : {input_mode::mailbox, input_mode::inline_})
            for (auto mb : k_mailbox_kinds)
                for (auto l : {lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex}) {
                    stack_config c;
                    c.mode = m;
                    c.input = i;
                    c.mailbox = mb;
                    c.lock = l;
                    c.spin_iterations = 2000;  // keep spinning short: sanitizer builds are slow
                    out.push_back(c);
                }
    return out;
}

/// gtest parameter name: "message_passing_mailbox_mutex_cv_std_mutex".
inline std::string config_name(const testing::TestParamInfo<stack_config>& info) {
    const auto& c = info.param;
    return std::string(to_string(c.mode)) + "_" + to_string(c.input) + "_" + to_string(c.mailbox) + "_" +
           to_string(c.lock);
}

}  // namespace lwbench::test
