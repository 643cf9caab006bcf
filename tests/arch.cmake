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
# through its add_compile_options/add_link_options).

set(_swarm_root "${CMAKE_CURRENT_LIST_DIR}/..")
set(SWARM_ARCH_TEST_CASES
  roundtrip entry callee_saved fpu_per_context fresh_fpu_defaults many ring unwind)

# switch.S is assembled once and linked into all four executables.
add_library(swarm_arch_switch_test_obj OBJECT ${_swarm_root}/src/arch/${SWARM_ARCH}/switch.S)

if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  set(_swarm_lto_flags -flto=auto)   # one LTRANS job per core, no serial-mode note
else()
  set(_swarm_lto_flags -flto)
endif()

foreach(_variant O0 O2 O3 O2lto)
  set(_exe switch_test_${_variant})
  if(_variant STREQUAL "O2lto")
    set(_opt -O2 ${_swarm_lto_flags})
  else()
    set(_opt -${_variant})
  endif()
  add_executable(${_exe} ${CMAKE_CURRENT_LIST_DIR}/switch_test.c
                         $<TARGET_OBJECTS:swarm_arch_switch_test_obj>)
  target_include_directories(${_exe} PRIVATE
    ${_swarm_root}/include ${_swarm_root}/src ${CMAKE_CURRENT_LIST_DIR})
  target_compile_definitions(${_exe} PRIVATE _GNU_SOURCE)
  # Listed after CMAKE_C_FLAGS_<CONFIG>, so this -O wins over the build type's.
  target_compile_options(${_exe} PRIVATE ${SWARM_WARNINGS} ${_opt})
  target_link_options(${_exe} PRIVATE ${_opt})
  foreach(_case ${SWARM_ARCH_TEST_CASES})
    add_test(NAME switch_${_variant}.${_case} COMMAND ${_exe} ${_case})
    set_tests_properties(switch_${_variant}.${_case} PROPERTIES TIMEOUT 60)
    if(SWARM_SANITIZE)
      # Sanitizers run 5-20x slower: the big counts shrink (still exact).
      set_property(TEST switch_${_variant}.${_case} APPEND PROPERTY ENVIRONMENT "SWARM_TEST_SCALE=10")
    endif()
  endforeach()
endforeach()
