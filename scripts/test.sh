#!/usr/bin/env bash
# The whole test run, as CI runs it (`make test`):
#   1. dev build (Debug, -Werror) and every test case
#   2. ASan+UBSan build and every test case
#   3. TSan build (fiber-annotated) and every test case
#   4. the Spin models of the park/wake and mailbox protocols (incl. seeded bugs)
#   5. a short stress rerun of the concurrency cases with fresh seeds
#   6. the benchmark harness in quick mode: a smoke test that every runtime
#      builds and all checksums agree (no timing is asserted)
#   7. the I/O benchmarks (bench/io/run_io.py --smoke, ~30 s): every server
#      builds and answers byte for byte as specified (no timing is asserted)
# Each part prints its wall time when it ends, and the summary lists them.
# Ends with one line: "test: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
jobs=${SWARM_JOBS:-2}

times=()

note() { printf '\n==== %s\n' "$*"; }

# Wall time of each part: start_part NAME ... end_part [DETAIL].
mmss() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }
part="" part_t0=0
start_part() {
    part=$1
    part_t0=$SECONDS
}
end_part() {
    local line
    line=$(printf '%-12s %s%s' "$part" "$(mmss $((SECONDS - part_t0)))" "${1:+ ($1)}")
    printf '==== time: %s\n' "$line"
    times+=("$line")
}

# Run ctest for a preset and add its counts.
run_suite() {
    local preset=$1 log t=$SECONDS
    log=$(mktemp)
    note "build + ctest: $preset"
    build_s=0 ctest_s=0
    if ! { cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j"$jobs"; } >"$log" 2>&1; then
        build_s=$((SECONDS - t))
        tail -50 "$log"
        failed=$((failed + 1))
        failures+=("build:$preset")
        rm -f "$log"
        return
    fi
    build_s=$((SECONDS - t))
    t=$SECONDS
    ctest --preset "$preset" 2>&1 | tee "$log" | grep -E '\*\*\*|tests passed|The following' || true
    ctest_s=$((SECONDS - t))
    echo "slowest cases ($preset):"
    sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 \1/p' "$log" |
        sort -rn | head -5 | awk '{ printf "  %8.1f s  %s\n", $1, $2 }'
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

for preset in dev asan tsan; do
    start_part "$preset"
    run_suite "$preset"
    end_part "build $(mmss "$build_s"), ctest $(mmss "$ctest_s")"
done
start_part models
run_counted models ./models/check.sh
end_part
start_part stress
run_counted stress ./scripts/stress.sh --build build/dev --count "${SWARM_STRESS_COUNT:-3}"
end_part
start_part bench-smoke
run_counted bench-smoke python3 bench/run.py --quick
end_part
start_part io-bench
run_counted io-bench-smoke python3 bench/io/run_io.py --smoke
end_part

note "summary"
printf '%s\n' "${times[@]}"
printf '%-12s %s\n' total "$(mmss "$SECONDS")"
if ((${#failures[@]})); then
    printf 'failed parts: %s\n' "${failures[*]}"
fi
echo "test: $passed passed, $failed failed"
((failed == 0))
