# Runs at every build (cmake -P, from the lwbench_build_info target): writes OUT, a
# C++ source defining the source tree's git revision and dirtiness *as built*. The
# file is replaced only when its content changes, so an unchanged revision rebuilds
# nothing. Result files compare this with the revision at run time.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD
                OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR rev STREQUAL "")
  set(rev "unknown")
endif()
set(dirty "std::nullopt")
if(NOT rev STREQUAL "unknown")
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0)
    if(changes STREQUAL "")
      set(dirty "false")
    else()
      set(dirty "true")
    endif()
  endif()
endif()
file(WRITE "${OUT}.tmp" "// Generated at build time by cmake/build_info.cmake: do not edit.
#include \"lwbench/harness/build_info.hpp\"
namespace lwbench::harness {
const build_info& built_from() {
    static const build_info info{\"${rev}\", ${dirty}};
    return info;
}
}  // namespace lwbench::harness
")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
