#!/usr/bin/python3
"""Counts test cases from meson's testlog.json files and prints the closing line
'tests: N passed, N failed, N skipped' that CI reads. Each TAP line of a test is one
case (for pytest, each PASSED/FAILED/ERROR line of its -rA summary; SKIPPED [N] is N
cases); a test that exits 77 is one skipped case; a test that failed without a failing
TAP line (a crash, a leak report at exit) counts as one failed case."""
import json
import re
import sys


def count(path):
    passed = failed = skipped = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            result = t.get("result", "")
            out = t.get("stdout") or ""
            ok = len(re.findall(r"^ok \d+(?! # SKIP)", out, re.M))
            skip = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
            bad = len(re.findall(r"^not ok \d+", out, re.M))
            if ok + skip + bad == 0:  # pytest -rA: one result line per case, skips grouped
                ok = len(re.findall(r"^(?:PASSED|XFAIL|XPASS) \S+::", out, re.M))
                skip = sum(int(n) for n in re.findall(r"^SKIPPED \[(\d+)\] ", out, re.M))
                bad = len(re.findall(r"^(?:FAILED|ERROR) \S+", out, re.M))
            if result == "SKIP":
                skipped += 1
                continue
            passed += ok
            skipped += skip
            failed += bad
            if result not in ("OK", "EXPECTEDFAIL") and bad == 0:
                failed += 1
            if result == "OK" and ok + skip + bad == 0:
                passed += 1
    return passed, failed, skipped


def main():
    totals = [0, 0, 0]
    for path in sys.argv[1:]:
        for i, n in enumerate(count(path)):
            totals[i] += n
    print("tests: %d passed, %d failed, %d skipped" % tuple(totals))


if __name__ == "__main__":
    main()
