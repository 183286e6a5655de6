#!/usr/bin/env python3
"""Checks of scripts/bench_peers.py that need no GPU: the table divides the right griffin time by
the right peer time (by op and shape), sums the forward and backward medians for the forward +
backward comparisons (the plain scan's, and the RG-LRU's against the same peer rows), leaves a cell empty where griffin did not run, shows a refusal as such; and
a peer whose process dies before timing anything (here: no GPU, or the peer not installed) becomes
one row per shape saying so, instead of ending the run.

usage: test_bench_peers.py SOURCE_DIR PYTHON
"""
import json
import os
import subprocess
import sys
import tempfile

SOURCE, PYTHON = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SOURCE, "scripts", "bench_peers.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def bench_row(name, us):
    return {"name": f"{name}/iterations:20/manual_time", "median_us": us}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        griffin = os.path.join(tmp, "microbench.json")
        with open(griffin, "w") as f:
            json.dump({"context": {"gpu": "test GPU", "git_commit": "abc"}, "benchmarks": [
                bench_row("LinearScan/cuda/B1_T16384_D2560_bf16", 100.0),
                bench_row("LinearScan/reference/B1_T16384_D2560_bf16", 9999.0),
                bench_row("RgLruForward/cuda/B1_T16384_D2560_bf16", 300.0),
                bench_row("RgLruBackward/cuda/B1_T16384_D2560_bf16", 700.0),
                bench_row("LinearScanBackward/cuda/B1_T16384_D2560_bf16", 150.0),
            ]}, f)
        peers = os.path.join(tmp, "peers.json")
        rows = [
            {"peer": "p", "op": "scan_fwd", "shape": "B1_T16384_D2560_bf16", "status": "ok",
             "median_us": 50.0},
            {"peer": "p", "op": "scan_fwd", "shape": "B8_T16384_D2560_bf16", "status": "ok",
             "median_us": 400.0},
            {"peer": "q", "op": "scan_fwd", "shape": "B1_T16384_D2560_bf16",
             "status": "refused: seqlen must be a power of 2"},
            {"peer": "p", "op": "scan_fwd_bwd", "shape": "B1_T16384_D2560_bf16", "status": "ok",
             "median_us": 2000.0},
        ]
        with open(peers, "w") as f:
            json.dump({"rows": rows}, f)
        out = subprocess.run([PYTHON, SCRIPT, "table", "--griffin", griffin,
                              "--peers-json", peers], capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"table exits 0 ({out.stderr.strip()[-200:]})")
        lines = out.stdout.splitlines()
        row = next((l for l in lines if l.startswith("| B1 T16384 D2560 bf16 | 100.0")), "")
        # 3 tensors x 2 bytes x 41943040 elements: 100 us is 59.2% of 4.25 TB/s, 50 us 118.4%.
        check("100.0 (59.2%)" in row and "| 50.0 (118.4%) | 0.50x |" in row,
              f"scan row: griffin 100 us, peer 50 us, ratio 0.50x ({row})")
        check("refused: seqlen must be a power of 2" in row, "a refusal is shown in its cell")
        missing = next((l for l in lines if l.startswith("| B8 T16384 D2560 bf16")), "")
        check("| not run |" in missing and "| 400.0 (118.4%) |  |" in missing,
              f"no griffin row: 'not run' and no ratio ({missing})")
        fwd_bwd = next((l for l in lines if l.startswith("| B1 T16384 D2560 bf16 | 1000.0")), "")
        check("| 2000.0 | 2.00x |" in fwd_bwd,
              f"forward + backward: RG-LRU (1000 us in all) against 2000 us ({fwd_bwd})")
        # 8 tensors x 2 bytes x 41943040 elements in 250 us: 63.2% of 4.25 TB/s; 2000 us: 7.9%.
        plain = next((l for l in lines if l.startswith("| B1 T16384 D2560 bf16 | 250.0")), "")
        check("250.0 (63.2%)" in plain and "| 2000.0 (7.9%) | 8.00x |" in plain,
              f"forward + backward: plain scan (100 + 150 us) against 2000 us ({plain})")

        # A worker that cannot start (no accelerated_scan here, no GPU) costs a row per shape.
        out_json = os.path.join(tmp, "run.json")
        env = dict(os.environ, PYTHONPATH="", CUDA_VISIBLE_DEVICES="")
        run = subprocess.run([PYTHON, SCRIPT, "run", "--griffin", griffin, "--out", out_json,
                              "--peers", "accelerated-scan triton", "--ops", "scan_fwd",
                              "--timeout", "120"], capture_output=True, text=True, timeout=300,
                             env=env)
        check(run.returncode == 0, f"run exits 0 ({run.stderr.strip()[-200:]})")
        with open(out_json) as f:
            got = json.load(f)["rows"]
        check(len(got) == 8 and all(r["status"].startswith("unavailable") for r in got),
              f"8 shapes, each 'unavailable' ({[r['status'][:40] for r in got]})")
        bad = subprocess.run([PYTHON, SCRIPT, "run", "--griffin", griffin, "--out", out_json,
                              "--peers", "no-such-peer"], capture_output=True, text=True,
                             timeout=60)
        check(bad.returncode != 0 and "unknown peer 'no-such-peer'" in bad.stderr,
              "an unknown peer is an error naming it")

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
