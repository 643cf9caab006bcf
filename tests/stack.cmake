# tests/stack.cmake - the stack arena (src/stack/), included from
# tests/tests.cmake.
#
# Built from its own sources (stack.c + sys.c), not from the library: the
# arena only depends on base/sys, and its tests wrap swarm__sys to count and
# fail syscalls. Each case is its own ctest test (own process, own timeout).
find_package(Threads REQUIRED)
add_executable(stack_test
  ${PROJECT_SOURCE_DIR}/tests/stack_test.c
  ${PROJECT_SOURCE_DIR}/src/stack/stack.c
  ${PROJECT_SOURCE_DIR}/src/base/sys.c)
target_include_directories(stack_test PRIVATE
  ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(stack_test PRIVATE _GNU_SOURCE)
target_compile_options(stack_test PRIVATE ${SWARM_WARNINGS})
target_link_libraries(stack_test PRIVATE Threads::Threads)

set(SWARM_STACK_TEST_CASES
  class_rounding reuse_warm guard_madvise guard_mprotect guard_canary is_guard
  mprotect_budget mprotect_failure mprotect_pool auto_fallback steady_state
  decommit_merge trim fault_mmap fault_guard fault_malloc max_slots threads
  strict_commit million destroy_unmaps)
foreach(c ${SWARM_STACK_TEST_CASES})
  add_test(NAME stack.${c} COMMAND stack_test ${c})
  set_tests_properties(stack.${c} PROPERTIES TIMEOUT 60)
  if(SWARM_SANITIZE)
    # Sanitizers run 5-20x slower: the big counts shrink (still exact).
    set_property(TEST stack.${c} APPEND PROPERTY ENVIRONMENT "SWARM_TEST_SCALE=10")
  endif()
endforeach()
