// dispatch_main.cpp — bench_dispatch: runtime mode dispatch (lwbench::dyn) against
// builds with the mode fixed at compile time (lwbench::fixed_cl, lwbench::fixed_mp),
// all in one binary so they are interleaved in one run (see dispatch_variant.cpp).
// This file includes no stack header: it is compiled with no variant at all.
#include "bench_common.hpp"

int main(int argc, char** argv) {
    return lwbench::gbench::run_main(
        argc, argv, "bench_dispatch",
        {{"lwbench_dispatch_variants",
          "Dispatch_dyn: threading mode read at run time (stack::call reads an atomic and branches); "
          "Dispatch_fixed_cl: stack compiled with LWBENCH_FIXED_MODE_CORE_LOCKING (lwbench::fixed_cl); "
          "Dispatch_fixed_mp: LWBENCH_FIXED_MODE_MESSAGE_PASSING (lwbench::fixed_mp). Same benchmark source."},
         {"lwbench_dispatch_target", "runtime dispatch <= 2% slower than fixed (core-locking netconn/socket send)"}});
}
