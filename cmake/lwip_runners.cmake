# lwip_runners.cmake — the real-lwIP runner builds: the one list that real_lwip/ builds
# (one lwIP build and one runner executable per entry) and that the harness runs
# (`lwbench reproduce`, through the list generated into lwbench_measure; see
# harness/include/lwbench/harness/lwip_runners.hpp).
#
# Each entry is <executable>|<LWIP_TCPIP_CORE_LOCKING: 0 or 1>|<port>, where <port> is
#   stock  the unix port of the lwIP tree (Debian's port/ by default; see real_lwip/)
#   fixed  lwbench's fixed port (real_lwip/fixed_port/: wakes after unlocking, only
#          a sleeper; docs/lwip_port_fix.md)
set(LWBENCH_LWIP_RUNNER_BUILDS
  "lwip_runner_msgpassing|0|stock"
  "lwip_runner_locking|1|stock"
  "lwip_runner_msgpassing_fixedport|0|fixed"
  "lwip_runner_locking_fixedport|1|fixed")

# lwbench_lwip_runner_fields(<entry> <executable var> <core locking var> <port var>)
function(lwbench_lwip_runner_fields entry exe_var locking_var port_var)
  string(REPLACE "|" ";" _fields "${entry}")
  list(GET _fields 0 _exe)
  list(GET _fields 1 _locking)
  list(GET _fields 2 _port)
  set(${exe_var} "${_exe}" PARENT_SCOPE)
  set(${locking_var} "${_locking}" PARENT_SCOPE)
  set(${port_var} "${_port}" PARENT_SCOPE)
endfunction()
