# The test programs. Each declares its cases, and their attributes, in its
# TEST_MAIN table (tests/test.h); swarm_test_program (tests/CMakeLists.txt)
# registers them from the program's `--list`. Cases with the label
# `concurrency` (TEST_CONCURRENCY, and every `.det` variant) draw their
# interleaving from a printed seed; scripts/stress.sh reruns them.

# Component tests that build without the whole library.
include(${CMAKE_CURRENT_SOURCE_DIR}/arch.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/stack.cmake)

# Runtime tests.
swarm_test_program(wheel_test SOURCES wheel_test.c)
swarm_test_program(pool_test SOURCES pool_test.c)
swarm_test_program(signal_test SOURCES signal_test.c)
swarm_test_program(name_test SOURCES name_test.c)
swarm_test_program(gen_server_test SOURCES gen_server_test.c)
swarm_test_program(supervisor_test SOURCES supervisor_test.c)
swarm_test_program(task_test SOURCES task_test.c)
swarm_test_program(tmsg_test SOURCES tmsg_test.c)
swarm_test_program(io_test SOURCES io_test.c)
swarm_test_program(tls_test SOURCES tls_test.c LINK OpenSSL::SSL)
swarm_test_program(chan_test SOURCES chan_test.c)
swarm_test_program(sync_test SOURCES sync_test.c)
swarm_test_program(compact_test SOURCES compact_test.c)
swarm_test_program(hibernate_test SOURCES hibernate_test.c)
swarm_test_program(mbound_test SOURCES mbound_test.c)
swarm_test_program(mailbox_test SOURCES mailbox_test.c)
swarm_test_program(proc_test SOURCES proc_test.c)
swarm_test_program(prio_test SOURCES prio_test.c)
swarm_test_program(msg_test SOURCES msg_test.c TIMEOUT 300)
# Built without stack clash protection (Debian's gcc default; the library's
# INTERFACE options add it): the guard cases show what a big frame does.
swarm_test_program(crash_test SOURCES crash_test.c)
# A source option comes after the target's (and the INTERFACE ones).
set_source_files_properties(crash_test.c PROPERTIES COMPILE_OPTIONS -fno-stack-clash-protection)
# -rdynamic: crash_names_function looks the crashed frames up with dladdr.
set_target_properties(crash_test PROPERTIES ENABLE_EXPORTS ON)
swarm_test_program(sched_test SOURCES sched_test.c)
swarm_test_program(fault_test SOURCES fault_test.c)
swarm_test_program(lifecycle_test SOURCES lifecycle_test.c)
swarm_test_program(api_test SOURCES api_test.c)
# The headers' documented return codes against the API_RET checks in tests/.
find_program(SWARM_PYTHON3 NAMES python3 REQUIRED)
add_test(NAME api_test.doc_check
  COMMAND ${SWARM_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/api_doc_check.py ${PROJECT_SOURCE_DIR}/include
          ${CMAKE_CURRENT_SOURCE_DIR})
# The layers of src/ include only downward (issue 8): the order, the one
# upcalls header and today's listed exceptions are in scripts/.
add_test(NAME layers.check COMMAND ${SWARM_PYTHON3} ${PROJECT_SOURCE_DIR}/scripts/layer_check.py)
add_test(NAME layers.self_test COMMAND ${SWARM_PYTHON3} ${PROJECT_SOURCE_DIR}/scripts/layer_check.py --self-test)

# Differential tests against Erlang/OTP (issue 9): the scenarios of
# tests/diff/scenarios.erl, run in erl and in SwarmRT (scenarios.c), must
# print the same traces. erlang-nox is in scripts/deps.sh.
find_program(SWARM_ERL erl)
find_program(SWARM_ERLC erlc)
add_executable(diff_scenarios ${CMAKE_CURRENT_SOURCE_DIR}/diff/scenarios.c)
target_link_libraries(diff_scenarios PRIVATE swarmrt_static)
target_compile_options(diff_scenarios PRIVATE ${SWARM_WARNINGS})
if(SWARM_ERL AND SWARM_ERLC)
  add_test(NAME diff.erlang
    COMMAND ${SWARM_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/diff/run.py ${SWARM_ERLC} ${SWARM_ERL}
            $<TARGET_FILE:diff_scenarios> ${CMAKE_CURRENT_SOURCE_DIR}/diff ${CMAKE_CURRENT_BINARY_DIR}/diff)
  swarm_test_timeout(diff.erlang 300)
endif()
