#!/usr/bin/env python3
"""bench/io/run_io.py - the I/O benchmarks of issue 10: SwarmRT next to Go and Erlang.

    python3 bench/io/run_io.py --smoke      # CI: every workload ~1 s, answers checked (< 60 s)
    python3 bench/io/run_io.py              # the real run: 10 s per measurement, 3 runs, medians

Workloads (bench/io/README.md describes them; the servers are bench/io/swarm,
bench/io/peers/go and bench/io/peers/erlang, the clients wrk and the Go peer):

  http  wrk -t1 -c50 and -c1000 --latency against an HTTP/1.1 hello server:
        requests/s and p99 latency
  echo  request/response echo, 100 / 1,000 / 10,000 connections x 64 / 512 B:
        round trips/s and p99 round trip (the Go peer's echo-client)
  idle  10,000 idle keep-alive HTTP connections (each answered once): server
        RSS growth per connection (Erlang: also erlang:memory(total) growth)

Method: every server runs pinned to CPU 0 with one scheduler (SwarmRT
--schedulers 1, Go GOMAXPROCS=1, Erlang +S 1:1), every client pinned to CPU
1 (the Go client with GOMAXPROCS=1). Each measurement starts a fresh server.
Within a cell the runtimes take turns, round-robin, run after run, so drift
on a shared machine hits them alike; reported are the medians over the runs
and the ratios of medians. Before each measurement the server's answers are
checked byte for byte (HTTP: the exact same response bytes from all three
servers; echo: the client checks every byte it gets back); a wrong answer,
a socket error or a non-2xx answer fails the cell (exit status 1). The
server's CPU use over the measured window is recorded: a server below ~95%
of its core was not the bottleneck (the client was).

Options: --only http,echo,idle  --runtimes swarm,go,erlang  --duration S
         --runs N  --conns-idle N  --no-build  --report FILE (markdown table)
Exit status: 0 all passed, 1 a check or measurement failed, 2 setup error.
Only Python's standard library is used.
"""

import argparse
import datetime
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = ROOT / "bench" / "io"
RELEASE_DIR = ROOT / "build" / "release"
OUT_DIR = ROOT / "build" / "bench" / "io"
GO_BIN = OUT_DIR / "swarm_io_go"
ERLANG_OUT = OUT_DIR / "erlang"
RESULTS_JSON = OUT_DIR / "results.json"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_TIMEOUT_S = 30

RUNTIMES = ["swarm", "go", "erlang"]
SERVER_CPU = "0"
CLIENT_CPU = "1"
SCRUBBED_ENV = ["ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "GOGC", "GODEBUG",
                "GOMAXPROCS", "GOMEMLIMIT", "SWARM_SCHEDULERS"]

# The goals (issue 10, "Benchmarks").
GOAL_HTTP_RPS = 1.5    # SwarmRT requests/s >= 1.5 x Go's
GOAL_ECHO = 1.5        # SwarmRT round trips/s >= 1.5 x Go's
GOAL_IDLE_BYTES = 4096  # per idle keep-alive connection

# What every HTTP server must answer, byte for byte.
def http_answer(target, close=False, head=False):
    body = b"hello, " + target + b"\n"
    out = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n" % len(body)
           + (b"Connection: close\r\n" if close else b"") + b"\r\n")
    return out if head else out + body


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Failure(Exception):
    pass


# ----------------------------------------------------------------- building

def run_build_step(cmd, cwd=ROOT, env=None):
    log("+ " + " ".join(str(c) for c in cmd))
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        log("\n".join(proc.stdout.splitlines()[-40:]))
    return proc.returncode == 0


def swarm_server_path():
    return RELEASE_DIR / "bench" / "io" / "swarm_io_server"


