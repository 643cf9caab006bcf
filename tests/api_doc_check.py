#!/usr/bin/env python3
"""api_doc_check.py INCLUDE_DIR TESTS_DIR - the headers' documented return
codes against the code's tests.

For every public function (SWARM_API) whose header comment has a
"Returns ..." clause, the codes it lists (0 and SWARM_E* names from
swarmrt/error.h; "Returns as f" / "Same returns as f" inherit f's list) must
each be provoked by a test: an API_RET(function, code, function(...)) in some
tests/*.c file. An API_RET whose code the header does not list for that
function fails too (an undocumented return). A function returning int with
no Returns clause fails unless its int is not a code (ALLOWED_NO_RETURNS).
A clause that says "never 0" needs no 0. Every code in error.h must be returned by some function, unless its comment
says it is reserved, and then none may list it.
"""
import os
import re
import sys

# int-returning calls whose int is a value, not a code.
ALLOWED_NO_RETURNS = {"swarm_is_alive", "swarm_scheduler_index", "swarm_msg_exit", "swarm_msg_down", "swarm_msg_timer",
                       "swarm_msg_cancel_timer"}


def error_codes(inc):
    text = open(os.path.join(inc, "swarmrt", "error.h")).read()
    enum = text[text.index("enum swarm_error"):]
    enum = enum[:enum.index("};")]
    codes, reserved = set(), set()
    for m in re.finditer(r"\b(SWARM_E[A-Z]+)\s*=[^,}/]*,?\s*(/\*.*?\*/)?", enum, re.S):
        codes.add(m.group(1))
        if m.group(2) and "reserved" in m.group(2):
            reserved.add(m.group(1))
    return codes, reserved


def declarations(inc):
    """(name, return type, comment before it, file) for every SWARM_API."""
    out = []
    files = [os.path.join(inc, "swarmrt.h")] + sorted(
        os.path.join(inc, "swarmrt", f) for f in os.listdir(os.path.join(inc, "swarmrt")))
    for path in files:
        text = open(path).read()
        last_comment = ""
        for m in re.finditer(r"/\*.*?\*/|^(?:SWARM_NORETURN )?SWARM_API[^;(]*\b(\w+)\s*\(", text, re.S | re.M):
            if m.group(0).startswith("/*"):
                last_comment = m.group(0)
                continue
            head = m.group(0)
            rtype = head[head.index("SWARM_API") + len("SWARM_API"):head.rindex(m.group(1))].strip()
            out.append((m.group(1), rtype, last_comment, os.path.basename(path)))
    return out


def returns_clause(comment):
    i = comment.find("Returns")
    if i < 0:
        i = comment.find("returns")
        if i < 0 or "Same returns" not in comment[max(0, i - 5):i + 8]:
            return None
        i = comment.find("Same returns")
    clause = comment[i:]
    for stop in ("Context:", "*/"):
        j = clause.find(stop)
        if j >= 0:
            clause = clause[:j]
    # The clause is one sentence: it ends at the first full stop outside
    # parentheses (what follows may name other calls' codes).
    depth = 0
    for k, ch in enumerate(clause):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "." and depth == 0 and (k + 1 == len(clause) or clause[k + 1].isspace()):
            return clause[:k]
    return clause


def main():
    inc, tests = sys.argv[1], sys.argv[2]
    codes, reserved = error_codes(inc)
    decls = declarations(inc)
    problems = []
    documented = {}
    inherit = {}
    never_zero = set()  # "never 0" in the clause: a call whose success is a count or a set of bits
    for name, rtype, comment, hdr in decls:
        clause = returns_clause(comment)
        if rtype.split()[-1] != "int":
            continue
        if clause is None:
            if name not in ALLOWED_NO_RETURNS:
                problems.append(f"{hdr}: {name} returns int but its comment documents no Returns")
            continue
        listed = set(re.findall(r"\bSWARM_E[A-Z]+\b", clause)) & codes
        if "never 0" in clause:
            never_zero.add(name)
        if re.search(r"Returns 0\b|Returns 0,|\b0 or\b", clause):
            listed.add("0")
        m = re.search(r"(?:Returns|returns) (?:and context )?as (swarm_\w+)", clause)
        if m:
            inherit[name] = m.group(1)
        documented[name] = listed
    for name, parent in inherit.items():
        if parent not in documented:
            problems.append(f"{name}: returns as {parent}, which documents no returns")
            continue
        documented[name] |= documented[parent]
    for name, listed in sorted(documented.items()):
        if "0" not in listed and name not in never_zero:
            problems.append(f"{name}: its Returns clause does not list 0")

    # What the tests provoke.
    tested = {}
    for f in sorted(os.listdir(tests)):
        if not f.endswith(".c"):
            continue
        text = open(os.path.join(tests, f)).read()
        for m in re.finditer(r"\bAPI_RET\(\s*(\w+)\s*,\s*(0|SWARM_\w+)\s*,(.*?)\);", text, re.S):
            fn, code, expr = m.group(1), m.group(2), m.group(3)
            line = text.count("\n", 0, m.start()) + 1
            if fn + "(" not in expr.replace(" (", "("):
                problems.append(f"{f}:{line}: API_RET({fn}, {code}, ...) does not call {fn}")
            if fn not in documented:
                problems.append(f"{f}:{line}: API_RET for {fn}, which documents no returns")
                continue
            if code not in documented[fn]:
                problems.append(f"{f}:{line}: {fn} returned {code} in a test, "
                                "but its header does not list it")
            tested.setdefault(fn, set()).add(code)

    for name, listed in sorted(documented.items()):
        for code in sorted(listed - tested.get(name, set())):
            problems.append(f"{name} documents {code}, but no API_RET({name}, {code}, ...) "
                            "in tests/ provokes it")
    returned = set().union(*documented.values()) if documented else set()
    for code in sorted(codes - reserved - returned):
        problems.append(f"error.h: {code} is returned by no call: document who returns it "
                        "or mark it reserved")
    for code in sorted(reserved & returned):
        problems.append(f"error.h: {code} is marked reserved but a call lists it")

    for p in problems:
        print("api_doc_check:", p)
    ncodes = sum(len(v) for v in documented.values())
    if problems:
        print(f"api_doc_check: {len(problems)} problem(s)")
        return 1
    print(f"api_doc_check: {len(documented)} calls, {ncodes} documented returns, "
          "each provoked by a test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
