# tests/arch.cmake - the machine context switch (src/arch), tested alone.
#
# switch_test.c links only src/arch/<isa>/switch.S, never the library, so
# the lowest layer is checked before anything above it exists. The switch is
# an opaque call whose contract the compiler must honour at every
# optimisation level, so the same test is built four times:
#   switch_test_O0, switch_test_O2, switch_test_O3, switch_test_O2lto
# and every case of each is its own ctest test (own process, own timeout):
#   switch_O2.roundtrip, switch_O2lto.many, ...
#
# Included from tests/tests.cmake; uses SWARM_ARCH, SWARM_WARNINGS and
# SWARM_SANITIZE from the top-level CMakeLists.txt (sanitizer flags arrive
# through its add_compile_options/add_link_options). The cases are those of
# switch_test.c's TEST_MAIN table (swarm_test_program, tests/CMakeLists.txt).

set(_swarm_root "${CMAKE_CURRENT_LIST_DIR}/..")

# switch.S is assembled once and linked into all four executables.
add_library(swarm_arch_switch_test_obj OBJECT ${_swarm_root}/src/arch/${SWARM_ARCH}/switch.S)

if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  set(_swarm_lto_flags -flto=auto)   # one LTRANS job per core, no serial-mode note
else()
  set(_swarm_lto_flags -flto)
endif()

foreach(_variant O0 O2 O3 O2lto)
  if(_variant STREQUAL "O2lto")
    set(_opt -O2 ${_swarm_lto_flags})
  else()
    set(_opt -${_variant})
  endif()
  # No process is a TSan fiber here: the sanitizer count divisor stays 10.
  swarm_test_program(switch_test_${_variant} PREFIX switch_${_variant} STANDALONE TIMEOUT 60 SCALE 10
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/switch_test.c $<TARGET_OBJECTS:swarm_arch_switch_test_obj>
    COMPILE_OPTIONS ${_opt} LINK_OPTIONS ${_opt})
endforeach()
