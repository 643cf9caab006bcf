# tests/list_cases.cmake - run after a test program links (a POST_BUILD step
# of swarm_test_program, tests/CMakeLists.txt): writes `EXE --list` to LIST.
#
#   cmake -D EXE=<program> -D LIST=<file> -P list_cases.cmake
#
# Each line is a case name and its attributes (tests/test.h); a line that is
# not of that form fails the build here rather than registering nonsense.
cmake_minimum_required(VERSION 3.22)
execute_process(COMMAND "${EXE}" --list
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --list failed (${rc}): ${err}")
endif()
string(REGEX REPLACE "\n$" "" body "${out}")
string(REPLACE "\n" ";" lines "${body}")
set(seen "")
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^([A-Za-z0-9_]+)( det)?( concurrency)?( serial)?( timeout=[1-9][0-9]*)?$")
    message(FATAL_ERROR "${EXE} --list: bad line '${line}'")
  endif()
  if(CMAKE_MATCH_1 IN_LIST seen)
    message(FATAL_ERROR "${EXE} --list: case ${CMAKE_MATCH_1} twice")
  endif()
  list(APPEND seen ${CMAKE_MATCH_1})
endforeach()
if(NOT seen)
  message(FATAL_ERROR "${EXE} --list: no cases")
endif()
# Write only on change, so an unchanged list keeps its timestamp.
file(WRITE "${LIST}.tmp" "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${LIST}.tmp" "${LIST}")
file(REMOVE "${LIST}.tmp")
