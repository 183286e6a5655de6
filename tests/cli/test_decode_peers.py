#!/usr/bin/env python3
"""Checks of scripts/decode_peers.py that need no GPU: the table puts griffin's batch-1 decode and
prefill medians (read from a `griffin bench` HDF5 file) beside the peers' rows of the same model
and prompt, divides the right numbers (peer / griffin, griffin / GEMV chain), leaves a cell empty
where a side did not run, and a peer whose process dies before timing anything (here: no GPU)
becomes a row saying so instead of ending the run, MODEL:PEER+PEER limits a model to those peers
and an unknown one is refused by name.

usage: test_decode_peers.py SOURCE_DIR PYTHON
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SOURCE, PYTHON = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SOURCE, "scripts", "decode_peers.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def write_bench(path):
    """A griffin bench file: batch 1 at 2048 and 8192 tokens, and a batch-8 point to ignore."""
    with h5py.File(path, "w") as f:
        f.attrs["decode_mode"] = "graph"
        f["points/batch"] = np.array([1, 1, 8], dtype=np.int64)
        f["points/prompt_tokens"] = np.array([2048, 8192, 2048], dtype=np.int64)
        f["metrics/decode_ms_per_token"] = np.array([2.0, 2.5, 9.0])
        f["metrics/prefill_ms"] = np.array([20.0, 80.0, 900.0])


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bench = os.path.join(tmp, "bench.h5")
        write_bench(bench)
        peers = os.path.join(tmp, "peers.json")
        results = [
            {"peer": "chain", "model": "gemma-2b", "status": "ok", "chain_ms": 1.6,
             "ceiling_ms": 1.2, "weight_bytes": 5, "products": 3, "torch": "2.11.0"},
            {"peer": "hf", "model": "gemma-2b", "status": "ok", "transformers": "9.9",
             "torch": "2.11.0", "rows": [
                 {"prompt": 2048, "prefill_ms": 30.0, "decode_ms": 3.0, "decode_p90_ms": 3.1}]},
            {"peer": "hf", "model": "recurrentgemma-2b", "status": "failed (exit 1): no GPU"},
        ]
        with open(peers, "w") as f:
            json.dump({"results": results}, f)
        out = subprocess.run([PYTHON, SCRIPT, "table", "--peers-json", peers, "--griffin",
                              f"gemma-2b={bench}"], capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, f"table exits 0 ({out.stderr.strip()[-300:]})")
        lines = out.stdout.splitlines()
        row = next((l for l in lines if l.startswith("| gemma-2b | 2048 |")), "")
        cells = [c.strip() for c in row.split("|")[1:-1]]
        check(cells[2:5] == ["2.000", "3.000", "1.50"],
              f"2048: griffin 2.000, HF 3.000, HF / griffin 1.50 ({cells})")
        check(cells[5:8] == ["1.600", "1.200", "1.25"],
              f"2048: the chain 1.600, the ceiling 1.200, griffin / chain 1.25 ({cells})")
        check(cells[8:11] == ["20.0", "30.0", "1.50"], f"2048: prefill 20.0 / 30.0 ({cells})")
        row = next((l for l in lines if l.startswith("| gemma-2b | 8192 |")), "")
        cells = [c.strip() for c in row.split("|")[1:-1]]
        check(cells[2:5] == ["2.500", "-", "-"], f"8192: no HF row leaves its cells empty ({cells})")
        check(not any(l.startswith("| gemma-2b | 2048 |") and "9.000" in l for l in lines),
              "the batch-8 point is not a batch-1 row")
        check(any("recurrentgemma-2b: failed (exit 1): no GPU" in l for l in lines),
              "a failed peer is named with its reason")

        # A peer that cannot start (no GPU here) is a row, and the run goes on and exits 0.
        out_json = os.path.join(tmp, "run.json")
        run = subprocess.run([PYTHON, SCRIPT, "run", "--models", "gemma-2b", "--peers", "chain",
                              "--out", out_json, "--timeout", "120"],
                             capture_output=True, text=True, timeout=300)
        check(run.returncode == 0, f"run exits 0 with a failing peer ({run.stderr[-300:]})")
        with open(out_json) as f:
            rows = json.load(f)["results"]
        check(len(rows) == 1 and rows[0]["status"].startswith("failed"),
              f"the failing peer's row says so ({rows})")

        # MODEL:PEER+PEER runs only those peers for that model; the others take --peers.
        run = subprocess.run([PYTHON, SCRIPT, "run", "--models", "gemma-2b,gemma-7b:chain",
                              "--peers", "chain,hf", "--out", out_json, "--timeout", "120"],
                             capture_output=True, text=True, timeout=600)
        with open(out_json) as f:
            ran = sorted((r["model"], r["peer"]) for r in json.load(f)["results"])
        check(run.returncode == 0 and ran == [("gemma-2b", "chain"), ("gemma-2b", "hf"),
                                              ("gemma-7b", "chain")],
              f"gemma-7b:chain runs the chain only ({ran})")
        bad = subprocess.run([PYTHON, SCRIPT, "run", "--models", "gemma-7b:chain+gemv",
                              "--out", out_json], capture_output=True, text=True, timeout=60)
        check(bad.returncode != 0 and "gemma-7b:chain+gemv: unknown gemv" in bad.stderr,
              f"an unknown peer is named ({bad.stderr.strip()[-200:]})")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
