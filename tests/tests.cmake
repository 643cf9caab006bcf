# Component tests that build without the whole library.
include(${CMAKE_CURRENT_SOURCE_DIR}/arch.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/stack.cmake)

# Runtime tests. Cases carrying the label `concurrency` draw their
# interleaving from a printed seed; scripts/stress.sh reruns them.
swarm_test(wheel_test SOURCES wheel_test.c
  CASES basic cascade far_future cancel random)
swarm_test(mailbox_test SOURCES mailbox_test.c
  CASES single_thread mark_empty threads_fifo)
swarm_test(proc_test SOURCES proc_test.c
  CASES spawn_basic spawn_opts exit_reason self_and_alive spawn_1m parked_100k yield_fairness
        two_swarms run_returns bad_args pid_format table_full table_reuse destroy_unmaps_threads
  DET_CASES spawn_1m two_swarms run_returns table_reuse)
# (msg, crash and sched tests come next)
swarm_test(msg_test SOURCES msg_test.c TIMEOUT 300
  CASES ping_pong selective_tag selective_match recv_timeout recv_poll stale_pid dead_pid
        msg_too_big foreign_send mailbox_len messages_10m accounting deadline_helpers huge_timeout_recv
        huge_timeout_sleep huge_timeout_wait size_overflow
  DET_CASES ping_pong selective_match recv_timeout stale_pid foreign_send messages_10m huge_timeout_recv
        huge_timeout_sleep huge_timeout_wait)
set_tests_properties(msg_test.messages_10m msg_test.accounting proc_test.parked_100k msg_test.foreign_send
  PROPERTIES LABELS concurrency)
# Built without stack clash protection (Debian's gcc default; the library's
# INTERFACE options add it): the guard cases show what a big frame does.
swarm_test(crash_test SOURCES crash_test.c
  CASES stack_overflow null_deref fpe mprotect_mode canary_mode crash_frees_resources exit_hook_reasons
        abort_on_fault big_frame canary_runaway overflow_decommits
  DET_CASES stack_overflow null_deref)
# A source option comes after the target's (and the INTERFACE ones).
set_source_files_properties(crash_test.c PROPERTIES COMPILE_OPTIONS -fno-stack-clash-protection)
set_tests_properties(crash_test.stack_overflow crash_test.null_deref PROPERTIES LABELS concurrency)
swarm_test(sched_test SOURCES sched_test.c
  CASES steal_spreads hint_places idle_cpu watchdog_reports many_sleepers tls_migration pinned_stays
        deterministic_replay
  DET_CASES steal_spreads many_sleepers tls_migration pinned_stays)
set_tests_properties(sched_test.steal_spreads sched_test.tls_migration sched_test.many_sleepers
  sched_test.pinned_stays sched_test.deterministic_replay PROPERTIES LABELS concurrency)
swarm_test(fault_test SOURCES fault_test.c
  CASES walk_create walk_spawn walk_send walk_timer thread_create_fails mmap_fails madvise_fails_or_stalls
        guard_that_does_not_trap)
swarm_test(lifecycle_test SOURCES lifecycle_test.c
  CASES sched_default_affinity sched_default_env cgroup_quota destroy_timeout destroy_timeout_quick
        deadlock_run deadlock_many deadlock_not_sleepers deadlock_off_foreign deadlock_report_foreign
        deadlock_wait_return
  DET_CASES destroy_timeout_quick deadlock_run deadlock_many deadlock_not_sleepers deadlock_wait_return)
set_tests_properties(lifecycle_test.deadlock_run lifecycle_test.deadlock_not_sleepers
  lifecycle_test.deadlock_report_foreign PROPERTIES LABELS concurrency)
swarm_test(api_test SOURCES api_test.c
  CASES create wait_destroy destroy_timeout run info_stats spawn spawn_shutdown spawn_in send process_calls strerror_all)
# The headers' documented return codes against the API_RET checks in tests/.
find_program(SWARM_PYTHON3 NAMES python3 REQUIRED)
add_test(NAME api_test.doc_check
  COMMAND ${SWARM_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/api_doc_check.py ${PROJECT_SOURCE_DIR}/include
          ${CMAKE_CURRENT_SOURCE_DIR})
