// lwip_runners.hpp — the real-lwIP runner builds: which runner executables a build
// makes, the threading mode and the lwIP port each measures, and the stack name its
// records carry. The list comes from cmake/lwip_runners.cmake (the one list CMake
// builds the runners from), generated into lwip_runners.cpp; the runners and the
// harness both read it here. Stack-free, like kinds.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lwbench::harness {

/// The sys_arch port an lwIP build runs on.
enum class lwip_port : std::uint8_t {
    stock,  ///< the lwIP tree's own unix port (Debian's port/ by default)
    fixed,  ///< lwbench's fixed port, real_lwip/fixed_port/ (docs/lwip_port_fix.md)
};
const char* to_string(lwip_port p) noexcept;

/// One runner executable (in the build's real_lwip/ directory).
struct lwip_runner_build {
    std::string_view executable;  ///< e.g. "lwip_runner_msgpassing_fixedport"
    bool core_locking;            ///< LWIP_TCPIP_CORE_LOCKING (= ..._INPUT) of its lwIP build
    lwip_port port;
};

/// Every runner build, in cmake/lwip_runners.cmake's order.
std::span<const lwip_runner_build> lwip_runner_builds() noexcept;

/// The `stack` of a real-lwIP record: "lwip-<version>" on the stock port,
/// "lwip-<version>+fixed_port" on the fixed one.
std::string lwip_stack_name(std::string_view version, lwip_port port);
/// The port of a real-lwIP stack name (lwip_stack_name's inverse); nullopt when
/// `stack` is not a real-lwIP stack ("lwbench", "kernel").
std::optional<lwip_port> lwip_port_of_stack(std::string_view stack) noexcept;

}  // namespace lwbench::harness