def build(runtimes, need_go_client):
    """Build what is needed; returns {what: problem} for what failed."""
    problems = {}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if "swarm" in runtimes:
        if not shutil.which("cmake"):
            problems["swarm"] = "cmake not found"
        elif not (run_build_step(["cmake", "--preset", "release"]) and
                  run_build_step(["cmake", "--build", "--preset", "release", "--target",
                                  "swarm_io_server", "--parallel", "2"])):
            problems["swarm"] = "build of swarm_io_server failed"
    if "go" in runtimes or need_go_client:
        if not shutil.which("go"):
            problems["go"] = "go not found (Debian: golang-go)"
        else:
            env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GO111MODULE="on",
                       CGO_ENABLED="0")
            if "HOME" not in env and "GOCACHE" not in env:
                env["GOCACHE"] = str(OUT_DIR / "go-cache")
            if not run_build_step(["go", "build", "-o", GO_BIN, "."],
                                  cwd=HERE / "peers" / "go", env=env):
                problems["go"] = "go build failed"
    if "erlang" in runtimes:
        if not (shutil.which("erl") and shutil.which("erlc")):
            problems["erlang"] = "erl/erlc not found (Debian: erlang-nox)"
        else:
            ERLANG_OUT.mkdir(parents=True, exist_ok=True)
            if not run_build_step(["erlc", "-Werror", "-o", ERLANG_OUT,
                                   HERE / "peers" / "erlang" / "swarm_io_peer.erl"]):
                problems["erlang"] = "erlc failed"
    return problems


# ------------------------------------------------------------------ servers

def server_cmd(runtime, kind):
    pin = ["taskset", "-c", SERVER_CPU]
    if runtime == "swarm":
        return pin + [str(swarm_server_path()), kind, "--schedulers", "1"]
    if runtime == "go":
        return pin + [str(GO_BIN), kind + "-server"]
    # The VM's defaults apart from the scheduler count (issue 12): no
    # busy-wait tuning, as users run it.
    return pin + ["erl", "-noshell", "+S", "1:1",
                  "-pa", str(ERLANG_OUT), "-run", "swarm_io_peer", "main", kind]


