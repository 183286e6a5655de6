#!/usr/bin/env python3
"""Checks of scripts/gtest_times.py: it reads GoogleTest's JSON reports (the layout GTEST_OUTPUT=
json:DIR/ writes, one per binary), orders the binaries and the cases by time, and an empty folder
is a clear error with a non-zero exit.

usage: test_gtest_times.py SOURCE_DIR PYTHON
"""
import json
import os
import subprocess
import sys
import tempfile

SOURCE, PYTHON = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SOURCE, "scripts", "gtest_times.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def report(total, suites):
    return {"tests": sum(len(c) for c in suites.values()), "time": f"{total}s",
            "testsuites": [{"name": name, "testsuite": [{"name": n, "time": f"{t}s"} for n, t in cases]}
                           for name, cases in suites.items()]}


with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "fast_gpu_test.json"), "w") as f:
        json.dump(report(1.5, {"Fast": [("A", 0.5), ("B", 1.0)]}), f)
    with open(os.path.join(d, "slow_gpu_test.json"), "w") as f:
        json.dump(report(9.25, {"Slow": [("Big", 8.0)], "Param/Slow": [("Small/3", 1.25)]}), f)
    out = subprocess.run([PYTHON, SCRIPT, d, "--top", "3"], capture_output=True, text=True)
    check(out.returncode == 0, f"runs (exit {out.returncode}: {out.stderr.strip()})")
    lines = out.stdout.splitlines()
    binaries = [l for l in lines if l.startswith("| ") and "_gpu_test |" in l]
    check(binaries == ["| slow_gpu_test | 2 | 9.25 |", "| fast_gpu_test | 2 | 1.50 |"],
          f"binaries by time, with their case counts: {binaries}")
    cases = [l for l in lines if "_gpu_test: " in l]
    check(cases == ["| slow_gpu_test: Slow.Big | 8.00 |", "| slow_gpu_test: Param/Slow.Small/3 | 1.25 |",
                    "| fast_gpu_test: Fast.B | 1.00 |"], f"the three slowest cases, named by binary: {cases}")

with tempfile.TemporaryDirectory() as d:
    out = subprocess.run([PYTHON, SCRIPT, d], capture_output=True, text=True)
    check(out.returncode != 0 and "no GoogleTest JSON reports" in out.stderr,
          f"an empty folder is an error naming it (exit {out.returncode}: {out.stderr.strip()})")

sys.exit(1 if failures else 0)
