#!/usr/bin/env python3
"""bench/run.py - build and run the SwarmRT benchmark suite and its peers.

One command builds everything and runs every workload of bench/WORKLOADS.md
(the contract) on SwarmRT, Erlang/OTP, Go and CAF, at 1 and 2 schedulers:

    python3 bench/run.py --quick        # CI smoke test of the harness (< 2 min)
    python3 bench/run.py --full         # the real numbers, writes docs/benchmarks.md

Options: --only pingpong,ring   --runtimes swarm,go   --no-report / --report
         --skip-missing (a runtime whose toolchain or build is missing is
         skipped instead of being an error)   --runs N   --warmup N

Method: every run is pinned with taskset (-c 0 for 1 scheduler, -c 0,1 for 2).
Erlang runs with its defaults apart from +S N:N and +P 4000000 (issue 12).
For each workload and scheduler count the runtimes take turns, round-robin:
the first round is the warm-up, then the counted rounds. Reported per runtime:
the median of the program's own wall_ns (workload only, start-up excluded),
ns/op = that median / the spec's ops, the median CPU time user+sys of the
whole OS process from wait4() (so it includes runtime start-up: the BEAM's
boot is ~0.1-0.2 s), and the median peak RSS (ru_maxrss, taken through GNU
time, /usr/bin/time from Debian's "time" package, because a child of this
Python process inherits the runner's RSS as its high-water mark; without
GNU time the RSS column includes that baseline and says so). The program's own
cpu_ns is kept in results.json as a cross-check. ratio = peer wall / SwarmRT
wall: above 1 means SwarmRT is faster.

Every checksum must equal the value WORKLOADS.md specifies (hence they all
agree); otherwise the row is FAILED and the exit status is 1. Exit status 2
means a setup error (missing toolchain, failed build). Only Python's
standard library is used; the chart needs gnuplot (Debian: gnuplot-nox).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE_DIR = ROOT / "build" / "release"
OUT_DIR = ROOT / "build" / "bench"
ERLANG_OUT = OUT_DIR / "erlang"
GO_BIN = OUT_DIR / "go" / "swarm_peer_go"
REPORT_MD = ROOT / "docs" / "benchmarks.md"
CHART_PNG = ROOT / "docs" / "img" / "bench.png"
RESULTS_JSON = OUT_DIR / "results.json"

RUNTIMES = ["swarm", "erlang", "go", "caf"]
PEERS = ["erlang", "go", "caf"]
SCHEDULERS = [1, 2]
QUICK_SUBSET = ["pingpong", "counting", "ring", "spawn", "spawn_batched", "skynet",
                "fib", "primes", "timer_churn", "parked", "hibernated", "bursts", "gs_call"]
# Per-process memory figures a workload may print; their medians are kept.
MEMORY_FIELDS = ["bytes_per_proc", "burst_bytes_per_proc", "parked_bytes_per_proc"]
# The third size, "huge", run in --full mode after the others: 10M
# hibernating processes (SwarmRT and Erlang; 10M plainly parked ones need
# more memory than this machine kind has, in every runtime).
HUGE = {"hibernated": {"P": 10_000_000}}
# Workloads a runtime does not implement (WORKLOADS.md: "CAF: skip").
NOT_APPLICABLE = {("caf", "yield"), ("caf", "gs_call"), ("go", "link_chain"), ("caf", "link_chain"),
                  ("go", "sup_restart"), ("caf", "sup_restart"),
                  ("erlang", "mailbox_bounded"), ("caf", "mailbox_bounded"),
                  ("go", "hibernated"), ("caf", "hibernated")}  # no hibernation
# Channels and the mutex (issue 11): Erlang and CAF have neither.
NOT_APPLICABLE |= {(rt, w) for rt in ("erlang", "caf")
                   for w in ("chan_pingpong", "chan_buffered", "chan_pipeline",
                             "chan_select", "mutex_contended")}
# Environment variables that would change how a peer runs; removed for runs.
SCRUBBED_ENV = ["ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "GOGC", "GODEBUG",
                "GOMAXPROCS", "GOMEMLIMIT"]


def _fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _skynet_procs(leaves):
    total = 0
    while leaves >= 1:
        total += leaves
        leaves //= 10
    return total


# The specification, transcribed from bench/WORKLOADS.md: per workload the
# quick and full parameters, and functions for the expected checksum and ops.
WORKLOADS = {
    "pingpong": ({"N": 100_000}, {"N": 1_000_000},
                 lambda p: p["N"], lambda p: p["N"]),
    "yield": ({"N": 200_000}, {"N": 2_000_000},
              lambda p: 2 * p["N"], lambda p: 2 * p["N"]),
    "counting": ({"N": 1_000_000}, {"N": 10_000_000},
                 lambda p: p["N"] * (p["N"] + 1) // 2, lambda p: p["N"]),
    "mailbox": ({"S": 10, "M": 100_000}, {"S": 100, "M": 100_000},
                lambda p: p["S"] * p["M"] * (p["M"] + 1) // 2,
                lambda p: p["S"] * p["M"]),
    "mailbox_bounded": ({"S": 10, "M": 100_000}, {"S": 100, "M": 100_000},
                        lambda p: p["S"] * p["M"] * (p["M"] + 1) // 2,
                        lambda p: p["S"] * p["M"]),
    "chan_pingpong": ({"N": 300_000}, {"N": 3_000_000},
                      lambda p: p["N"], lambda p: p["N"]),
    "chan_buffered": ({"N": 300_000}, {"N": 3_000_000},
                      lambda p: p["N"], lambda p: p["N"]),
    "chan_pipeline": ({"P": 4, "M": 500_000}, {"P": 4, "M": 5_000_000},
                      lambda p: p["P"] * p["M"] * (p["P"] * p["M"] + 1) // 2,
                      lambda p: p["P"] * p["M"]),
    "chan_select": ({"S": 4, "M": 100_000}, {"S": 4, "M": 1_000_000},
                    lambda p: p["S"] * p["M"] * (p["S"] * p["M"] + 1) // 2,
                    lambda p: p["S"] * p["M"]),
    "mutex_contended": ({"P": 4, "N": 1_000_000}, {"P": 4, "N": 10_000_000},
                        lambda p: p["N"], lambda p: p["N"]),
    "ring": ({"H": 1_000_000}, {"H": 10_000_000},
             lambda p: (p["H"] + 1) % 503, lambda p: p["H"]),
    "spawn": ({"N": 100_000}, {"N": 1_000_000},
              lambda p: p["N"] * (p["N"] - 1) // 2, lambda p: p["N"]),
    "spawn_batched": ({"N": 100_000}, {"N": 1_000_000},
                      lambda p: p["N"] * (p["N"] - 1) // 2, lambda p: p["N"]),
    "skynet": ({"leaves": 100_000}, {"leaves": 1_000_000},
               lambda p: p["leaves"] * (p["leaves"] - 1) // 2,
               lambda p: _skynet_procs(p["leaves"])),
    "big": ({"W": 200, "N": 1_000}, {"W": 1_000, "N": 5_000},
            lambda p: p["W"] * p["N"], lambda p: 2 * p["W"] * p["N"]),
    "fib": ({"n": 20}, {"n": 27},
            lambda p: _fib(p["n"]), lambda p: 2 * _fib(p["n"] + 1) - 1),
    "primes": ({"L": 2_000_000}, {"L": 20_000_000},
               lambda p: {2_000_000: 148_933, 20_000_000: 1_270_607}[p["L"]],
               lambda p: p["L"]),
    "sleepers": ({"P": 1_000, "K": 20}, {"P": 10_000, "K": 50},
                 lambda p: p["P"] * p["K"], lambda p: p["P"] * p["K"]),
    "timer_churn": ({"N": 100_000}, {"N": 1_000_000},
                    lambda p: p["N"], lambda p: p["N"]),
    "parked": ({"P": 100_000}, {"P": 1_000_000},
               lambda p: p["P"], lambda p: p["P"]),
    "hibernated": ({"P": 100_000}, {"P": 1_000_000},
                   lambda p: p["P"], lambda p: p["P"]),
    "bursts": ({"P": 10_000}, {"P": 100_000},
               lambda p: p["P"] * 3 * 1_044_480, lambda p: p["P"] * 3),
    "gs_call": ({"N": 100_000, "Q": 10_000}, {"N": 1_000_000, "Q": 10_000},
                lambda p: p["N"] * (p["N"] + 1) // 2, lambda p: p["N"]),
    "link_chain": ({"N": 100_000}, {"N": 1_000_000}, lambda p: p["N"], lambda p: p["N"]),
    "sup_restart": ({"N": 10_000}, {"N": 100_000}, lambda p: p["N"], lambda p: p["N"]),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


# ----------------------------------------------------------------- building

def run_build_step(cmd, cwd=ROOT, env=None):
    """Run a build command, echoing it; returns (ok, combined output)."""
    log("+ " + " ".join(str(c) for c in cmd))
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        log(tail)
    return proc.returncode == 0, proc.stdout


def cmake_targets():
    ok, out = run_build_step(["cmake", "--build", RELEASE_DIR, "--target", "help"])
    if not ok:
        return set()
    names = set()
    for line in out.splitlines():
        m = re.match(r"^(?:\.\.\. )?([A-Za-z0-9_.+-]+)(?::|$| )", line.strip())
        if m:
            names.add(m.group(1))
    return names


def find_built(name):
    """The path of an executable built by CMake in build/release, or None."""
    direct = RELEASE_DIR / "bench" / name
    if direct.is_file() and os.access(direct, os.X_OK):
        return direct
    for path in RELEASE_DIR.rglob(name):
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def build(runtimes):
    """Build what the selected runtimes need. Returns {runtime: problem or
    None} and the raw_switch path (or None)."""
    problems = {rt: None for rt in runtimes}
    raw_switch = None
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    if "swarm" in runtimes or "caf" in runtimes:
        if not shutil.which("cmake"):
            for rt in ("swarm", "caf"):
                if rt in problems:
                    problems[rt] = "cmake not found"
        else:
            ok, _ = run_build_step(["cmake", "--preset", "release"])
            targets = cmake_targets() if ok else set()
            wanted = []
            if "swarm" in runtimes:
                wanted.append("swarm_bench")
            if "caf" in runtimes:
                if "caf_bench" in targets:
                    wanted.append("caf_bench")
                else:
                    problems["caf"] = ("no caf_bench target (bench/peers/caf/caf_bench.cpp "
                                       "missing or CAF/libcaf-dev not found)")
            if "raw_switch" in targets:
                wanted.append("raw_switch")
            if not ok:
                for rt in ("swarm", "caf"):
                    if rt in problems and problems[rt] is None:
                        problems[rt] = "cmake --preset release failed"
            else:
                # Build the targets one by one, so that one failing does not
                # take the others down with it.
                for target in wanted:
                    tok, _ = run_build_step(["cmake", "--build", "--preset", "release",
                                             "--target", target, "--parallel", "2"])
                    rt = {"swarm_bench": "swarm", "caf_bench": "caf"}.get(target)
                    if not tok and rt:
                        problems[rt] = "build of %s failed" % target
            if "swarm" in runtimes and problems["swarm"] is None and not find_built("swarm_bench"):
                problems["swarm"] = "swarm_bench was not built"
            if "caf" in runtimes and problems["caf"] is None and not find_built("caf_bench"):
                problems["caf"] = "caf_bench was not built"
            raw_switch = find_built("raw_switch")

    if "erlang" in runtimes:
        if not (shutil.which("erl") and shutil.which("erlc")):
            problems["erlang"] = "erl/erlc not found (Debian: erlang-nox)"
        else:
            ERLANG_OUT.mkdir(parents=True, exist_ok=True)
            ok, _ = run_build_step(["erlc", "-Werror", "-o", ERLANG_OUT,
                                    ROOT / "bench" / "peers" / "erlang" / "swarm_peer.erl"])
            if not ok:
                problems["erlang"] = "erlc failed"

    if "go" in runtimes:
        if not shutil.which("go"):
            problems["go"] = "go not found (Debian: golang-go)"
        else:
            GO_BIN.parent.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GO111MODULE="on",
                       CGO_ENABLED="0")
            if "HOME" not in env and "GOCACHE" not in env:
                env["GOCACHE"] = str(OUT_DIR / "go" / "cache")
            ok, _ = run_build_step(["go", "build", "-o", GO_BIN, "."],
                                   cwd=ROOT / "bench" / "peers" / "go", env=env)
            if not ok:
                problems["go"] = "go build failed"
    return problems, raw_switch


# ------------------------------------------------------------------ running

def command(runtime, workload, scheds, size, programs):
    if runtime == "erlang":
        # +S is the workload's parameter and +P the process limit a million
        # processes need (ten million at size huge); nothing else: the VM's
        # defaults (issue 12).
        limit = "16777216" if size == "huge" else "4000000"
        prog = ["erl", "-noshell", "+S", "%d:%d" % (scheds, scheds), "+P", limit,
                "-pa", str(ERLANG_OUT), "-run", "swarm_peer", "main"]
    else:
        prog = [str(programs[runtime])]
    cpus = ",".join(str(c) for c in range(scheds))
    return ["taskset", "-c", cpus] + prog + [workload, str(scheds), size]


# Peak RSS needs an intermediate process. A child forked (or vforked) from
# this Python process starts with the runner's own resident set (~15 MiB),
# and Linux carries that high-water mark across exec into ru_maxrss. GNU
# time forks from a small process and reports its child's ru_maxrss (from
# wait4) exactly. Without it, peak RSS includes the runner's baseline.
TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_process(cmd, timeout, env):
    """Run cmd to completion; returns (status, rusage, elapsed_s, stdout,
    stderr, timed_out, maxrss_kib). The rusage is from wait4(): the child's
    own, plus its reaped children's CPU time. maxrss_kib is the program's
    peak RSS (see TIME_BIN), or None if it could not be measured exactly."""
    with tempfile.NamedTemporaryFile(prefix="swarm-bench-rss-") as rss_file:
        if TIME_BIN:
            cmd = [TIME_BIN, "-o", rss_file.name, "-f", "maxrss_kib=%M"] + list(cmd)
        status, ru, elapsed, out, err, timed_out = _spawn_and_wait(cmd, timeout, env)
        maxrss = None
        if TIME_BIN:
            m = re.search(r"maxrss_kib=(\d+)", Path(rss_file.name).read_text(errors="replace"))
            maxrss = int(m.group(1)) if m else None
    return status, ru, elapsed, out, err, timed_out, maxrss


def _spawn_and_wait(cmd, timeout, env):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        t0 = time.monotonic()
        pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=actions, setpgroup=0)
        waited = []
        waiter = threading.Thread(target=lambda: waited.append(os.wait4(pid, 0)))
        waiter.start()
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        if timed_out:
            try:
                os.killpg(pid, signal.SIGKILL)  # its own process group (setpgroup)
            except ProcessLookupError:
                pass
            waiter.join()
        elapsed = time.monotonic() - t0
        _, status, rusage = waited[0]
        out.seek(0)
        err.seek(0)
        return (status, rusage, elapsed, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), timed_out)


def parse_line(stdout):
    """The result line as a dict, or ('error', text), or None."""
    for line in stdout.splitlines():
        if line.startswith("result "):
            fields = {}
            for tok in line.split()[1:]:
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    fields[k] = v
            return fields
        if line.startswith("error"):
            return ("error", line.strip())
    return None


def one_run(runtime, workload, scheds, size, programs, expected, timeout, env):
    cmd = command(runtime, workload, scheds, size, programs)
    status, ru, elapsed, out, err, timed_out, maxrss = run_process(cmd, timeout, env)
    rec = {"cmd": cmd, "elapsed_s": round(elapsed, 6),
           "rusage_cpu_ns": int((ru.ru_utime + ru.ru_stime) * 1e9),
           "maxrss_kib": maxrss if maxrss is not None else ru.ru_maxrss,
           "maxrss_exact": maxrss is not None,
           "exit": os.waitstatus_to_exitcode(status)}
    parsed = parse_line(out)
    if timed_out:
        rec.update(ok=False, reason="timeout after %ds" % timeout)
    elif isinstance(parsed, tuple):
        if runtime == "caf" and rec["exit"] == 3 and "unsupported" in parsed[1]:
            rec.update(ok=None, reason="not applicable")  # spec allows CAF to skip
        else:
            rec.update(ok=False, reason=parsed[1])
    elif parsed is None or rec["exit"] != 0:
        msg = (err.strip().splitlines() or ["no output"])[-1]
        rec.update(ok=False, reason="exit %s, no result line: %s" % (rec["exit"], msg[:200]))
    else:
        rec["fields"] = parsed
        problems = []
        for key, want in (("workload", workload), ("runtime", runtime),
                          ("schedulers", str(scheds)), ("size", size)):
            if parsed.get(key) != want:
                problems.append("%s=%s (want %s)" % (key, parsed.get(key), want))
        try:
            rec["checksum"] = int(parsed["checksum"])
            rec["wall_ns"] = int(parsed["wall_ns"])
            rec["self_cpu_ns"] = int(parsed["cpu_ns"])
            rec["ops"] = int(parsed.get("ops", "-1"))
        except (KeyError, ValueError) as exc:
            problems.append("malformed result line (%s)" % exc)
        else:
            if rec["checksum"] != expected["checksum"]:
                problems.append("checksum %d != expected %d"
                                % (rec["checksum"], expected["checksum"]))
            if rec["ops"] not in (-1, expected["ops"]):
                rec["warning"] = "ops=%d, spec says %d" % (rec["ops"], expected["ops"])
        rec.update(ok=not problems, reason="; ".join(problems) or None)
    if err.strip():
        rec["stderr_tail"] = err.strip()[-500:]
    return rec


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, ops):
    """Medians over the counted runs of one runtime in one case."""
    wall = median_or_none([r.get("wall_ns") for r in runs])
    summary = {
        "median_wall_ns": wall,
        "ns_per_op": wall / ops if wall is not None and ops else None,
        "median_cpu_ns": median_or_none([r.get("rusage_cpu_ns") for r in runs]),
        "median_self_cpu_ns": median_or_none(
            [r.get("self_cpu_ns") for r in runs if r.get("self_cpu_ns", -1) >= 0]),
        "median_maxrss_kib": median_or_none([r.get("maxrss_kib") for r in runs]),
        "min_wall_ns": min((r["wall_ns"] for r in runs if "wall_ns" in r), default=None),
    }
    for field in MEMORY_FIELDS:
        vals = [int(r["fields"][field]) for r in runs if field in r.get("fields", {})]
        if vals:
            summary[field] = statistics.median(vals)
    return summary


def run_case(workload, size, scheds, runtimes, programs, args, env, progress):
    quick_p, full_p, checksum_fn, ops_fn = WORKLOADS[workload]
    params = HUGE[workload] if size == "huge" else quick_p if size == "quick" else full_p
    expected = {"checksum": checksum_fn(params), "ops": ops_fn(params)}
    active = [rt for rt in runtimes if (rt, workload) not in NOT_APPLICABLE]
    per_rt = {rt: {"warmup": [], "runs": [], "status": "ok", "reasons": []} for rt in runtimes}
    for rt in runtimes:
        if rt not in active:
            per_rt[rt]["status"] = "n/a"
    rounds = args.warmup + args.runs
    for rnd in range(rounds):
        counted = rnd >= args.warmup
        for rt in active:
            entry = per_rt[rt]
            rec = one_run(rt, workload, scheds, size, programs, expected, args.timeout, env)
            (entry["runs"] if counted else entry["warmup"]).append(rec)
            progress["done"] += 1
            tag = "run %d/%d" % (rnd - args.warmup + 1, args.runs) if counted else "warm-up"
            if rec["ok"] is None:
                entry["status"] = "n/a"
                verdict = "n/a"
            elif rec["ok"]:
                verdict = "%.1f ms ok" % (rec["wall_ns"] / 1e6)
            else:
                entry["status"] = "failed"
                entry["reasons"].append(rec["reason"])
                verdict = "FAILED: %s" % rec["reason"]
            log("[%4d/%d] %-11s %-5s s=%d %-6s %-9s %s"
                % (progress["done"], progress["total"], workload, size, scheds, rt, tag, verdict))
        # A runtime that failed (or cannot run this workload) is not run
        # again in this case: a hang would otherwise cost a timeout per round.
        active = [rt for rt in active if per_rt[rt]["status"] == "ok"]
    for rt in runtimes:
        entry = per_rt[rt]
        if entry["status"] != "n/a":
            entry.update(summarize(entry["runs"], expected["ops"]))
    case_ok = all(per_rt[rt]["status"] != "failed" for rt in runtimes)
    swarm_wall = per_rt.get("swarm", {}).get("median_wall_ns")
    ratios = {}
    for rt in runtimes:
        wall = per_rt[rt].get("median_wall_ns")
        if rt != "swarm" and wall and swarm_wall:
            ratios[rt] = wall / swarm_wall
    return {"workload": workload, "size": size, "schedulers": scheds,
            "params": params, "expected": expected,
            "status": "ok" if case_ok else "FAILED", "ratios_vs_swarm": ratios,
            "runtimes": per_rt}


# ------------------------------------------------------------ environment

def capture(cmd, cwd=ROOT):
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def environment():
    """Facts for the report header. Read-only: nothing here changes git state."""
    commit = capture(["git", "rev-parse", "--short", "HEAD"]) or "no-commit"
    dirty = capture(["git", "--no-optional-locks", "status", "--porcelain",
                     "--untracked-files=no"])
    if dirty is None or dirty:
        commit += "-dirty"
    cpu = "unknown"
    ncpu = 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu == "unknown":
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("processor"):
                    ncpu += 1
    except OSError:
        pass
    erl = capture(["erl", "-noshell", "-eval",
                   'io:format("OTP ~s, ERTS ~s, ~s", [erlang:system_info(otp_release), '
                   'erlang:system_info(version), erlang:system_info(emu_flavor)]), halt().'])
    gcc = capture(["gcc", "--version"])
    go = capture(["go", "version"])
    caf = capture(["dpkg-query", "-W", "-f", "${Version}", "libcaf-dev"])
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        load = []
    return {
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": "%s (%d logical CPUs)" % (cpu, ncpu),
        "kernel": os.uname().release,
        "gcc": gcc.splitlines()[0] if gcc else "not found",
        "erlang": (erl + " (emu flavor)") if erl else "not found",
        "go": go or "not found",
        "caf": ("libcaf-dev " + caf) if caf else "not installed",
        "loadavg_at_start": " ".join(load),
        "python": sys.version.split()[0],
    }


# ---------------------------------------------------------------- reporting

def fmt(value, scale=1.0, digits=1):
    if value is None:
        return "-"
    v = value / scale
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    return "{:.{d}f}".format(v, d=digits)


def case_label(case):
    label = case["workload"]
    if case["workload"] == "parked" and case["size"] == "quick" and case.get("mode") == "full":
        label += " (P=100,000)"
    if case["size"] == "huge":
        label += " (P=%s)" % "{:,}".format(case["params"]["P"])
    return label


def text_table(cases, runtimes):
    head = "%-24s %2s " % ("workload", "s") + " ".join("%12s" % (rt + " ms") for rt in runtimes)
    head += "  " + " ".join("%9s" % (rt + "/sw") for rt in runtimes if rt != "swarm") + "  status"
    lines = [head]
    for c in cases:
        cells = []
        for rt in runtimes:
            r = c["runtimes"][rt]
            cells.append("%12s" % ("n/a" if r["status"] == "n/a" else
                                   fmt(r.get("median_wall_ns"), 1e6, 2)))
        ratios = ["%9s" % fmt(c["ratios_vs_swarm"].get(rt), 1, 2)
                  for rt in runtimes if rt != "swarm"]
        lines.append("%-24s %2d " % (case_label(c), c["schedulers"]) + " ".join(cells)
                     + "  " + " ".join(ratios) + "  " + c["status"])
    return "\n".join(lines)


def write_report(env, cases, runtimes, raw_switch_line, missing, args, chart_ok):
    rts = runtimes
    out = []
    out.append("# SwarmRT benchmarks\n")
    out.append("Generated by `python3 bench/run.py %s`; do not edit by hand. "
               "Workloads and checksums: [bench/WORKLOADS.md](../bench/WORKLOADS.md).\n"
               % " ".join(args.argv))
    out.append("| | |\n|---|---|")
    for key, name in (("commit", "Commit"), ("date", "Date"), ("cpu", "CPU"),
                      ("kernel", "Kernel"), ("gcc", "gcc"), ("erlang", "Erlang/OTP"),
                      ("go", "Go"), ("caf", "CAF"), ("loadavg_at_start", "Load average at start")):
        out.append("| %s | %s |" % (name, env[key]))
    out.append("| Runs | %d warm-up + %d counted per cell, runtimes round-robin |"
               % (args.warmup, args.runs))
    out.append("")
    if missing:
        out.append("**Skipped runtimes:** " + "; ".join("%s (%s)" % kv for kv in missing.items()) + "\n")
    out.append("Method: each run is pinned with `taskset -c 0` (1 scheduler) or `-c 0,1` "
               "(2 schedulers). *wall* is the median of the workload time each program "
               "measures itself (runtime start-up excluded); *ns/op* divides it by the "
               "spec's operation count; *CPU* is the median user+system time of the whole "
               "OS process from `wait4()` (it includes start-up: the Erlang VM boot costs "
               "~0.1-0.2 s of it); *RSS* is the median peak resident set (`ru_maxrss` of "
               "the program, taken through GNU `time`). "
               "Erlang runs with its default flags apart from `+S N:N` and `+P 4000000` "
               "(no busy-wait tuning). "
               "**x/swarm** = that peer's median wall / SwarmRT's: above 1 means SwarmRT "
               "is faster.\n")
    inexact = sorted({rt for c in cases for rt in rts for r in c["runtimes"][rt]["runs"]
                      if not r.get("maxrss_exact", True)})
    if inexact:
        out.append("*Peak RSS of %s includes the runner's own resident set (GNU time, "
                   "`/usr/bin/time`, was not available).*\n" % ", ".join(inexact))
    hdr = ["workload", "sched"]
    for rt in rts:
        hdr += ["%s wall ms" % rt, "%s ns/op" % rt, "%s CPU ms" % rt, "%s RSS MiB" % rt]
    peers = [rt for rt in rts if rt != "swarm"]
    if "swarm" in rts:
        hdr += ["%s/swarm" % rt for rt in peers]
    hdr.append("status")
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 2 + ["--:"] * (len(hdr) - 3) + ["---"]) + "|")
    for c in cases:
        row = [case_label(c), str(c["schedulers"])]
        for rt in rts:
            r = c["runtimes"][rt]
            if r["status"] == "n/a":
                row += ["n/a"] * 4
                continue
            row += [fmt(r.get("median_wall_ns"), 1e6, 1), fmt(r.get("ns_per_op"), 1, 1),
                    fmt(r.get("median_cpu_ns"), 1e6, 0),
                    fmt(r.get("median_maxrss_kib"), 1024, 1)]
        if "swarm" in rts:
            row += [fmt(c["ratios_vs_swarm"].get(rt), 1, 2) for rt in peers]
        status = c["status"]
        if status != "ok":
            reasons = ["%s: %s" % (rt, c["runtimes"][rt]["reasons"][0])
                       for rt in rts if c["runtimes"][rt]["reasons"]]
            status = "**FAILED** " + "; ".join(reasons).replace("|", "/")
        row.append(status)
        out.append("| " + " | ".join(row) + " |")
    out.append("")

    parked = [c for c in cases if c["workload"] in ("parked", "hibernated")]
    if parked:
        out.append("## Memory per parked process\n")
        out.append("`bytes_per_proc` from `parked` (blocked in receive) and `hibernated` "
                   "(`swarm_hibernate`, Erlang's `erlang:hibernate/3`; Go and CAF have none): "
                   "RSS growth per process (Erlang: `erlang:memory(total)` growth). Medians.\n")
        out.append("| workload | processes | sched | " + " | ".join(rts) + " |")
        out.append("|---|---|---|" + "|".join(["--:"] * len(rts)) + "|")
        for c in parked:
            row = [c["workload"], "{:,}".format(c["params"]["P"]), str(c["schedulers"])]
            for rt in rts:
                row.append(fmt(c["runtimes"][rt].get("bytes_per_proc"), 1, 0))
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    bursts = [c for c in cases if c["workload"] == "bursts"]
    if bursts:
        out.append("## Memory over time\n")
        out.append("`bursts`: each process does 3 bursts of work that take 8 KiB of stack, "
                   "waiting for the next in between; bytes per process (RSS growth; Erlang: "
                   "`erlang:memory(total)` growth) right after the last burst, and after 1 s "
                   "of waiting. SwarmRT's processes are spawned with `compact_after_ms = 100`. "
                   "Medians.\n")
        out.append("| processes | sched | " + " | ".join("%s burst / parked" % rt for rt in rts) + " |")
        out.append("|---|---|" + "|".join(["--:"] * len(rts)) + "|")
        for c in bursts:
            row = ["{:,}".format(c["params"]["P"]), str(c["schedulers"])]
            for rt in rts:
                r = c["runtimes"][rt]
                row.append("%s / %s" % (fmt(r.get("burst_bytes_per_proc"), 1, 0),
                                        fmt(r.get("parked_bytes_per_proc"), 1, 0)))
            out.append("| " + " | ".join(row) + " |")
        out.append("")

    out.append("## Raw context switch\n")
    if raw_switch_line:
        out.append("`bench/raw_switch` (pinned to CPU 0): `%s`\n" % raw_switch_line)
    else:
        out.append("`bench/raw_switch` was not built or not run.\n")

    if chart_ok:
        out.append("## Chart\n")
        out.append("![ns per operation, log scale](img/bench.png)\n")
    out.append("Raw data of every run: `build/bench/results.json` (not committed).\n")
    # The I/O section is bench/io/run_io.py's: carried over as it was.
    sys.path.insert(0, str(ROOT / "bench"))
    from report_section import get_section
    io_section = get_section(REPORT_MD, "io")
    if io_section:
        out.append(io_section)
    REPORT_MD.parent.mkdir(parents=True, exist_ok=True)
    REPORT_MD.write_text("\n".join(out))
    log("wrote %s" % REPORT_MD.relative_to(ROOT))


def write_chart(cases, runtimes):
    """Grouped bars of ns/op per workload and scheduler count, log scale."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no chart (Debian: gnuplot-nox)")
        return False
    data = OUT_DIR / "chart.dat"
    lines = ["# label " + " ".join(runtimes)]
    for c in cases:
        label = "%s/%d" % (case_label(c).replace(" (P=100,000)", "-100k"), c["schedulers"])
        vals = []
        for rt in runtimes:
            v = c["runtimes"][rt].get("ns_per_op")
            vals.append("%.6g" % v if v else "?")
        lines.append('"%s" %s' % (label, " ".join(vals)))
    data.write_text("\n".join(lines) + "\n")
    CHART_PNG.parent.mkdir(parents=True, exist_ok=True)
    width = max(1000, 60 * len(cases) + 200)
    plots = ", ".join("'%s' using %d:xtic(1) title '%s'" % (data, i + 2, rt)
                      for i, rt in enumerate(runtimes))
    script = "\n".join([
        "set terminal pngcairo noenhanced size %d,600 font 'sans,10'" % width,
        "set output '%s'" % CHART_PNG,
        "set title 'SwarmRT vs peers: median ns per operation (log scale, lower is better)'",
        "set datafile missing '?'",
        "set style data histogram",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set logscale y",
        "set ylabel 'ns per op'",
        "set xlabel 'workload / schedulers'",
        "set xtics rotate by -45 scale 0",
        "set grid ytics",
        "set key top left",
        "plot " + plots,
    ])
    script_path = OUT_DIR / "chart.gp"
    script_path.write_text(script + "\n")
    proc = subprocess.run(["gnuplot", str(script_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        log("gnuplot failed:\n" + proc.stdout)
        return False
    log("wrote %s" % CHART_PNG.relative_to(ROOT))
    return True


def run_raw_switch(path, env):
    if path is None:
        return None
    status, _, _, out, err, timed_out = _spawn_and_wait(["taskset", "-c", "0", str(path)], 120, env)
    if timed_out or os.waitstatus_to_exitcode(status) != 0:
        log("raw_switch failed: %s" % (err.strip() or out.strip()))
        return None
    line = next((l for l in out.splitlines() if l.startswith("raw_switch")), out.strip())
    log(line)
    return line


# --------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="quick sizes, a subset of workloads, 1 warm-up + 1 run (default)")
    mode.add_argument("--full", action="store_true", help="full sizes, every workload, 1 + 5 runs")
    ap.add_argument("--only", help="comma-separated workloads (overrides the quick subset)")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES),
                    help="comma-separated subset of %s" % ",".join(RUNTIMES))
    ap.add_argument("--skip-missing", action="store_true",
                    help="skip a runtime whose toolchain or build is missing instead of failing")
    rep = ap.add_mutually_exclusive_group()
    rep.add_argument("--report", dest="report", action="store_true", default=None,
                     help="write docs/benchmarks.md and docs/img/bench.png (default with --full)")
    rep.add_argument("--no-report", dest="report", action="store_false")
    ap.add_argument("--runs", type=int, help="counted runs per cell (quick 1, full 5)")
    ap.add_argument("--warmup", type=int, help="warm-up runs per cell (default 1)")
    ap.add_argument("--timeout", type=int, help="seconds per run (quick 120, full 600)")
    ap.add_argument("--no-build", action="store_true", help="use what is already built")
    ap.add_argument("--no-huge", action="store_true",
                    help="in --full mode, leave out the huge sizes (10M hibernating processes: "
                         "about a minute a run)")
    ap.add_argument("--program", action="append", default=[], metavar="RUNTIME=PATH",
                    help="run this executable for swarm, go or caf (e.g. another build) "
                         "instead of building it; repeatable")
    args = ap.parse_args(argv)
    args.argv = argv
    args.mode = "full" if args.full else "quick"
    if args.runs is None:
        args.runs = 5 if args.mode == "full" else 1
    if args.warmup is None:
        args.warmup = 1
    if args.timeout is None:
        args.timeout = 600 if args.mode == "full" else 120
    if args.report is None:
        args.report = args.mode == "full"
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be >= 1 and --warmup >= 0")
    args.runtimes = [r for r in args.runtimes.split(",") if r]
    bad = [r for r in args.runtimes if r not in RUNTIMES]
    if bad or not args.runtimes:
        ap.error("unknown runtime(s) %s; choose from %s" % (bad, ",".join(RUNTIMES)))
    args.runtimes = [r for r in RUNTIMES if r in args.runtimes]  # canonical order
    overrides = {}
    for item in args.program:
        rt, sep, path = item.partition("=")
        if not sep or rt not in ("swarm", "go", "caf") or not Path(path).is_file():
            ap.error("--program wants swarm|go|caf=PATH to an existing file, got %r" % item)
        overrides[rt] = Path(path).resolve()
    args.program = overrides
    if args.only:
        args.workloads = [w for w in args.only.split(",") if w]
        bad = [w for w in args.workloads if w not in WORKLOADS]
        if bad:
            ap.error("unknown workload(s) %s; choose from %s" % (bad, ",".join(WORKLOADS)))
    else:
        args.workloads = QUICK_SUBSET if args.mode == "quick" else list(WORKLOADS)
    return args


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}

    if not shutil.which("taskset"):
        log("error: taskset not found (Debian: util-linux)")
        return 2
    to_build = [rt for rt in args.runtimes if rt not in args.program]
    if args.no_build:
        problems = {rt: None for rt in args.runtimes}
        raw_switch = find_built("raw_switch")
    else:
        problems, raw_switch = build(to_build)
        problems.update({rt: None for rt in args.program})
    programs = {"swarm": find_built("swarm_bench"), "caf": find_built("caf_bench"), "go": GO_BIN}
    programs.update(args.program)
    for rt in ("swarm", "caf", "go"):
        if rt in args.runtimes and problems.get(rt) is None and not (
                programs[rt] and Path(programs[rt]).is_file()):
            problems[rt] = "program not built"
    if "erlang" in args.runtimes and problems.get("erlang") is None and not (
            ERLANG_OUT / "swarm_peer.beam").is_file():
        problems["erlang"] = "swarm_peer.beam not built"
    missing = {rt: why for rt, why in problems.items() if why}
    for rt, why in missing.items():
        log("%s: %s" % ("skipping " + rt if args.skip_missing else "error: " + rt, why))
    if missing and not args.skip_missing:
        log("error: runtime(s) missing: %s (use --skip-missing to run the others)"
            % ",".join(missing))
        return 2
    runtimes = [rt for rt in args.runtimes if rt not in missing]
    if not runtimes:
        log("error: no runtime left to run")
        return 2
    build_s = time.monotonic() - started

    env_info = environment()
    cases_spec = [(w, args.mode) for w in args.workloads]
    if args.mode == "full" and "parked" in args.workloads:
        cases_spec.append(("parked", "quick"))  # WORKLOADS.md: also run at 100,000
    if args.mode == "full" and not args.no_huge:
        cases_spec += [(w, "huge") for w in HUGE if w in args.workloads]
    per_case = lambda w: sum(1 for rt in runtimes if (rt, w) not in NOT_APPLICABLE)
    progress = {"done": 0, "total": sum(per_case(w) * len(SCHEDULERS) * (args.warmup + args.runs)
                                        for w, _ in cases_spec)}
    cases = []
    for workload, size in cases_spec:
        for scheds in SCHEDULERS:
            case = run_case(workload, size, scheds, runtimes, programs, args, env, progress)
            case["mode"] = args.mode
            cases.append(case)

    raw_line = run_raw_switch(raw_switch, env)
    total_s = time.monotonic() - started
    failed = [c for c in cases if c["status"] != "ok"]

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps({
        "environment": env_info, "mode": args.mode, "argv": args.argv,
        "runs": args.runs, "warmup": args.warmup, "runtimes": runtimes,
        "skipped_runtimes": missing, "raw_switch": raw_line,
        "build_seconds": round(build_s, 1), "total_seconds": round(total_s, 1),
        "cases": cases}, indent=1, default=str) + "\n")
    log("wrote %s" % RESULTS_JSON.relative_to(ROOT))

    if args.report:
        chart_ok = write_chart(cases, runtimes)
        write_report(env_info, cases, runtimes, raw_line, missing, args, chart_ok)

    print(text_table(cases, runtimes))
    if raw_line:
        print(raw_line)
    print("%s: %d cases, %d FAILED; build %.0f s, total %.0f s"
          % (args.mode, len(cases), len(failed), build_s, total_s))
    for c in failed:
        for rt, r in c["runtimes"].items():
            if r["reasons"]:
                print("FAILED %s s=%d %s: %s" % (case_label(c), c["schedulers"], rt, r["reasons"][0]))
    # The counted line scripts/test.sh (and CI) read: one case = one
    # workload at one scheduler count, all runtimes' checksums agreeing.
    print("bench: %d passed, %d failed" % (len(cases) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
