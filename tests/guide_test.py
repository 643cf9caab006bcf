#!/usr/bin/env python3
"""tests/guide_test.py - the user guide's programs are real and do what it says.

Every chapter docs/guide/*.md marks each complete program it shows with

    <!-- program: examples/NAME.c -->
    ```c
    ...the whole file...
    ```

and its expected standard output with

    <!-- output: examples/NAME.c -->
    ```text
    ...
    ```

For each marked program this checks that the code block is byte-identical
to docs/guide/examples/NAME.c, that the file compiles as C11 with -Wall
-Wextra -Werror against the built library (with -fstack-clash-protection,
as the pkg-config Cflags give it), that it exits with status 0 within the
time limit, and that its standard output is exactly the output block
(stderr, where the runtime's reports go, is shown but not compared). It
also checks that every file in docs/guide/examples/ is shown by a chapter.

    guide_test.py --cc CC --include DIR [--include DIR...] --lib LIBSWARMRT.a --guide DIR
                  [--workdir DIR] [--only NAME.c]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!-- (program|output): (\S+) -->\n```[a-z]*\n(.*?)^```\n", re.M | re.S)
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fstack-clash-protection", "-O1"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--include", required=True, action="append")
    ap.add_argument("--lib", required=True)
    ap.add_argument("--guide", required=True)
    ap.add_argument("--workdir")
    ap.add_argument("--only")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    failures = []
    programs = {}  # path -> (chapter, text)
    outputs = {}
    chapters = sorted(f for f in os.listdir(a.guide) if f.endswith(".md"))
    for ch in chapters:
        text = open(os.path.join(a.guide, ch), encoding="utf-8").read()
        # A marker not followed directly by a fenced block is a mistake.
        for m in re.finditer(r"^<!-- (program|output): (\S+) -->$", text, re.M):
            if not MARK.match(text, m.start()):
                failures.append(f"{ch}: marker '{m.group(0)}' is not followed by a fenced block")
        for m in MARK.finditer(text):
            kind, path, body = m.group(1), m.group(2), m.group(3)
            table = programs if kind == "program" else outputs
            if path in table:
                failures.append(f"{ch}: {kind} {path} shown twice (also in {table[path][0]})")
            table[path] = (ch, body)

    ex_dir = os.path.join(a.guide, "examples")
    for f in sorted(os.listdir(ex_dir)):
        p = "examples/" + f
        if f.endswith(".c") and p not in programs:
            failures.append(f"{p}: not shown in any chapter (mark it <!-- program: {p} -->)")
    for p in outputs:
        if p not in programs:
            failures.append(f"{outputs[p][0]}: output for {p}, which no chapter shows as a program")

    work = a.workdir or tempfile.mkdtemp(prefix="guide_test.")
    os.makedirs(work, exist_ok=True)
    ran = 0
    for p, (ch, body) in sorted(programs.items()):
        if a.only and os.path.basename(p) != a.only:
            continue
        src = os.path.join(a.guide, p)
        if not os.path.exists(src):
            failures.append(f"{ch}: program {p} has no file {src}")
            continue
        if open(src, encoding="utf-8").read() != body:
            failures.append(f"{ch}: the block shown for {p} differs from {src}")
            continue
        if p not in outputs:
            failures.append(f"{ch}: program {p} has no <!-- output: {p} --> block")
            continue
        exe = os.path.join(work, os.path.basename(p)[:-2])
        # The static library's own dependencies, as `pkg-config --static
        # --libs swarmrt` lists them (cmake/swarmrt.pc.in): OpenSSL for tls/.
        cmd = [a.cc] + CFLAGS + [f"-I{d}" for d in a.include] + [src, a.lib, "-pthread", "-lssl", "-lcrypto",
                                                                 "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"{p}: does not compile: {' '.join(cmd)}\n{r.stderr}")
            continue
        try:
            r = subprocess.run([exe], capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            failures.append(f"{p}: still running after {a.timeout:.0f} s")
            continue
        ran += 1
        want = outputs[p][1]
        print(f"== {p} ({ch}): exit {r.returncode}")
        sys.stdout.write(r.stdout)
        if r.stderr:
            sys.stdout.write("".join("  stderr: " + l + "\n" for l in r.stderr.splitlines()))
        if r.returncode != 0:
            failures.append(f"{p}: exit status {r.returncode}, expected 0")
        elif r.stdout != want:
            failures.append(f"{p}: output differs from {outputs[p][0]}:\n--- expected\n{want}--- got\n{r.stdout}")

    for f in failures:
        print("FAILED: " + f)
    print(f"guide: {len(programs)} programs in {len(chapters)} chapters, {ran} run, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
