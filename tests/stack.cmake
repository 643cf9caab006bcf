# tests/stack.cmake - the stack arena (src/stack/), included from
# tests/tests.cmake.
#
# Built from its own sources (stack.c + sys.c), not from the library: the
# arena only depends on base/sys, and its tests wrap swarm__sys to count and
# fail syscalls. Each case of stack_test.c's TEST_MAIN table is its own ctest
# test, stack.<case> (own process, own timeout).
find_package(Threads REQUIRED)
# No process is a TSan fiber here: the sanitizer count divisor stays 10.
swarm_test_program(stack_test PREFIX stack STANDALONE TIMEOUT 60 SCALE 10
  SOURCES ${PROJECT_SOURCE_DIR}/tests/stack_test.c
          ${PROJECT_SOURCE_DIR}/src/stack/stack.c
          ${PROJECT_SOURCE_DIR}/src/base/sys.c
  LINK Threads::Threads)
