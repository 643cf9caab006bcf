#!/usr/bin/env bash
# The whole test run, as CI runs it (`make test`):
#   1. dev build (Debug, -Werror) and every test case
#   2. ASan+UBSan build and every test case
#   3. TSan build (fiber-annotated) and every test case
#   4. the Spin models of the park/wake and mailbox protocols (incl. seeded bugs)
#   5. a short stress rerun of the concurrency cases with fresh seeds
#   6. the benchmark harness in quick mode: a smoke test that every runtime
#      builds and all checksums agree (no timing is asserted)
# Ends with one line: "test: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
jobs=${SWARM_JOBS:-2}

note() { printf '\n==== %s\n' "$*"; }

# Run ctest for a preset and add its counts.
run_suite() {
    local preset=$1 log
    log=$(mktemp)
    note "build + ctest: $preset"
    if ! { cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j"$jobs"; } >"$log" 2>&1; then
        tail -50 "$log"
        failed=$((failed + 1))
        failures+=("build:$preset")
        rm -f "$log"
        return
    fi
    ctest --preset "$preset" 2>&1 | tee "$log" | grep -E '\*\*\*|tests passed|The following' || true
    local line total nfail
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
    if [[ -z "$line" ]]; then
        failed=$((failed + 1))
        failures+=("ctest:$preset(no summary)")
    else
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
        passed=$((passed + total - nfail))
        failed=$((failed + nfail))
        ((nfail == 0)) || failures+=("ctest:$preset($nfail)")
    fi
    rm -f "$log"
}

# Run a command whose last line is "<word>: N passed, M failed".
run_counted() {
    local name=$1 log line p f
    shift
    log=$(mktemp)
    note "$name"
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [[ -n "$line" ]]; then
        p=$(sed -E 's/.*\b([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
        f=$(sed -E 's/.*\b([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
        passed=$((passed + p))
        failed=$((failed + f))
    fi
    if ((rc != 0)); then
        [[ -n "$line" && $f -gt 0 ]] || failed=$((failed + 1))
        failures+=("$name")
    fi
    rm -f "$log"
}

run_suite dev
run_suite asan
run_suite tsan
run_counted models ./models/check.sh
run_counted stress ./scripts/stress.sh --build build/dev --count "${SWARM_STRESS_COUNT:-3}"
run_counted bench-smoke python3 bench/run.py --quick

note "summary"
if ((${#failures[@]})); then
    printf 'failed parts: %s\n' "${failures[*]}"
fi
echo "test: $passed passed, $failed failed"
((failed == 0))
