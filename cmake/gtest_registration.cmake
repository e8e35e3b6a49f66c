# gtest_registration.cmake — lwbench_gtest(): how a GoogleTest executable becomes ctest tests.
#
#   lwbench_gtest(<target> NAME <ctest name stem> [FILTER <gtest filter>]
#                 [PREFIX <discovered-test prefix>] [LABELS <label>...] [TIMEOUT <s per case, discovered tests only>])
#
# LWBENCH_TEST_SHARDS = 0 (release, debug): one ctest test per test case
#   (gtest_discover_tests), so `ctest -R` picks single cases and a failure names one.
# LWBENCH_TEST_SHARDS = N > 0 (the asan and tsan presets): N ctest tests
#   "<NAME>.shard<i>of<N>", each running one GoogleTest shard (GTEST_TOTAL_SHARDS /
#   GTEST_SHARD_INDEX) of the executable in one process. A sanitizer's process start-up
#   costs more than most of these tests (under TSan on this 2-core VM, loaded: 62 cases
#   took 2.2 s as one process and 30.6 s as 62 processes), so the sanitizer runs start a
#   process per shard, not per case. The shards run every case of the filter exactly
#   once (GoogleTest's sharding contract). GTEST_BRIEF=1: a shard prints only its failing
#   cases (and what the tests print themselves), so a failure's report is not buried
#   under hundreds of passing cases' lines (a CI log keeps only part of a long output).
set(LWBENCH_TEST_SHARDS 0 CACHE STRING "0: one ctest test per GoogleTest case; N: N shards per executable")

function(lwbench_gtest target)
  cmake_parse_arguments(arg "" "NAME;FILTER;PREFIX;TIMEOUT" "LABELS" ${ARGN})
  if(NOT arg_NAME)
    message(FATAL_ERROR "lwbench_gtest(${target}): NAME is required")
  endif()
  string(MAKE_C_IDENTIFIER "lwbench_${arg_NAME}_tests" arg_TEST_LIST)
  if(LWBENCH_TEST_SHARDS GREATER 0)
    set(_args)
    if(arg_FILTER)
      set(_args --gtest_filter=${arg_FILTER})
    endif()
    math(EXPR _last "${LWBENCH_TEST_SHARDS} - 1")
    foreach(i RANGE ${_last})
      set(_name ${arg_NAME}.shard${i}of${LWBENCH_TEST_SHARDS})
      add_test(NAME ${_name} COMMAND $<TARGET_FILE:${target}> ${_args})
      # A shard holds many cases, under a sanitizer: 900 s whatever TIMEOUT says.
      set_tests_properties(${_name} PROPERTIES
        ENVIRONMENT "GTEST_TOTAL_SHARDS=${LWBENCH_TEST_SHARDS};GTEST_SHARD_INDEX=${i};GTEST_BRIEF=1"
        LABELS "${arg_LABELS}" TIMEOUT 900)
    endforeach()
  else()
    if(NOT arg_TIMEOUT)
      set(arg_TIMEOUT 300)
    endif()
    set(_discover)
    if(arg_FILTER)
      list(APPEND _discover TEST_FILTER "${arg_FILTER}")
    endif()
    if(arg_PREFIX)
      list(APPEND _discover TEST_PREFIX "${arg_PREFIX}")
    endif()
    list(APPEND _discover TEST_LIST ${arg_TEST_LIST})
    gtest_discover_tests(${target} ${_discover}
      DISCOVERY_TIMEOUT 60 NO_PRETTY_VALUES
      PROPERTIES TIMEOUT ${arg_TIMEOUT})
    if(arg_LABELS)
      # gtest_discover_tests(PROPERTIES LABELS "a;b") splits the list (CMake 3.25), so the
      # labels are set by a ctest include file that runs after the tests are discovered.
      set(_file ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}_labels.cmake)
      file(WRITE ${_file} "foreach(_t IN LISTS ${arg_TEST_LIST})\n  set_tests_properties(\"\${_t}\" PROPERTIES LABELS \"${arg_LABELS}\")\nendforeach()\n")
      set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_file})
    endif()
  endif()
endfunction()
