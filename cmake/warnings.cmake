# Compiler flags of the project's own targets.
#
# lwbench_flags (INTERFACE, propagates to every consumer): what must be the same in
# every object of one binary — sanitizers, frame pointers, the core-context checks.
#
# Warnings are private: lwbench_apply_warnings() (called once, at the end of the
# top-level CMakeLists.txt) adds them with PRIVATE scope to every C++ target defined
# in the project's own directories, so nothing that links our libraries inherits
# them, and third-party code compiled here (real lwIP's C sources) gets none.
# LWBENCH_WERROR=ON turns every warning into an error (the presets, so CI, set it).
option(LWBENCH_WERROR "Treat warnings as errors in the project's own targets" OFF)
set(LWBENCH_WARNING_FLAGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wimplicit-fallthrough -Wformat=2)
if(LWBENCH_WERROR)
  list(APPEND LWBENCH_WARNING_FLAGS -Werror)
endif()

add_library(lwbench_flags INTERFACE)
if(CMAKE_BUILD_TYPE STREQUAL "Debug" OR LWBENCH_SANITIZE)
  # Core-context assertions (lwIP's LWIP_ASSERT_CORE_LOCKED) are live in debug and sanitizer builds.
  target_compile_definitions(lwbench_flags INTERFACE LWBENCH_CHECK_CORE_CONTEXT=1)
endif()
if(LWBENCH_SANITIZE)
  target_compile_options(lwbench_flags INTERFACE -fsanitize=${LWBENCH_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(lwbench_flags INTERFACE -fsanitize=${LWBENCH_SANITIZE})
endif()
if(LWBENCH_FRAME_POINTERS)
  target_compile_options(lwbench_flags INTERFACE -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer)
endif()

# Adds the warning flags (PRIVATE, C++ sources only) to every compiled target under
# `dir`, recursively.
function(lwbench_apply_warnings dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${LWBENCH_WARNING_FLAGS}>)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    lwbench_apply_warnings(${sub})
  endforeach()
endfunction()
