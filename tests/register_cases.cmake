# tests/register_cases.cmake - read by ctest (through the TEST_INCLUDE_FILES
# that swarm_test_program writes, tests/CMakeLists.txt): registers one ctest
# test per line of a program's `--list` output.
#
# Set by the including file:
#   SWARM_CASES_LIST        the list file the build wrote (tests/list_cases.cmake)
#   SWARM_CASES_EXE         the program
#   SWARM_CASES_PREFIX      test names are <prefix>.<case> and <prefix>.<case>.det
#   SWARM_CASES_TIMEOUT     default timeout in seconds, before scaling
#   SWARM_CASES_TIME_SCALE  sanitizer factor for every timeout (1, 2 or 3)
#   SWARM_CASES_ENV         environment of every case (the sanitizer scales)
#
# A case line is "<case>[ det][ concurrency][ serial][ timeout=<s>]"
# (tests/test.h). `serial` sets RUN_SERIAL on the case and its .det.
# `det` adds <prefix>.<case>.det: SWARM_TEST_DETERMINISTIC=1, labelled
# concurrency. Before the program is built there is no list: one failing
# placeholder test says so.
if(NOT EXISTS "${SWARM_CASES_LIST}")
  add_test(${SWARM_CASES_PREFIX}_NOT_BUILT "${SWARM_CASES_EXE}" --not-built)
  return()
endif()
file(STRINGS "${SWARM_CASES_LIST}" _swarm_lines)
foreach(_line IN LISTS _swarm_lines)
  if(NOT _line MATCHES "^([A-Za-z0-9_]+)( det)?( concurrency)?( serial)?( timeout=([1-9][0-9]*))?$")
    message(WARNING "${SWARM_CASES_LIST}: bad line '${_line}'")
    continue()
  endif()
  set(_case ${CMAKE_MATCH_1})
  set(_det "${CMAKE_MATCH_2}")
  set(_conc "${CMAKE_MATCH_3}")
  set(_serial "${CMAKE_MATCH_4}")
  set(_timeout ${SWARM_CASES_TIMEOUT})
  if(CMAKE_MATCH_6)
    set(_timeout ${CMAKE_MATCH_6})
  endif()
  math(EXPR _timeout "${_timeout} * ${SWARM_CASES_TIME_SCALE}")
  set(_name ${SWARM_CASES_PREFIX}.${_case})
  add_test(${_name} "${SWARM_CASES_EXE}" ${_case})
  set_tests_properties(${_name} PROPERTIES TIMEOUT ${_timeout})
  if(SWARM_CASES_ENV)
    set_tests_properties(${_name} PROPERTIES ENVIRONMENT "${SWARM_CASES_ENV}")
  endif()
  if(_conc)
    set_tests_properties(${_name} PROPERTIES LABELS concurrency)
  endif()
  if(_serial)
    set_tests_properties(${_name} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(_det)
    add_test(${_name}.det "${SWARM_CASES_EXE}" ${_case})
    set(_env SWARM_TEST_DETERMINISTIC=1 ${SWARM_CASES_ENV})
    set_tests_properties(${_name}.det PROPERTIES TIMEOUT ${_timeout} LABELS concurrency
      ENVIRONMENT "${_env}")
    if(_serial)
      set_tests_properties(${_name}.det PROPERTIES RUN_SERIAL TRUE)
    endif()
  endif()
endforeach()
