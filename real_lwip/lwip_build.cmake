# lwip_build.cmake — what lwbench builds of lwIP and how, shared by the Linux
# runners (real_lwip/) and the Cortex-M3 firmware (embedded/).

# lwbench_lwip_sources(<lwIP tree> <out var>): lwIP's core, IPv4 and API layers
# (no netif drivers, no apps, no port).
function(lwbench_lwip_sources lwip_dir out_var)
  file(GLOB _core "${lwip_dir}/src/core/*.c")
  file(GLOB _ipv4 "${lwip_dir}/src/core/ipv4/*.c")
  file(GLOB _api "${lwip_dir}/src/api/*.c")
  set(${out_var} ${_core} ${_ipv4} ${_api} PARENT_SCOPE)
endfunction()

# Warnings for lwIP's C (third-party code): keep -Wall's real diagnostics (an
# implicit declaration is an error: it hides a missing port macro until link
# time), drop what lwIP trips by design (the port's assert-only variables with
# LWIP_NOASSERT, unused parameters in hooks).
set(LWBENCH_LWIP_C_WARNINGS -Wall -Werror=implicit-function-declaration -Wno-unused-variable -Wno-unused-parameter)
