#!/usr/bin/env python3
"""tests/diff/run.py ERLC ERL C_BINARY SRC_DIR WORKDIR - the differential
tests: every scenario of scenarios.erl runs in Erlang/OTP and in SwarmRT
(the C program built from scenarios.c); their normalised traces must be
the same. Prints each scenario with both traces; exits 1 on a mismatch."""
import os
import re
import subprocess
import sys


def main():
    erlc, erl, cbin, src, work = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    subprocess.run([erlc, "-o", work, os.path.join(src, "scenarios.erl")], check=True)
    text = open(os.path.join(src, "scenarios.erl")).read()
    names = re.findall(r"^run\((\w+)\) ->", text, re.M)
    bad = 0
    for name in names:
        e = subprocess.run([erl, "-noshell", "-pa", work, "-run", "scenarios", "main", name],
                           capture_output=True, text=True, timeout=60).stdout.strip()
        c = subprocess.run([cbin, name], capture_output=True, text=True, timeout=60).stdout.strip()
        same = e == c
        bad += not same
        print(f"{'same' if same else 'DIFFERENT'}  {name}: erlang [{e}] swarmrt [{c}]")
    print(f"diff: {len(names)} scenarios, {bad} different")
    return 1 if bad or not names else 0


if __name__ == "__main__":
    sys.exit(main())
