#!/usr/bin/env python3
"""scripts/scale_out.py on the CPU (Gloo), one and two ranks: the sweep's throughput rows, the
data-parallel step of experiments/dp_step.toml shrunk to a CPU-sized model, and the fault run (rank
1 killed after a finished point, the launch resumed) giving the clean run's file. The H200 and
multi-GPU runs use the same script (results/README.md, "Scale-out on one H200").

usage: test_scale_out.py GRIFFIN_BINARY SOURCE_DIR PYTHON
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_recall  # noqa: E402

GRIFFIN, SOURCE, PYTHON = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []

SWEEP = tiny_recall.RECALL.format(steps=40)
# dp_step.toml's shape of run on the CPU: a 3-layer model of width 64 over 256 tokens.
CPU_DATA = ['run.device="cpu"', 'run.scan="reference"', 'run.conv="reference"',
            'run.dtype="float32"', "task.seq_len=256", "task.pairs=16", "train.warmup=1",
            'models.griffin="preset:tiny-griffin,layers=3,pattern=RRA,width=64,lru_width=64,'
            'heads=2,head_dim=32,mlp_width=128,window=16"']


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "sweep.toml")
        with open(cfg, "w") as f:
            f.write(SWEEP)
        out = os.path.join(tmp, "scale")
        cmd = [PYTHON, os.path.join(SOURCE, "scripts", "scale_out.py"), "--griffin", GRIFFIN,
               "--out", out, "--gpus", "1,2", "--sweep-config", cfg, "--data-steps", "3",
               "--timeout", "600"]
        for kv in CPU_DATA:
            cmd += ["--data-set", kv]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        check(r.returncode == 0, "scale_out.py runs sweep, data and fault" + r.stderr[-800:])
        with open(os.path.join(out, "scale_out.json")) as f:
            result = json.load(f)
        sweep = {row["gpus"]: row for row in result["sweep"]}
        check(all(row["points_ok"] == row["points"] == 6 for row in sweep.values()) and
              sweep[1]["efficiency"] == 1.0 and sweep[2]["efficiency"] > 0,
              f"the sweep ran every point on 1 and 2 ranks, efficiency against one ({sweep})")
        data = {row["gpus"]: row for row in result["data"]["rows"]}
        check(result["data"]["alone"].get("step_ms", 0) > 0 and
              all(data[n].get("step_ms", 0) > 0 and data[n]["batch"] == 8 * n for n in (1, 2)) and
              data[1]["beyond_one_ms"] == 0,
              f"the data-parallel step at 8 sequences per rank, and without a launcher ({data})")
        fault = result["fault"]
        check(fault["killed"] and fault["launch_exit"] != 0 and fault["resume_exit"] == 0 and
              fault["same_as_clean_run"] is True and
              fault["resumed_points"] <= fault["points"] - fault["finished_before_kill"],
              f"rank 1 killed, the launch resumed to the clean run's file ({fault})")
        with open(os.path.join(out, "scale_out.md")) as f:
            table = f.read()
        check("| 2 |" in table and "the file equals the clean run's: True" in table,
              "the tables are written")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
