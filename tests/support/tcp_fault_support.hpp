// tcp_fault_support.hpp — the TCP test setup shared by the raw-API fault tests
// (tests/unit/tcp) and the socket-API ones (tests/integration): fast TCP timers for
// recovery under loss, a stack in one threading mode with its paired input mode, the
// loss-test parameters and their names, and the seeded fault mix.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <tuple>

#include "lwbench/fault_injector.hpp"
#include "lwbench/tcp.hpp"
#include "lwbench/tcpip.hpp"

namespace lwbench::test {

/// TCP timers short enough for loss tests to finish in seconds.
inline tcp_config fault_tcp_config() {
    tcp_config c;
    c.tick_ms = 2;
    c.delack_ms = 4;
    c.initial_rto_ms = 50;
    c.min_rto_ms = 10;
    c.max_rto_ms = 200;
    c.time_wait_ms = 20;
    c.max_retries = 30;  // with 10 % loss a segment may need many tries
    return c;
}

/// A stack in threading mode m with the input mode lwIP pairs with it.
inline stack_config paired(threading_mode m) {
    stack_config c;
    c.mode = m;
    c.input = paired_input_mode(m);
    c.spin_iterations = 2000;
    return c;
}

/// Loss tests: (threading mode, loss probability).
using fault_param = std::tuple<threading_mode, double>;

/// gtest parameter name: "core_locking_loss10".
inline std::string fault_name(const ::testing::TestParamInfo<fault_param>& i) {
    return std::string(to_string(std::get<0>(i.param))) + "_loss" +
           std::to_string(static_cast<int>(std::get<1>(i.param) * 100 + 0.5));
}

/// `loss` drop probability plus a fifth of it of every other fault, seeded by loss,
/// or by the environment's LWBENCH_FAULT_SEED when set (to run a loss test by hand
/// across many seeds: the suite always uses the fixed seed).
inline fault_config lossy_faults(double loss) {
    fault_config fc;
    const char* seed = std::getenv("LWBENCH_FAULT_SEED");
    fc.seed = seed ? std::strtoull(seed, nullptr, 10) : 1400 + static_cast<std::uint64_t>(loss * 1000);
    fc.drop = loss;
    fc.corrupt = loss / 5;
    fc.duplicate = loss / 5;
    fc.reorder = loss / 5;
    fc.delay = loss / 5;
    fc.delay_time = std::chrono::milliseconds(3);
    return fc;
}

}  // namespace lwbench::test
