#!/usr/bin/env bash
# scripts/soak.sh - run the SwarmRT soak (tests/soak.c) for a chosen time.
# Not part of CI.
#
#   scripts/soak.sh [--build DIR] [--minutes M | --seconds S] [SOAK OPTIONS...]
#
#   --build DIR   build tree (default: build/release of this checkout; a
#                 missing build/<preset> is configured with cmake --preset)
#   --minutes M   duration (default: 10)
#   everything else goes to the soak binary: --seconds S, --schedulers N,
#   --seed N (replay a workload mix), --sample-ms MS, --warmup-s S,
#   --max-live N, --no-overflow, --csv FILE (samples as CSV)
#
# The soak runs a mixed workload (messages, spawns, crashes by NULL
# dereference and by stack overflow, exits, sleeps, receive timeouts),
# samples RSS, mappings, open fds and swarm_stats() every few seconds and
# fails if any of them keeps growing after the warm-up, if progress stops,
# if the message accounting does not balance, or if swarm_destroy leaves
# an fd or a mapping more than there was before swarm_create (counted after
# a warm-up create/destroy cycle, which creates glibc's malloc arenas:
# docs/design/runtime.md); tests/soak.c states the exact rule. Output is also saved in DIR/soak-logs/. A soak that outlives
# its duration by 5 minutes is killed with SIGABRT (core dump if enabled)
# and reported as hung.
# Exit status: that of the soak (0 pass, 1 fail, 2 setup error), 124 if
# hung, 128+N if it died of signal N.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/release
seconds=""
args=()
while (($#)); do
    case "$1" in
    --build) build=${2:?--build needs a directory}; shift ;;
    --build=*) build=${1#*=} ;;
    --minutes)
        seconds=$(awk -v m="${2:?--minutes needs a number}" 'BEGIN { if (m + 0 <= 0) exit 1; printf "%.0f", m * 60 }') ||
            { echo "soak.sh: bad --minutes" >&2; exit 2; }
        shift
        ;;
    --minutes=*)
        seconds=$(awk -v m="${1#*=}" 'BEGIN { if (m + 0 <= 0) exit 1; printf "%.0f", m * 60 }') ||
            { echo "soak.sh: bad --minutes" >&2; exit 2; }
        ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --seconds=*) seconds=${1#*=} ;;
    -h | --help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1") ;;
    esac
    shift
done
seconds=${seconds:-600}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "soak.sh: the duration must be a whole number of seconds >= 1" >&2
    exit 2
fi

# Configure (presets only) and build the soak target.
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    preset=$(basename "$build")
    if [[ "$(cd "$(dirname "$build")" 2>/dev/null && pwd)" == "$root/build" ]] &&
        grep -q "\"name\": \"$preset\"" "$root/CMakePresets.json" 2>/dev/null; then
        echo "soak.sh: configuring $build (cmake --preset $preset)"
        (cd "$root" && cmake --preset "$preset" >/dev/null) || exit 2
    else
        echo "soak.sh: $build is not a configured build tree" >&2
        exit 2
    fi
fi
if ! cmake --build "$build" --target soak >"$build/soak-build.log" 2>&1; then
    echo "soak.sh: building the 'soak' target failed (see $build/soak-build.log):" >&2
    tail -20 "$build/soak-build.log" >&2
    exit 2
fi
bin=""
for c in "$build/tests/soak" "$build/soak"; do
    [[ -x "$c" ]] && bin=$c && break
done
if [[ -z "$bin" ]]; then
    bin=$(find "$build" -type f -name soak -perm -u+x 2>/dev/null | head -1)
fi
if [[ -z "$bin" ]]; then
    echo "soak.sh: no soak binary under $build after building" >&2
    exit 2
fi

mkdir -p "$build/soak-logs" || exit 2
log="$build/soak-logs/soak-$(date +%Y%m%d-%H%M%S).log"
echo "soak.sh: $bin --seconds $seconds ${args[*]} (log: $log)"
timeout --signal=ABRT --kill-after=30 $((seconds + 300)) \
    "$bin" --seconds "$seconds" "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if ((rc == 124)); then
    echo "soak.sh: HUNG: the soak did not finish within its duration + 300 s (log: $log)"
elif ((rc > 128)); then
    echo "soak.sh: the soak died of signal $((rc - 128)) (log: $log)"
else
    echo "soak.sh: exit $rc (log: $log)"
fi
exit "$rc"