class Server:
    """A server process: started pinned, its port read from "listening N"."""

    def __init__(self, runtime, kind, env):
        self.runtime, self.kind = runtime, kind
        senv = dict(env)
        if runtime == "go":
            senv["GOMAXPROCS"] = "1"
        self.proc = subprocess.Popen(server_cmd(runtime, kind), env=senv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        line = self._line(30)
        m = re.match(r"listening (\d+)", line or "")
        if not m:
            err = self.stop()
            raise Failure("%s %s server did not start: %r %s" % (runtime, kind, line, err[-300:]))
        self.port = int(m.group(1))
        self.pid = self.proc.pid  # taskset and erl exec, so this is the server itself

    def _line(self, timeout):
        out = self.proc.stdout
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([out], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            ch = os.read(out.fileno(), 1)
            if not ch:
                break
            if ch == b"\n":
                return buf.decode(errors="replace")
            buf += ch
        return buf.decode(errors="replace") if buf else None

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Failure("no VmRSS for %d" % self.pid)

    def cpu_s(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def erlang_memory(self):
        """erlang:memory(total), asked for on stdin (Erlang only)."""
        self.proc.stdin.write(b"mem\n")
        self.proc.stdin.flush()
        line = self._line(10)
        m = re.match(r"memory_total=(\d+)", line or "")
        if not m:
            raise Failure("erlang did not report its memory: %r" % line)
        return int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            err = b""
        return err.decode(errors="replace")


# ------------------------------------------------------------------- checks

def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def check_http(port):
    """Keep-alive, pipelining, HEAD and Connection: close give exactly the
    expected bytes (the same for every server)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for target in (b"/", b"/world"):
            s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target)
            want = http_answer(target)
            got = recv_exactly(s, len(want))
            if got != want:
                raise Failure("keep-alive answer to %s: %r, want %r" % (target, got, want))
        reqs = (b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                b"HEAD /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                b"GET /c HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        want = http_answer(b"/a") + http_answer(b"/b", head=True) + http_answer(b"/c", close=True)
        s.sendall(reqs)
        got = recv_exactly(s, len(want) + 1)  # + 1: the connection must then end
        if got != want:
            raise Failure("pipelined answers: %r, want %r" % (got, want))


def check_echo(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for n in (1, 64, 512, 3000):
            msg = bytes((i * 13 + n) & 0xFF for i in range(n))
            s.sendall(msg)
            got = recv_exactly(s, n)
            if got != msg:
                raise Failure("echo of %d bytes came back as %d different bytes" % (n, len(got)))


# ------------------------------------------------------------------ clients

def run_client(cmd, env, timeout):
    """Run a pinned client; returns (exit code, stdout, stderr, cpu seconds)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise Failure("client timed out: %s" % " ".join(cmd))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), ru


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        raise Failure("bad wrk latency %r" % text)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def wrk(port, conns, duration, env):
    # wrk takes whole seconds. Its default --timeout (2 s) drops a slower
    # answer from the latency histogram (counted as a "timeout" error): a
    # generous one keeps every answer in the p99.
    cmd = ["taskset", "-c", CLIENT_CPU, WRK, "-t1", "-c%d" % conns, "-d%ds" % max(1, round(duration)),
           "--timeout", "%ds" % WRK_TIMEOUT_S, "--latency", "http://127.0.0.1:%d/" % port]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code, out, err, after = run_client(cmd, env, duration + 60)
    if code != 0:
        raise Failure("wrk exit %d: %s" % (code, (err or out).strip()[-300:]))
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    if not (m and p99 and p50):
        raise Failure("cannot read wrk's output:\n" + out)
    rec = {"rps": float(m.group(1)), "p99_ms": to_ms(p99.group(1)), "p50_ms": to_ms(p50.group(1)),
           "client_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    problems = []
    if errs and any(int(x) for x in errs.groups()):
        problems.append("socket errors: " + errs.group(0))
    if non2xx:
        problems.append(non2xx.group(0))
    if problems:
        rec["errors"] = "; ".join(problems)
    return rec


def go_client_env(env):
    return dict(env, GOMAXPROCS="1")


def read_line(proc, deadline):
    """One line of a client's stdout (bytes, without the newline), or None."""
    line = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], min(1.0, max(0.0, deadline - time.monotonic())))
        if r:
            ch = os.read(proc.stdout.fileno(), 1)
            if not ch:
                return line or None
            if ch == b"\n":
                return line
            line += ch
    return None


def echo_client(srv, conns, size, duration, warmup, env):
    """Run the echo client against srv; the server's CPU share is sampled
    over the client's measured window (between its "measuring" and
    "measured" lines), connecting and the warm-up excluded."""
    cmd = ["taskset", "-c", CLIENT_CPU, str(GO_BIN), "echo-client", "-addr", "127.0.0.1:%d" % srv.port,
           "-conns", str(conns), "-size", str(size), "-duration", "%gs" % duration,
           "-warmup", "%gs" % warmup]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, env=go_client_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + duration + warmup + 180
    lines, cpu = [], {}
    while True:
        line = read_line(proc, deadline)
        if line is None:
            break
        text = line.decode(errors="replace")
        if text in ("measuring", "measured"):
            cpu[text] = (srv.cpu_s(), time.monotonic())
        else:
            lines.append(text)
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
    err = proc.stderr.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = "\n".join(lines)
    m = re.search(r"^result (.*)$", out, re.M)
    if proc.returncode != 0 or not m:
        raise Failure("echo-client exit %s: %s" % (proc.returncode, (out + err).strip()[-300:]))
    f = dict(kv.split("=", 1) for kv in m.group(1).split())
    rec = {"msgs_per_s": float(f["msgs_per_s"]), "p99_ms": float(f["p99_us"]) / 1e3,
           "p50_ms": float(f["p50_us"]) / 1e3, "msgs": int(f["msgs"]),
           "client_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}
    if "measuring" in cpu and "measured" in cpu:
        (c0, t0), (c1, t1) = cpu["measuring"], cpu["measured"]
        rec["server_cpu"] = (c1 - c0) / (t1 - t0)
    return rec


# ------------------------------------------------------------ measurements

def measure_http(runtime, conns, args, env):
    srv = Server(runtime, "http", env)
    try:
        check_http(srv.port)
        if args.warmup > 0:
            wrk(srv.port, conns, args.warmup, env)
        c0, t0 = srv.cpu_s(), time.monotonic()
        rec = wrk(srv.port, conns, args.duration, env)
        rec["server_cpu"] = (srv.cpu_s() - c0) / (time.monotonic() - t0)
        check_http(srv.port)  # still answering correctly after the load
        if not srv.alive():
            raise Failure("server died")
        return rec
    finally:
        rec_err = srv.stop()
        if rec_err.strip():
            log("  (%s server stderr: %s)" % (runtime, rec_err.strip()[-200:]))


def measure_echo(runtime, conns, size, args, env):
    srv = Server(runtime, "echo", env)
    try:
        check_echo(srv.port)
        rec = echo_client(srv, conns, size, args.duration, args.warmup_echo, env)
        check_echo(srv.port)
        return rec
    finally:
        srv.stop()


def measure_idle(runtime, conns, args, env):
    srv = Server(runtime, "http", env)
    client = None
    try:
        check_http(srv.port)
        time.sleep(0.5)
        rss0 = srv.rss_kib()
        mem0 = srv.erlang_memory() if runtime == "erlang" else None
        cmd = ["taskset", "-c", CLIENT_CPU, str(GO_BIN), "idle-client",
               "-addr", "127.0.0.1:%d" % srv.port, "-conns", str(conns)]
        client = subprocess.Popen(cmd, env=go_client_env(env), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([client.stdout], [], [], 1.0)
            if r:
                ch = os.read(client.stdout.fileno(), 1)
                if not ch:
                    break
                line += ch
        m = re.match(rb"ready (\d+)", line)
        if not m or int(m.group(1)) != conns:
            client.kill()
            _, err = client.communicate()
            raise Failure("idle-client: %r %s" % (line, err.decode(errors="replace")[-300:]))
        time.sleep(args.settle)
        rss1 = srv.rss_kib()
        rec = {"conns": conns, "rss_before_kib": rss0, "rss_after_kib": rss1,
               "bytes_per_conn": (rss1 - rss0) * 1024 / conns}
        if runtime == "erlang":
            mem1 = srv.erlang_memory()
            rec.update(erlang_mem_before=mem0, erlang_mem_after=mem1,
                       erlang_bytes_per_conn=(mem1 - mem0) / conns)
        check_http(srv.port)
        return rec
    finally:
        if client is not None and client.poll() is None:
            client.stdin.close()
            try:
                client.wait(timeout=30)
            except subprocess.TimeoutExpired:
                client.kill()
        srv.stop()


# ------------------------------------------------------------------- cells

def cells(args):
    out = []
    if "http" in args.only:
        for c in args.http_conns:
            out.append({"workload": "http", "label": "http c%d" % c, "conns": c})
    if "echo" in args.only:
        for c in args.echo_conns:
            for size in args.echo_sizes:
                out.append({"workload": "echo", "label": "echo %d x %d B" % (c, size),
                            "conns": c, "size": size})
    if "idle" in args.only:
        out.append({"workload": "idle", "label": "idle %d conns" % args.conns_idle,
                    "conns": args.conns_idle})
    return out


def measure(cell, runtime, args, env):
    if cell["workload"] == "http":
        return measure_http(runtime, cell["conns"], args, env)
    if cell["workload"] == "echo":
        return measure_echo(runtime, cell["conns"], cell["size"], args, env)
    return measure_idle(runtime, cell["conns"], args, env)


METRICS = {"http": [("rps", "req/s", max), ("p99_ms", "p99 ms", min)],
           "echo": [("msgs_per_s", "msgs/s", max), ("p99_ms", "p99 ms", min)],
           "idle": [("bytes_per_conn", "B/conn (RSS)", min)]}


def summarize(cell, runtimes):
    for rt in runtimes:
        r = cell["results"][rt]
        ok = [x for x in r["runs"] if "error" not in x]
        keys = [k for k, _, _ in METRICS[cell["workload"]]] + ["server_cpu", "client_cpu_s", "erlang_bytes_per_conn"]
        r["median"] = {k: statistics.median([x[k] for x in ok])
                       for k in keys if ok and all(k in x for x in ok)}
    cell["ratios"] = {}
    base = cell["results"].get("swarm", {}).get("median", {})
    for rt in runtimes:
        if rt == "swarm":
            continue
        med = cell["results"][rt]["median"]
        cell["ratios"][rt] = {k: med[k] / base[k] for k in med if base.get(k)}


# -------------------------------------------------------------- reporting

def environment():
    def capture(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = capture(["git", "rev-parse", "--short", "HEAD"]) or "no-commit"
    if capture(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"]):
        commit += "-dirty"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "kernel": os.uname().release, "loadavg_at_start": load,
            "go": capture(["go", "version"]), "wrk": capture([WRK, "--version"]).split("\n")[0][:40],
            "erlang": capture(["erl", "-noshell", "-eval",
                               'io:format("OTP ~s", [erlang:system_info(otp_release)]), halt().'])}


def fmt(v, kind):
    if v is None:
        return "-"
    if kind in ("req/s", "msgs/s", "B/conn (RSS)", "B/conn"):
        return "{:,.0f}".format(v)
    return "{:.2f}".format(v) if v < 100 else "{:,.0f}".format(v)


def goals(all_cells):
    """The issue's goals: (text, measured, verdict) rows."""
    rows = []
    for c in all_cells:
        sw = c["results"].get("swarm", {}).get("median", {})
        go = c["results"].get("go", {}).get("median", {})
        if not sw or not go:
            continue
        if c["workload"] == "http":
            x = sw["rps"] / go["rps"]
            rows.append(("%s: req/s >= 1.5x Go" % c["label"],
                         "%s vs %s (%.2fx)" % (fmt(sw["rps"], "req/s"), fmt(go["rps"], "req/s"), x),
                         "met" if x >= GOAL_HTTP_RPS else "missed"))
            rows.append(("%s: p99 <= Go's" % c["label"],
                         "%.2f ms vs %.2f ms" % (sw["p99_ms"], go["p99_ms"]),
                         "met" if sw["p99_ms"] <= go["p99_ms"] else "missed"))
        elif c["workload"] == "echo":
            x = sw["msgs_per_s"] / go["msgs_per_s"]
            rows.append(("%s: msgs/s >= 1.5x Go" % c["label"],
                         "%s vs %s (%.2fx)" % (fmt(sw["msgs_per_s"], "msgs/s"),
                                               fmt(go["msgs_per_s"], "msgs/s"), x),
                         "met" if x >= GOAL_ECHO else "missed"))
        elif c["workload"] == "idle":
            b = sw["bytes_per_conn"]
            rows.append(("idle: <= 4,096 B per connection", "%s B" % fmt(b, "B/conn"),
                         "met" if b <= GOAL_IDLE_BYTES else "missed"))
    return rows


def markdown(env, all_cells, runtimes, args):
    out = ["| | |", "|---|---|"]
    for k, name in (("commit", "Commit"), ("date", "Date"), ("nproc", "nproc"), ("cpu", "CPU"),
                    ("kernel", "Kernel"), ("loadavg_at_start", "Load average at start"),
                    ("go", "Go"), ("erlang", "Erlang"), ("wrk", "wrk")):
        out.append("| %s | %s |" % (name, env[k]))
    out.append("| Runs | %d per cell, %g s each, runtimes round-robin; medians |"
               % (args.runs, args.duration))
    out.append("")
    peers = [rt for rt in runtimes if rt != "swarm"]
    hdr = ["workload", "metric"] + runtimes + ["%s/swarm" % p for p in peers] + ["server CPU (%s)" % "/".join(runtimes)]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|---|---|" + "|".join(["--:"] * (len(hdr) - 2)) + "|")
    for c in all_cells:
        for key, name, _ in METRICS[c["workload"]]:
            row = [c["label"], name]
            for rt in runtimes:
                row.append(fmt(c["results"][rt]["median"].get(key), name))
            for p in peers:
                v = c["ratios"].get(p, {}).get(key)
                row.append("-" if v is None else "%.2f" % v)
            cpu = [c["results"][rt]["median"].get("server_cpu") for rt in runtimes]
            cell_cpu = (" / ".join("-" if v is None else "%.0f%%" % (100 * v) for v in cpu)
                        if c["workload"] != "idle" else "")
            if c["workload"] == "http":
                # wrk's own core: near 100%, the client bounds the run (and its latency)
                wrk_cpu = [c["results"][rt]["median"].get("client_cpu_s") for rt in runtimes]
                cell_cpu += " (wrk %s)" % " / ".join("-" if v is None else "%.0f%%" % (100 * v / args.duration)
                                                      for v in wrk_cpu)
            row.append(cell_cpu)
            out.append("| " + " | ".join(row) + " |")
        if c["workload"] == "idle" and "erlang" in runtimes:
            v = c["results"]["erlang"]["median"].get("erlang_bytes_per_conn")
            out.append("| %s | B/conn (erlang:memory(total)) | | | %s | | | |"
                       % (c["label"], fmt(v, "B/conn")))
    out.append("")
    out.append("| goal (issue 10) | measured (SwarmRT vs Go, medians) | verdict |")
    out.append("|---|---|---|")
    for g in goals(all_cells):
        out.append("| %s | %s | %s |" % g)
    out.append("")
    return "\n".join(out)


def text_table(all_cells, runtimes):
    lines = []
    for c in all_cells:
        for key, name, _ in METRICS[c["workload"]]:
            vals = " ".join("%14s" % fmt(c["results"][rt]["median"].get(key), name) for rt in runtimes)
            ratios = " ".join("%7s" % ("%.2f" % c["ratios"][p][key] if key in c["ratios"].get(p, {}) else "-")
                              for p in runtimes if p != "swarm")
            lines.append("%-22s %-14s %s  %s" % (c["label"], name, vals, ratios))
    head = "%-22s %-14s %s  %s" % ("workload", "metric", " ".join("%14s" % r for r in runtimes),
                                   " ".join("%7s" % (p + "/sw") for p in runtimes if p != "swarm"))
    return "\n".join([head] + lines)


# --------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="~1 s per measurement, 1 run, 1,000 idle connections, no 10,000 echo")
    ap.add_argument("--only", default="http,echo,idle", help="comma-separated: http,echo,idle")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES))
    ap.add_argument("--duration", type=float, help="seconds per measurement (default 10; smoke 1)")
    ap.add_argument("--runs", type=int, help="runs per cell (default 3; smoke 1)")
    ap.add_argument("--conns-idle", type=int, help="idle connections (default 10,000; smoke 1,000)")
    ap.add_argument("--echo-conns", help="comma-separated (default 100,1000,10000; smoke 100,1000)")
    ap.add_argument("--http-conns", default="50,1000")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report", help="write the markdown table here")
    ap.add_argument("--benchmarks-md", metavar="FILE",
                    help="put the markdown as the 'io' section of FILE (docs/benchmarks.md: bench/run.py keeps it)")
    args = ap.parse_args(argv)
    args.argv = argv
    smoke = args.smoke
    args.duration = args.duration or (1.0 if smoke else 10.0)
    args.runs = args.runs or 1 if smoke else args.runs or 3
    args.conns_idle = args.conns_idle or (1000 if smoke else 10000)
    args.warmup = 0 if smoke else 1              # wrk warm-up on the same server (whole s)
    args.warmup_echo = 0.2 if smoke else 0.5     # echo-client warm-up
    args.settle = 0.3 if smoke else 1.0          # after the idle connections are up
    args.echo_conns = [int(x) for x in (args.echo_conns or ("100,1000" if smoke else "100,1000,10000")).split(",")]
    args.http_conns = [int(x) for x in args.http_conns.split(",")]
    args.echo_sizes = [64, 512]
    args.only = [w for w in args.only.split(",") if w]
    args.runtimes = [r for r in RUNTIMES if r in args.runtimes.split(",")]
    if set(args.only) - {"http", "echo", "idle"} or not args.runtimes:
        ap.error("bad --only or --runtimes")
    return args


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by servers and clients
    need_fds = max([args.conns_idle if "idle" in args.only else 0] +
                   [c for c in args.echo_conns if "echo" in args.only] + [1000]) + 100
    if hard < need_fds:
        log("note: the fd limit (%d) is below %d: lowering the connection counts" % (hard, need_fds))
        cap = hard - 100
        args.conns_idle = min(args.conns_idle, cap)
        args.echo_conns = sorted({min(c, cap) for c in args.echo_conns})
    for tool in ("taskset",):
        if not shutil.which(tool):
            log("error: %s not found (Debian: util-linux)" % tool)
            return 2
    if "http" in args.only and not os.access(WRK, os.X_OK):
        log("error: wrk not found (Debian: wrk)")
        return 2
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    need_go_client = "echo" in args.only or "idle" in args.only
    if not args.no_build:
        problems = build(args.runtimes, need_go_client)
        if problems:
            for k, v in problems.items():
                log("error: %s: %s" % (k, v))
            return 2
    for rt, path in (("swarm", swarm_server_path()), ("go", GO_BIN),
                     ("erlang", ERLANG_OUT / "swarm_io_peer.beam")):
        if (rt in args.runtimes or (rt == "go" and need_go_client)) and not path.is_file():
            log("error: %s not built (%s)" % (rt, path))
            return 2
    build_s = time.monotonic() - started
    env_info = environment()
    log("I/O benchmarks: %s; load average %s" % (env_info["commit"], env_info["loadavg_at_start"]))

    all_cells = cells(args)
    failed = 0
    for cell in all_cells:
        cell["results"] = {rt: {"runs": []} for rt in args.runtimes}
        for run in range(args.runs):
            for rt in args.runtimes:
                t = time.monotonic()
                try:
                    rec = measure(cell, rt, args, env)
                except (Failure, OSError) as e:
                    rec = {"error": str(e)}
                if "errors" in rec:
                    rec["error"] = rec["errors"]
                cell["results"][rt]["runs"].append(rec)
                if "error" in rec:
                    failed += 1
                    verdict = "FAILED: " + rec["error"][:300]
                else:
                    verdict = " ".join("%s=%s" % (k, fmt(rec[k], n)) for k, n, _ in METRICS[cell["workload"]])
                    if "server_cpu" in rec:
                        verdict += " server_cpu=%.0f%%" % (100 * rec["server_cpu"])
                    if "erlang_bytes_per_conn" in rec:
                        verdict += " erlang_mem=%s" % fmt(rec["erlang_bytes_per_conn"], "B/conn")
                log("%-20s run %d/%d %-6s %s (%.1f s)" % (cell["label"], run + 1, args.runs, rt,
                                                          verdict, time.monotonic() - t))
        summarize(cell, args.runtimes)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps({"environment": env_info, "argv": argv, "runs": args.runs,
                                        "duration": args.duration, "cells": all_cells},
                                       indent=1, default=str) + "\n")
    md = markdown(env_info, all_cells, args.runtimes, args)
    if args.report:
        Path(args.report).write_text(md)
        log("wrote %s" % args.report)
    if args.benchmarks_md:
        sys.path.insert(0, str(ROOT / "bench"))
        from report_section import put_section
        put_section(args.benchmarks_md, "io", "generated by python3 bench/io/run_io.py --benchmarks-md; bench/run.py keeps it",
                    "## I/O (issue 10)\n\n" + md)
        log("wrote the io section of %s" % args.benchmarks_md)
    print(text_table(all_cells, args.runtimes))
    total = sum(len(c["results"][rt]["runs"]) for c in all_cells for rt in args.runtimes)
    print("io-bench: build %.0f s, total %.0f s" % (build_s, time.monotonic() - started))
    # The counted line scripts/test.sh reads (one measurement = one runtime, one run, one cell).
    print("io-bench: %d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
