# bench/arch.cmake - raw_switch: the cost of one swarm__ctx_switch.
#
# Links only src/arch/<isa>/switch.S (no library, no scheduler), always at
# -O2 whatever the build type. Run: ./raw_switch [switches_per_run [runs]]
# Prints one line: raw_switch ns_per_switch=<median> runs=<n>
# Included from bench/CMakeLists.txt; uses SWARM_ARCH and SWARM_WARNINGS.

set(_swarm_root "${CMAKE_CURRENT_LIST_DIR}/..")
add_executable(raw_switch ${CMAKE_CURRENT_LIST_DIR}/raw_switch.c
                          ${_swarm_root}/src/arch/${SWARM_ARCH}/switch.S)
target_include_directories(raw_switch PRIVATE ${_swarm_root}/src)
target_compile_options(raw_switch PRIVATE $<$<COMPILE_LANGUAGE:C>:${SWARM_WARNINGS} -O2>)
