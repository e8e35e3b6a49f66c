# Compiler flags shared by every target: warnings, sanitizers, frame pointers.
add_library(lwbench_flags INTERFACE)
target_compile_options(lwbench_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wimplicit-fallthrough -Wformat=2)
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
