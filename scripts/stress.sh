#!/usr/bin/env bash
# scripts/stress.sh - rerun the concurrency tests many times, each run with a
# fresh random seed, and report every failure with the seed that replays it.
#
#   scripts/stress.sh [--build DIR] [--count N] [--regex REGEX | --label LABEL]
#                     [--jobs J] [--stop-on-failure]
#
#   --build DIR        configured build tree (default: build/dev of this checkout)
#   --count N          number of runs (default: 20, the CI setting)
#   --regex REGEX      run the ctest tests whose name matches (ctest -R);
#                      names are <program>.<case>
#   --label LABEL      run the tests with this ctest label (ctest -L);
#                      default when no --regex is given: concurrency
#   --jobs J           ctest -j J inside each run (default: 1). More jobs than
#                      cores oversubscribes the machine, which widens race
#                      windows (and makes timing-sensitive tests slower).
#   --stop-on-failure  stop after the first failing run
#
# Each run is one `ctest --test-dir DIR ... --output-on-failure` with
# SWARM_TEST_SEED set to a new random value (tests print `seed=<n>` and read
# SWARM_TEST_SEED, see tests/test.h). The output of failing runs is shown
# and kept in DIR/stress-logs/. At the end every failure is listed as
# "<test> seed=<n>" with the command that replays it, then
# "stress: N passed, M failed" (counting test executions). Exit status: 0 if
# nothing failed, 1 if a test failed, 2 on a usage or setup error.
set -uo pipefail

usage() {
    sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/dev
count=20
regex=""
label=""
jobs=1
stop_on_failure=0
while (($#)); do
    case "$1" in
    --build) build=${2:?--build needs a directory}; shift ;;
    --build=*) build=${1#*=} ;;
    --count) count=${2:?--count needs a number}; shift ;;
    --count=*) count=${1#*=} ;;
    --regex) regex=${2:?--regex needs a regex}; shift ;;
    --regex=*) regex=${1#*=} ;;
    --label) label=${2:?--label needs a label}; shift ;;
    --label=*) label=${1#*=} ;;
    --jobs | -j) jobs=${2:?--jobs needs a number}; shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --stop-on-failure) stop_on_failure=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "stress.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count < 1)); then
    echo "stress.sh: --count must be a positive integer" >&2
    exit 2
fi
if ! [[ "$jobs" =~ ^[0-9]+$ ]] || ((jobs < 1)); then
    echo "stress.sh: --jobs must be a positive integer" >&2
    exit 2
fi
if [[ -n "$regex" && -n "$label" ]]; then
    echo "stress.sh: give --regex or --label, not both" >&2
    exit 2
fi
if [[ -z "$regex" && -z "$label" ]]; then
    label=concurrency
fi
if ! command -v ctest >/dev/null 2>&1; then
    echo "stress.sh: ctest not found" >&2
    exit 2
fi
if [[ ! -f "$build/CTestTestfile.cmake" ]]; then
    echo "stress.sh: $build is not a configured build tree (no CTestTestfile.cmake);" \
        "configure and build it first, e.g. cmake --preset dev && cmake --build --preset dev" >&2
    exit 2
fi

if [[ -n "$regex" ]]; then
    select_args=(-R "$regex")
    selection="tests matching /$regex/"
else
    select_args=(-L "$label")
    selection="tests labelled '$label'"
fi

logdir="$build/stress-logs"
mkdir -p "$logdir" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarm-stress.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
interrupted=0
trap 'interrupted=1' INT TERM

# A fresh non-zero 64-bit seed (decimal; tests parse it with strtoull).
new_seed() {
    local s=0
    while [[ "$s" == 0 ]]; do
        s=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
    done
    echo "$s"
}

passed=0
failed=0
infra=0
notests=0
failures=()   # "test|seed|run|status"

echo "stress: $count runs of the $selection in $build (ctest -j$jobs)"
for ((run = 1; run <= count; run++)); do
    ((interrupted)) && break
    seed=$(new_seed)
    out="$tmp/run.log"
    SWARM_TEST_SEED=$seed ctest --test-dir "$build" "${select_args[@]}" \
        --output-on-failure --no-tests=error -j "$jobs" >"$out" 2>&1
    rc=$?
    ((interrupted)) && break

    # "97% tests passed, 1 tests failed out of 31"
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1)
    if [[ -z "$summary" ]]; then
        infra=$((infra + 1))
        echo "run $run/$count seed=$seed: ctest gave no result (exit $rc):"
        sed 's/^/    /' "$out" | tail -20
        cp "$out" "$logdir/run$run-seed$seed.log"
        if grep -q 'No tests were found' "$out"; then
            echo "stress.sh: no $selection in $build" >&2
            notests=1
            break
        fi
        ((stop_on_failure)) && break
        continue
    fi
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
    ntotal=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$summary")
    passed=$((passed + ntotal - nfail))
    failed=$((failed + nfail))
    if ((nfail == 0)); then
        echo "run $run/$count seed=$seed: $ntotal passed"
        continue
    fi

    # The list after "The following tests FAILED:", lines like
    #   "	 12 - mailbox.mpsc_order (Failed)"
    mapfile -t bad < <(sed -n '/^The following tests FAILED:/,$p' "$out" |
        sed -nE 's/^[[:space:]]*[0-9]+ - ([^ ]+) \((.*)\)[[:space:]]*$/\1|\2/p')
    names=""
    for b in "${bad[@]}"; do
        failures+=("${b%%|*}|$seed|$run|${b#*|}")
        names+=" ${b%%|*}"
    done
    log="$logdir/run$run-seed$seed.log"
    cp "$out" "$log"
    echo "run $run/$count seed=$seed: $nfail of $ntotal FAILED:$names (log: $log)"
    # Each failing test's own output (ctest --output-on-failure prints it
    # after the test's result line), at most 40 lines per test.
    for b in "${bad[@]}"; do
        awk -v name="${b%%|*}" '
            /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / { show = (index($0, " " name " ") > 0); n = 0 }
            /^ *Start +[0-9]+: / || /^[0-9]+% tests passed/ { show = 0 }
            show && n++ < 41 { print "    | " $0 }' "$out"
    done
    ((stop_on_failure)) && break
done

if ((interrupted)); then
    echo "stress: interrupted after $((run - 1)) complete runs"
fi
if ((${#failures[@]})); then
    echo
    echo "Failures (replay one with the command shown):"
    for f in "${failures[@]}"; do
        IFS='|' read -r name seed r status <<<"$f"
        printf '  %s seed=%s (run %s, %s)\n' "$name" "$seed" "$r" "$status"
        # Escape the dots of <program>.<case> for ctest's regex.
        printf "      SWARM_TEST_SEED=%s ctest --test-dir %s -R '^%s\$' --output-on-failure\n" \
            "$seed" "$build" "${name//./\\.}"
    done
fi
if ((infra)); then
    echo "stress: $infra runs produced no ctest result (see $logdir)"
fi
echo "stress: $passed passed, $failed failed"
((notests)) && exit 2
if ((failed > 0 || infra > 0)); then
    exit 1
fi
((interrupted)) && exit 130
exit 0
