#!/usr/bin/env python3
"""Scale-out of `griffin run` on the GPUs of one host, launched as README.md's "Several GPUs and
hosts" says (torchrun --standalone --nproc-per-node=N --no-python griffin run ...), NVLink
multicast off in every launch:

  sweep  the same recall sweep on each count of GPUs: wall time of the launch, points per hour and
         the efficiency against one GPU (points per hour / (N x one GPU's)).
  data   one recall model trained data-parallel (experiments/dp_step.toml) on each count, with the
         same sequences per rank (weak scaling: train.batch = 8 x N): the median step, tokens/s,
         the efficiency against one GPU, and the time a step of N ranks takes beyond the step of
         one rank's group (the gradients' all-reduce and the wait for the slowest rank, where the
         backward does not hide them) with its share of the step. The same point trained without a
         launcher gives what the group of one itself costs.
  fault  the sweep on the largest count (at least two ranks; they share a GPU when the host has
         fewer), rank 1 SIGKILLed once a point is finished, then the same launch with --resume:
         how many points the journals kept, how many the resumed launch ran, and whether the
         file equals the clean run's (scripts/compare_run_files.py).

Writes DIR/scale_out.json and DIR/scale_out.md (the tables) and leaves every run's folder in DIR.

usage: scale_out.py --griffin BIN --out DIR [--gpus 1,2,4,8] [--what sweep,data,fault]
                    [--sweep-config experiments/mqar.toml] [--sweep-set KEY=VALUE ...]
                    [--data-steps N] [--data-set KEY=VALUE ...] [--timeout SECONDS]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch_ranks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")
DATA_CONFIG = os.path.join(ROOT, "experiments", "dp_step.toml")
SEQUENCES_PER_RANK = 8  # dp_step.toml's train.batch
PROGRESS = re.compile(r"\[run\] (\d+)/(\d+) done")


def log(message):
    print(f"[scale-out] {message}", flush=True)


def sets(pairs):
    return [a for kv in pairs for a in ("--set", kv)]


def launch(args, ranks, config, out, extra=(), alone=False):
    """Runs one launch (or, `alone`, one process without a launcher); returns (exit status,
    wall seconds, the tail of its stderr)."""
    cmd = [args.griffin, "run", config, "--out", out, *extra] if alone else \
        launch_ranks.launch_line(TORCHRUN, args.griffin, ranks, config, "--out", out, *extra)
    log(" ".join(cmd))
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, env=launch_ranks.launch_env(),
                       timeout=args.timeout)
    wall = time.monotonic() - start
    with open(os.path.join(out + ".log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        log(f"exit {r.returncode}: {r.stderr[-800:]}")
    return r.returncode, wall, r.stderr[-800:]


def run_file(out):
    names = [n for n in os.listdir(out) if n.endswith(".h5")]
    return os.path.join(out, names[0]) if len(names) == 1 else None


def metrics(path):
    with h5py.File(path, "r") as f:
        status = [s.decode() if isinstance(s, bytes) else s for s in f["points/status"][()]]
        return status, {k: f["metrics"][k][()] for k in f["metrics"]}


def sweep(args):
    rows = []
    for n in args.gpus:
        out = os.path.join(args.out, f"sweep-{n}")
        code, wall, tail = launch(args, n, args.sweep_config, out, sets(args.sweep_set))
        path = run_file(out) if code == 0 else None
        status, _ = metrics(path) if path else ([], {})
        ok = sum(s == "ok" for s in status)
        rows.append({"gpus": n, "exit": code, "wall_s": wall, "points": len(status),
                     "points_ok": ok, "points_per_hour": ok / wall * 3600 if ok else None,
                     "error": "" if code == 0 else tail})
    base = next((r for r in rows if r["gpus"] == 1 and r["points_per_hour"]), None)
    for r in rows:
        r["efficiency"] = r["points_per_hour"] / (r["gpus"] * base["points_per_hour"]) \
            if base and r["points_per_hour"] else None
    return rows


def data(args):
    def step(out, ranks, parallel, alone=False):
        extra = [f"train.batch={SEQUENCES_PER_RANK * ranks}", f"train.steps={args.data_steps}",
                 f"train.checkpoint_every={args.data_steps}", f"train.eval_every={args.data_steps}"]
        if parallel:
            extra.append('train.parallel="data"')
        extra += args.data_set
        code, wall, tail = launch(args, ranks, DATA_CONFIG, out, sets(extra), alone=alone)
        path = run_file(out) if code == 0 else None
        if not path:
            return {"exit": code, "error": tail}
        status, m = metrics(path)
        return {"exit": code, "wall_s": wall, "status": status[0],
                "step_ms": float(m["train_step_ms"][0]),
                "tokens_per_s": float(m["train_tokens_per_s"][0]),
                "parameters": int(m["parameters"][0]), "error": ""}

    alone = step(os.path.join(args.out, "data-alone"), 1, False, alone=True)
    rows = []
    for n in args.gpus:
        r = step(os.path.join(args.out, f"data-{n}"), n, True)
        rows.append(dict(r, gpus=n, batch=SEQUENCES_PER_RANK * n))
    one = next((r for r in rows if r["gpus"] == 1 and "step_ms" in r), None)
    for r in rows:
        if one and "step_ms" in r:
            r["efficiency"] = r["tokens_per_s"] / (r["gpus"] * one["tokens_per_s"])
            r["beyond_one_ms"] = r["step_ms"] - one["step_ms"]
            r["beyond_one_share"] = r["beyond_one_ms"] / r["step_ms"]
    return {"alone": alone, "rows": rows}


def fault(args, reference):
    ranks = max(2, max(args.gpus))
    out = os.path.join(args.out, "fault")
    cmd = launch_ranks.launch_line(TORCHRUN, args.griffin, ranks, args.sweep_config, "--out", out,
                                   *sets(args.sweep_set))
    log(" ".join(cmd) + "   (rank 1 is killed after the first finished point)")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=launch_ranks.launch_env())
    finished, total, killed = 0, 0, False
    for line in p.stderr:
        m = PROGRESS.search(line)
        if m:
            finished, total = int(m.group(1)), int(m.group(2))
        if finished >= 1 and not killed:
            pids = launch_ranks.ranks_of(p.pid)
            if 1 in pids:
                os.kill(pids[1], signal.SIGKILL)
                killed = True
                log(f"rank 1 (pid {pids[1]}) killed after {finished} point(s)")
    p.wait(timeout=300)
    code, wall, tail = launch(args, ranks, args.sweep_config, out, [*sets(args.sweep_set),
                                                                    "--resume"])
    left = re.search(r"\[run\] (\d+) of (\d+) points left", open(out + ".log").read())
    same = None
    if code == 0 and reference:
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare_run_files.py"),
                            reference, run_file(out)], capture_output=True, text=True)
        same = r.returncode == 0
        if not same:
            log(r.stdout[-800:])
    return {"ranks": ranks, "gpus_on_host": max(args.gpus), "killed": killed,
            "finished_before_kill": finished, "points": total,
            "resumed_points": int(left.group(1)) if left else None, "launch_exit": p.returncode,
            "resume_exit": code, "same_as_clean_run": same, "error": "" if code == 0 else tail}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def tables(result):
    lines = []
    if "sweep" in result:
        lines += ["Sweep throughput", "", "| GPUs | points | wall s | points/hour | efficiency |",
                  "| ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r['gpus']} | {r['points_ok']}/{r['points']} | {r['wall_s']:.1f} | "
                  f"{fmt(r['points_per_hour'], ',.0f')} | {fmt(r['efficiency'], '.2f')} |"
                  for r in result["sweep"]]
        lines.append("")
    if "data" in result:
        a = result["data"]["alone"]
        lines += ["Data-parallel step (weak scaling, 8 sequences per rank)", "",
                  "| GPUs | global batch | step ms | tokens/s | efficiency | beyond one rank's "
                  "group ms | share of the step |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r['gpus']} | {r['batch']} | {fmt(r.get('step_ms'), '.1f')} | "
                  f"{fmt(r.get('tokens_per_s'), ',.0f')} | {fmt(r.get('efficiency'), '.2f')} | "
                  f"{fmt(r.get('beyond_one_ms'), '.1f')} | "
                  f"{fmt(r.get('beyond_one_share'), '.1%')} |"
                  for r in result["data"]["rows"]]
        lines += ["", f"Without a launcher (no group): {fmt(a.get('step_ms'), '.1f')} ms a step, "
                  f"{fmt(a.get('tokens_per_s'), ',.0f')} tokens/s, "
                  f"{fmt(a.get('parameters'), ',')} parameters.", ""]
    if "fault" in result:
        f = result["fault"]
        lines += ["Fault", "", f"{f['ranks']} ranks on {f['gpus_on_host']} GPU(s); rank 1 killed "
                  f"after {f['finished_before_kill']} of {f['points']} points (launch exit "
                  f"{f['launch_exit']}); --resume ran the {f['resumed_points']} point(s) no "
                  "journal held (exit "
                  f"{f['resume_exit']}); the file equals the clean run's: {f['same_as_clean_run']}."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--griffin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--gpus", default="1", help="counts of GPUs, e.g. 1,2,4,8")
    ap.add_argument("--what", default="sweep,data,fault")
    ap.add_argument("--sweep-config", default=os.path.join(ROOT, "experiments", "mqar.toml"))
    ap.add_argument("--sweep-set", action="append", default=[])
    ap.add_argument("--data-steps", type=int, default=40)
    ap.add_argument("--data-set", action="append", default=[],
                    help="more --set overrides of dp_step.toml (e.g. a CPU smoke run)")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    args.gpus = [int(x) for x in args.gpus.split(",")]
    what = args.what.split(",")
    unknown = set(what) - {"sweep", "data", "fault"}
    if unknown:
        sys.exit(f"--what: unknown {sorted(unknown)} (sweep, data, fault)")
    os.makedirs(args.out, exist_ok=True)
    result = {"gpus": args.gpus, "sweep_config": args.sweep_config, "sweep_set": args.sweep_set}
    if "sweep" in what:
        result["sweep"] = sweep(args)
    if "data" in what:
        result["data"] = data(args)
    if "fault" in what:
        one = os.path.join(args.out, f"sweep-{args.gpus[0]}")
        result["fault"] = fault(args, run_file(one) if os.path.isdir(one) else None)
    with open(os.path.join(args.out, "scale_out.json"), "w") as f:
        json.dump(result, f, indent=1, default=lambda x: x.item() if isinstance(x, np.generic)
                  else str(x))
    text = tables(result)
    with open(os.path.join(args.out, "scale_out.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
