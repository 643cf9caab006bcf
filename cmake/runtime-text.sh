#!/bin/sh
# Compiler launcher for the library's C objects (CMakeLists.txt):
#   runtime-text.sh <objcopy> <compiler> <args...>
# Compiles, then moves the object's code into the section `swarmrt_text`,
# so the runtime knows the bounds of its own code (the linker defines
# __start_swarmrt_text / __stop_swarmrt_text) whether it is linked as a
# shared or as a static library: src/sched/fault.c tells a fault in the
# runtime (a bug: abort) from one in process code (a crash of that process).
objcopy=$1
shift
"$@" || exit $?
out=
prev=
for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    prev=$a
done
[ -n "$out" ] && [ -f "$out" ] || exit 0
exec "$objcopy" \
    --rename-section .text=swarmrt_text \
    --rename-section .text.unlikely=swarmrt_text \
    --rename-section .text.hot=swarmrt_text \
    --rename-section .text.startup=swarmrt_text \
    --rename-section .text.exit=swarmrt_text \
    "$out"
