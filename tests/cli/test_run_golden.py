#!/usr/bin/env python3
"""`griffin run` gives the same results as the kept run files: the quickstart (contexts 8-64, one
timed repeat) and a small recall sweep, rerun and compared with scripts/compare_run_files.py
(every dataset and attribute but provenance and clock readings). This is how a refactor of the
experiment layer shows that it changed no result. When a change is meant to change results, rerun
with --update, which rewrites the kept files, and say why in the commit.

usage: test_run_golden.py GRIFFIN_BINARY SOURCE_DIR PYTHON [--update]
"""
import os
import shutil
import subprocess
import sys
import tempfile

GRIFFIN, SOURCE, PYTHON = sys.argv[1], sys.argv[2], sys.argv[3]
UPDATE = "--update" in sys.argv[4:]
GOLDEN = os.path.join(SOURCE, "tests", "data", "run_golden")
# kept file -> (run arguments, the file the run writes, rtol). Training compounds the last bits
# that CPUs of different makes give the same ops (MKL's and ATen's vectorised paths): the recall
# sweep's losses and gradient norms written on the previous machine and rerun on an AMD EPYC
# (2026-12-02) differ by up to 1e-7 relative, at the same commit; a forward pass does not.
RUNS = {
    "quickstart_small.h5": ([os.path.join(SOURCE, "experiments", "quickstart.toml"), "--set",
                             "sweep.context=[8, 16, 32, 64]", "--set", "latency.repeats=1",
                             "--set", "latency.decode_tokens=4"], "quickstart.h5", "1e-9"),
    "recall_small.h5": ([os.path.join(GOLDEN, "recall_small.toml")], "recall.h5", "1e-5"),
}

failures = 0
with tempfile.TemporaryDirectory() as tmp:
    for kept, (args, written, rtol) in RUNS.items():
        out = os.path.join(tmp, kept)
        r = subprocess.run([GRIFFIN, "run", *args, "--out", out], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            print(f"FAIL griffin run for {kept}: exit {r.returncode}\n{r.stderr[-1000:]}")
            failures += 1
            continue
        actual = os.path.join(out, written)
        if UPDATE:
            shutil.copyfile(actual, os.path.join(GOLDEN, kept))
            print(f"updated {kept}")
            continue
        c = subprocess.run([PYTHON, os.path.join(SOURCE, "scripts", "compare_run_files.py"),
                            os.path.join(GOLDEN, kept), actual, "--rtol", rtol],
                           capture_output=True, text=True,
                           timeout=120)
        print(("ok   " if c.returncode == 0 else "FAIL ") + kept + "\n" + c.stdout.strip())
        failures += c.returncode != 0
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
