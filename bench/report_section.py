"""bench/report_section.py - named sections of a generated markdown file.

docs/benchmarks.md has two writers: bench/run.py regenerates the whole
file, bench/io/run_io.py owns the I/O section in it. A section sits between
two HTML comments, so run.py can carry it over and run_io.py can replace
it without touching the rest:

    <!-- section io: ... -->
    ...
    <!-- end section io -->
"""
import re
from pathlib import Path


def _pattern(name):
    return re.compile(r"<!-- section %s:.*?<!-- end section %s -->\n?" % (re.escape(name), re.escape(name)),
                      re.S)


def get_section(path, name):
    """The section (markers included) from the file at path, or "" if the
    file or the section is not there."""
    p = Path(path)
    if not p.exists():
        return ""
    m = _pattern(name).search(p.read_text())
    return m.group(0) if m else ""


def put_section(path, name, title, body):
    """Write body as section name of the file at path: in place of the old
    one, or appended. title goes in the opening marker."""
    p = Path(path)
    text = p.read_text() if p.exists() else ""
    block = "<!-- section %s: %s -->\n%s\n<!-- end section %s -->\n" % (name, title, body.rstrip("\n"), name)
    pat = _pattern(name)
    if pat.search(text):
        text = pat.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    p.write_text(text)
