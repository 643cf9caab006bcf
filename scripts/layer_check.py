#!/usr/bin/env python3
"""scripts/layer_check.py - the layers of src/ include only downward.

Every folder of src/ is a layer; LAYERS below orders them bottom-up. A file
may #include "..." a header of its own layer or of a layer below it, and
the public headers (swarmrt.h, swarmrt/*.h, which are not in src/). An
include of a higher layer's header is an upward include: a violation; so is
an include of another folder's private header (internal.h).

A lower layer that must call up (a hook the layer above installs, such as
the scheduler asking msg to post a timeout) declares that call in ONE
header, UPCALLS (src/base/upcalls.h), which any file may include; so every
upcall of the code base is listed in one place.

Today's violations are listed, one per line, in EXCEPTIONS
(scripts/layer_exceptions.txt) as "<file> -> <header>", both relative to
src/. The check fails on a violation that is not listed there, and on a
listed one that no longer occurs (delete its line: the list only shrinks).

    scripts/layer_check.py [--src DIR] [--exceptions FILE] [--list | --self-test]

--list prints every violation in the exceptions file's format and exits 0
(to regenerate the file after moving code). --self-test checks the check
on scratch copies of src/ (ctest layers.self_test). Exit status: 0 clean, 1 a new
or a stale violation, 2 a usage or setup error (a folder of src/ that is
not in LAYERS, an include that resolves to no file).
"""
import argparse
import os
import re
import sys

# Bottom-up: a layer may include from its own folder and every folder listed
# before it. Every folder of src/ must be placed here (a new folder fails the
# check until it is). The lead refines this order as the core is reshaped
# (issue 8); docs/design/ describes the layers.
LAYERS = [
    "base",     # compiler, sanitizer, syscall table, deadlines, errors; the upcalls header
    "arch",     # context switch, CPU relax, fault-context access
    "mem",      # the block pool: message memory given back after a burst
    "reason",   # atoms and exit reasons
    "ref",      # references (make_ref)
    "stack",    # stack arena and guards
    "mbox",     # the mailbox: MPSC signal queue with the EMPTY mark
    "ptable",   # PCBs, pids, the process table, the resource list, the registry, pid resolution
    "runq",     # run queues: the stealable ring, pointer lists
    "wheel",    # the timing wheel
    "state",    # the data-only state header: struct swarm, the scheduler
    "sched",    # schedulers: run loop, park, queues, idle, timers, det mode, faults, watchdog
    "msg",      # send / receive; signals on the receiving side (sig.c)
    "signal",   # links, monitors, exit signals: the public calls
    "proc",     # process life: spawn, exit, the small process calls
    "name",     # registered names: the public calls
    "timer",    # sleep, the clock
    "io",       # the netpoller, fd waits, sockets, the blocking-call pool
    "tls",      # TLS over OpenSSL: memory BIOs, ciphertext moved by io/'s calls
    "chan",     # channels and select; waitq: the wait queue parked through the commit hook
    "sync",     # mutex (owner death), condition variable, semaphore, on chan/'s wait queue
    "runtime",  # swarm lifecycle, config, info, stats
    "gen_server", # OTP's gen_server: a server process, calls with monitors
    "supervisor", # OTP's supervisor, as a gen_server
    "task",     # tasks: spawn a computation, await its result
]

# A header with this name is its folder's private one: only files of the
# same folder may include it.
PRIVATE = "internal.h"

# The one header that declares the allowed upcalls; included from anywhere.
UPCALLS = "base/upcalls.h"

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SRC = os.path.join(ROOT, "src")
EXCEPTIONS = os.path.join(ROOT, "scripts", "layer_exceptions.txt")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SOURCE_EXT = (".c", ".h", ".S", ".inc")


def layer_of(rel):
    return rel.split("/", 1)[0]


