#!/usr/bin/env bash
# models/check.sh - model-check SwarmRT's concurrency protocols with Spin.
#
#   models/check.sh [--keep] [FILTER]
#
# Each entry of CHECKS below is one model run (a model file plus optional
# -D settings):
#   clean  - the protocol as implemented: Spin must explore the whole state
#            space and report "errors: 0"; no statement of the model may be
#            unreachable (a dead branch would make the check vacuous).
#   caught - a seeded-bug copy (models/bugs/): Spin must report errors >= 1,
#            and its first error must match the expected violation, so the
#            check demonstrably can fail.
# FILTER (an extended regex) keeps only the entries whose name matches.
# --keep leaves the temporary directory (pan output, trails) in place and
# prints its path; replay a trail there with: spin -t -p models/<file>
#
# Needs spin (Debian package `spin`) and gcc. Prints one line per entry and
# ends with "models: N passed, M failed"; exits non-zero on any failure.
# Runs in a temporary directory, removed at exit.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keep=0
filter=""
while (($#)); do
    case "$1" in
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "check.sh: unknown option $1" >&2
        exit 2
        ;;
    *) filter=$1 ;;
    esac
    shift
done

for tool in spin gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check.sh: '$tool' not found (apt-get install spin gcc)" >&2
        echo "models: 0 passed, 1 failed"
        exit 1
    fi
done

# Verifier settings. -DSAFETY: safety properties only (assertions and
# invalid end states; the lost wake-up properties are assertions evaluated at
# `timeout`, i.e. when nothing can move any more). -DCOLLAPSE: lossless
# state compression. MAXDEPTH is far beyond the deepest model (~250 steps);
# a truncated search is reported as a failure for clean models.
PAN_CFLAGS="-O1 -w -DSAFETY -DCOLLAPSE -DMEMLIM=8192"   # -O1: as fast as -O2 here, compiles 2x faster
MAXDEPTH=100000
RUN_TIMEOUT=300

# name | file (under models/) | clean or caught | spin -D flags | expected first error (ERE)
LOST_P='assertion violated +!\(\(\(\(\(pdone=='                 # A1: lost wake-up of P
ASLEEP='assertion violated +!\(\(\(work>0\)&&'                  # work queued, a scheduler asleep
HOOK_LOST='assertion violated +!\(\(\(\(\(wdone=='             # H1: a parked waiter never woken
IO_LOST='assertion violated +!\(\(wdone&& !\(left\)\)\)'          # W1: the epoll sleeper never woken
CHECKS=(
    "proc_park|proc_park.pml|clean||"
    "proc_park[MARK_ONLY]|proc_park.pml|clean|-DMARK_ONLY|"
    "proc_park[SWEEPER]|proc_park.pml|clean|-DMARK_ONLY -DSWEEPER|"
    "park_hook|park_hook.pml|clean||"
    "park_hook[NW=3]|park_hook.pml|clean|-DNW=3|"
    "sched_idle|sched_idle.pml|clean||"
    "sched_idle[DROP_FIRST]|sched_idle.pml|clean|-DDROP_FIRST|"
    "sched_idle[FOREVER=0]|sched_idle.pml|clean|-DFOREVER=0|"
    "sched_idle[NSUB=2]|sched_idle.pml|clean|-DNSUB=2|"
    "sched_idle[NSUBMITTERS=1]|sched_idle.pml|clean|-DNSUBMITTERS=1|"
    "sched_idle[NSCHED=3]|sched_idle.pml|clean|-DNSCHED=3|"
    "io_sleeper|io_sleeper.pml|clean||"
    "io_sleeper[NBUSY=2]|io_sleeper.pml|clean|-DNBUSY=2|"
    "io_sleeper[SPURIOUS]|io_sleeper.pml|clean|-DSPURIOUS|"
    "bugs/io_sleeper_checks_first|bugs/io_sleeper_checks_first.pml|caught||$IO_LOST"
    "bugs/io_waker_looks_first|bugs/io_waker_looks_first.pml|caught||$IO_LOST"
    "bugs/park_publish_before_switch|bugs/park_publish_before_switch.pml|caught||assertion violated \(oncpu==0\)"
    "bugs/park_producer_peeks_mark|bugs/park_producer_peeks_mark.pml|caught||$LOST_P"
    "bugs/park_wake_ignores_running|bugs/park_wake_ignores_running.pml|caught||$LOST_P"
    "bugs/park_commit_ignores_wake_pending|bugs/park_commit_ignores_wake_pending.pml|caught||$LOST_P"
    "bugs/park_mark_without_cas|bugs/park_mark_without_cas.pml|caught||$LOST_P|assertion violated \(moved\|\|\(inwin>0\)\)|assertion violated \(exited\)"
    "bugs/park_wake_store_not_cas|bugs/park_wake_store_not_cas.pml|caught||assertion violated \((runq==0|oncpu==0|state==4)\)"
    "bugs/park_remark_fails|bugs/park_remark_fails.pml|caught||assertion violated \(moved\|\|\(inwin>0\)\)"
    "bugs/park_sweeper_store_mark|bugs/park_sweeper_store_mark.pml|caught||$LOST_P"
    "bugs/park_mo_direct_wake|bugs/park_mo_direct_wake.pml|caught||assertion violated \((s==3|runq==0|oncpu==0)\)"
    "bugs/park_mo_waiting_after_mark|bugs/park_mo_waiting_after_mark.pml|caught||assertion violated \((s==3|state==4)\)"
    "bugs/park_mo_publish_before_switch|bugs/park_mo_publish_before_switch.pml|caught||assertion violated \(oncpu==0\)"
    "bugs/park_hook_commit_before_switch|bugs/park_hook_commit_before_switch.pml|caught||assertion violated \(oncpu==0\)"
    "bugs/park_hook_waiting_after_commit|bugs/park_hook_waiting_after_commit.pml|caught||assertion violated \(s==3\)"
    "bugs/park_hook_waker_skips_lock|bugs/park_hook_waker_skips_lock.pml|caught||$HOOK_LOST"
    "bugs/sched_check_before_announce|bugs/sched_check_before_announce.pml|caught||$ASLEEP"
    "bugs/sched_drop_spinning_after_recheck|bugs/sched_drop_spinning_after_recheck.pml|caught||$ASLEEP"
    "bugs/sched_last_spinner_no_wake|bugs/sched_last_spinner_no_wake.pml|caught||$ASLEEP"
    "bugs/sched_no_respin|bugs/sched_no_respin.pml|caught||$ASLEEP"
    "bugs/sched_wakep_keeps_token|bugs/sched_wakep_keeps_token.pml|caught||$ASLEEP|assertion violated \(nspinning==0\)"
    "bugs/sched_undo_after_unlock|bugs/sched_undo_after_unlock.pml|caught||$ASLEEP"
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarm-models.XXXXXX") || exit 1
if ((keep)); then
    trap 'echo "check.sh: kept $tmp"' EXIT
else
    trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT TERM

# Private copy of the models: bug models #include "../<model>.pml", and
# spin writes pan.* and trails next to where it runs.
mkdir -p "$tmp/models/bugs"
cp "$here"/*.pml "$tmp/models/"
cp "$here"/bugs/*.pml "$tmp/models/bugs/"

# Every bug model on disk must be listed, or it would silently never run.
listed=$(printf '%s\n' "${CHECKS[@]}" | cut -d'|' -f2)
unlisted=0
for f in "$here"/bugs/*.pml "$here"/*.pml; do
    rel=${f#"$here"/}
    if ! grep -qxF "$rel" <<<"$listed"; then
        echo "FAIL $rel: not listed in models/check.sh"
        unlisted=$((unlisted + 1))
    fi
done

passed=0
failed=$unlisted
n=0
for entry in "${CHECKS[@]}"; do
    IFS='|' read -r name file expect defs want <<<"$entry"
    # `want` may itself contain '|' (alternatives): take the rest of the line.
    want=$(cut -d'|' -f5- <<<"$entry")
    if [[ -n "$filter" ]] && ! [[ "$name" =~ $filter ]]; then
        continue
    fi
    n=$((n + 1))
    run="$tmp/run$n"
    mkdir -p "$run"
    cp -r "$tmp/models" "$run/"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086  # defs is a list of -D flags
    if ! (cd "$run" && spin -a $defs "models/$file") >"$run/spin.log" 2>&1; then
        echo "FAIL $name: spin -a failed"
        sed 's/^/    /' "$run/spin.log" | head -20
        failed=$((failed + 1))
        continue
    fi
    # shellcheck disable=SC2086
    if ! (cd "$run" && gcc $PAN_CFLAGS -o pan pan.c) >"$run/gcc.log" 2>&1; then
        echo "FAIL $name: gcc pan.c failed"
        sed 's/^/    /' "$run/gcc.log" | head -20
        failed=$((failed + 1))
        continue
    fi
    (cd "$run" && timeout "$RUN_TIMEOUT" ./pan -m"$MAXDEPTH") >"$run/pan.out" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    out="$run/pan.out"
    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$out" | tail -1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" | tail -1)
    depth=$(sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$out" | tail -1)
    first=$(grep -m1 -E '^pan:[0-9]+: ' "$out" | sed -E 's/^pan:[0-9]+: //')
    # Statements never reached, except the implicit end of a process.
    dead=$(awk '/^unreached in/ { u = 1; next } u && /, state [0-9]+, "/ && !/"-end-"/' "$out")
    stats="${states:-?} states, depth ${depth:-?}, ${secs}s"
    why=""
    if ((rc == 124)); then
        why="pan timed out after ${RUN_TIMEOUT}s"
    elif [[ -z "$errors" ]]; then
        why="no verdict from pan (exit $rc)"
    elif [[ "$expect" == clean ]]; then
        if ((errors != 0)); then
            why="errors: $errors ($first)"
        elif grep -qE 'max search depth too small|Search not completed|out of memory|memory limit' "$out"; then
            why="search incomplete: $(grep -m1 -E 'max search depth too small|Search not completed|out of memory|memory limit' "$out")"
        elif [[ -n "$dead" ]]; then
            why="unreachable statements (vacuous check?):"$'\n'"$dead"
        fi
    else
        if ((errors < 1)); then
            why="seeded bug NOT caught (errors: 0)"
        elif ! grep -qE "$want" <<<"$first"; then
            why="caught, but not the expected violation: got '$first', want /$want/"
        fi
    fi
    if [[ -z "$why" ]]; then
        passed=$((passed + 1))
        if [[ "$expect" == clean ]]; then
            printf 'PASS %-42s errors: 0, %s\n' "$name" "$stats"
        else
            printf 'PASS %-42s caught: %s; %s\n' "$name" "$first" "$stats"
        fi
    else
        failed=$((failed + 1))
        printf 'FAIL %-42s %s\n' "$name" "$why"
        sed -n '/^pan:/p; /errors:/p' "$out" | head -5 | sed 's/^/    /'
    fi
done

if ((n == 0)); then
    echo "check.sh: no entry matches '$filter'" >&2
    failed=$((failed + 1))
fi
echo "models: $passed passed, $failed failed"
((failed == 0))