def violations(src):
    """Every upward include under src, as sorted "file -> header" strings."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    found, errors = set(), []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(SOURCE_EXT):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            if "/" not in rel:
                errors.append(f"{rel}: a file directly in src/ belongs to no layer")
                continue
            me = layer_of(rel)
            if me not in rank:
                errors.append(f"{rel}: folder '{me}' is not in LAYERS (scripts/layer_check.py)")
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                if inc == "swarmrt.h" or inc.startswith("swarmrt/"):
                    continue  # the public headers: include/, below every layer
                # "dir/x.h" is relative to src/; a bare "x.h" to the file's folder.
                target = inc if "/" in inc else os.path.relpath(
                    os.path.join(os.path.dirname(path), inc), src).replace(os.sep, "/")
                if not os.path.isfile(os.path.join(src, target)):
                    errors.append(f'{rel}: #include "{inc}" is no file under src/')
                    continue
                if target == UPCALLS:
                    continue
                them = layer_of(target)
                if them not in rank:
                    errors.append(f"{target}: folder '{them}' is not in LAYERS (scripts/layer_check.py)")
                    continue
                if rank[them] > rank[me] or (os.path.basename(target) == PRIVATE and them != me):
                    found.add(f"{rel} -> {target}")
    return sorted(found), errors


def read_exceptions(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(" -> ".join(p.strip() for p in line.split("->")))
    return out


def self_test(src, exceptions):
    """The check passes on src/ as it is and with UPCALLS included from the
    bottom layer, and fails on a copy with a new upward include, with a
    listed one removed, and with a folder that is not in LAYERS."""
    import shutil
    import subprocess
    import tempfile

    def run(tree):
        return subprocess.run([sys.executable, os.path.abspath(__file__), "--src", tree,
                               "--exceptions", exceptions], capture_output=True, text=True).returncode

    allowed = read_exceptions(exceptions)
    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        def fresh():
            tree = os.path.join(tmp, "src")
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(src, tree)
            if not os.path.exists(os.path.join(tree, UPCALLS)):
                open(os.path.join(tree, UPCALLS), "w").close()
            return tree

        def add_include(tree, rel, header):
            with open(os.path.join(tree, rel), "a") as fh:
                fh.write(f'\n#include "{header}"\n')

        bottom = next(os.path.join(LAYERS[0], f) for f in sorted(os.listdir(os.path.join(src, LAYERS[0])))
                      if f.endswith(".c"))
        # A header of the highest layer that has one (the top layer may be all .c).
        top_header = next(os.path.join(layer, f) for layer in reversed(LAYERS)
                          for f in sorted(os.listdir(os.path.join(src, layer))) if f.endswith(".h"))
        cases = [("src/ as it is", lambda t: None, 0),
                 (f"{bottom} includes {top_header}", lambda t: add_include(t, bottom, top_header), 1),
                 (f"{bottom} includes {UPCALLS}", lambda t: add_include(t, bottom, UPCALLS), 0),
                 ("a folder not in LAYERS", lambda t: os.makedirs(os.path.join(t, "zz_unplaced")) or
                  open(os.path.join(t, "zz_unplaced", "x.c"), "w").close(), 2)]
        if allowed:
            f, h = allowed[0].split(" -> ")

            def drop(t, f=f, h=h):
                path = os.path.join(t, f)
                with open(path) as fh:
                    text = fh.read()
                with open(path, "w") as fh:
                    fh.write(re.sub(r'^\s*#\s*include\s+"%s"' % re.escape(h), "", text, flags=re.M))
            cases.append((f"listed {allowed[0]} no longer occurs", drop, 1))
        for what, change, want in cases:
            tree = fresh()
            change(tree)
            got = run(tree)
            print(f"{'ok' if got == want else 'FAILED'}: {what}: exit {got} (want {want})")
            if got != want:
                fails.append(what)
    print(f"layers self-test: {'ok' if not fails else 'FAILED'}")
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=SRC)
    ap.add_argument("--exceptions", default=EXCEPTIONS)
    ap.add_argument("--list", action="store_true", help="print every violation and exit 0")
    ap.add_argument("--self-test", action="store_true", help="check the check on scratch copies of src/")
    a = ap.parse_args()
    if a.self_test:
        return self_test(a.src, a.exceptions)
    if not os.path.isdir(a.src):
        print(f"layer_check: no directory {a.src}", file=sys.stderr)
        return 2
    found, errors = violations(a.src)
    for e in errors:
        print(f"layer_check: {e}", file=sys.stderr)
    if errors:
        return 2
    if a.list:
        print("\n".join(found))
        return 0
    order = " < ".join(LAYERS)
    allowed = read_exceptions(a.exceptions)
    new = [v for v in found if v not in allowed]
    stale = [v for v in allowed if v not in found]
    print(f"layers (bottom-up): {order}; upcalls only through src/{UPCALLS}")
    print(f"{len(found)} upward includes, {len(allowed)} listed in {os.path.relpath(a.exceptions, ROOT)}:")
    for v in found:
        f, t = v.split(" -> ")
        print(f"  {v}   ({layer_of(f)} -> {layer_of(t)}){'' if v in allowed else '   NEW'}")
    for v in new:
        print(f"FAILED: new upward include {v}: include a lower layer, or declare the upcall in src/{UPCALLS}")
    for v in stale:
        print(f"FAILED: {v} is listed as an exception but no longer occurs: delete its line")
    ok = not new and not stale
    print(f"layers: {'ok' if ok else 'FAILED'} ({len(new)} new, {len(stale)} stale)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
