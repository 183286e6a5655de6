#!/usr/bin/env python3
"""The training-step table of scripts/device-run.sh (GRIFFIN_TRAIN_BENCH=1): `griffin run
experiments/train_step.toml` against its PyTorch peer (scripts/train_step_peer.py), and where
each one's step goes.

  train_step_table.py DIR > table.md

DIR holds what device-run.sh wrote there:
  griffin-1.log, griffin-2.log   griffin run's progress (graph steps), before and after the peers
  griffin-eager.log              the same with train.graph=false
  peer-SCAN.json                 train_step_peer.py's result per scan kernel
  ncu-griffin.csv, ncu-peer.csv  Nsight Compute's kernel list (gpu__time_duration.sum, one row
                                 per kernel) of NCU_STEPS eager steps of each inside NVTX ranges
                                 "train step"

Time per step: griffin run prints the mean wall time per step over each 50 steps (steps are not
synchronised one by one) and the device's own time per step (CUDA events around each step); the
first interval holds the two eager warm-up steps and the capture, so the table gives the median of
the others. The breakdown: kernels = the sum of each kernel's own duration as Nsight Compute
serialises them (no overlap, no launch gaps); device - kernels = the device's waits between
kernels inside a step; wall - device = the device waiting on the host between steps (host
stalls); eager - graph = the host's dispatch cost, in the eager column.
"""
import csv
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

NCU_STEPS = 2  # eager steps inside the NVTX ranges (device-run.sh passes the same)
STEP_LINE = re.compile(r"step (\d+)/(\d+): .* ([0-9.]+) ms/step")
DEVICE_LINE = re.compile(r"ms/step \(([0-9.]+) on the device\)")


def harness_ms(log: Path, pattern=STEP_LINE, group=3):
    """Median ms/step over the intervals after the first, or None."""
    return median_step_ms(log.read_text(), pattern, group) if log.exists() else None


def median_step_ms(text: str, pattern=STEP_LINE, group=3):
    """harness_ms of a log's text (papers/ read the logs kept in train-step-runs.json)."""
    values = [float(m.group(group)) for m in pattern.finditer(text)]
    later = values[1:] or values
    return statistics.median(later) if later else None


def mean_of(values):
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


def kernels(path: Path):
    """{kernel name: [durations in us]} from an ncu --csv --page raw listing."""
    out = defaultdict(list)
    if not path.exists():
        return out
    lines = path.read_text(errors="replace").splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        return out
    rows = csv.DictReader(lines[start:])
    for row in rows:
        value = row.get("gpu__time_duration.sum", "")
        try:
            ns = float(value.replace(",", ""))
        except ValueError:
            continue  # the units row
        out[row["Kernel Name"]].append(ns / 1e3)
    return out


def short(name: str, width: int = 90) -> str:
    name = re.sub(r"\s+", " ", name)
    return name if len(name) <= width else name[: width - 3] + "..."


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    d = Path(sys.argv[1])
    runs = []
    g1, g2 = harness_ms(d / "griffin-1.log"), harness_ms(d / "griffin-2.log")
    device = mean_of([harness_ms(d / f"griffin-{k}.log", DEVICE_LINE, 1) for k in (1, 2)])
    runs.append(("griffin run (harness)", mean_of([g1, g2]), device,
                 harness_ms(d / "griffin-eager.log"), kernels(d / "ncu-griffin.csv")))
    peers = sorted(d.glob("peer-*.json"))
    for p in peers:
        r = json.loads(p.read_text())
        # The peer's time is CUDA events around blocks of back-to-back replays (the host only
        # queues copies and replays between them): taken as its device time, so its host-stall
        # column is 0 by construction.
        runs.append((r["peer"], r["graph_ms_per_step"], r["graph_ms_per_step"],
                     r["eager_ms_per_step"],
                     kernels(d / "ncu-peer.csv") if p.stem == "peer-fla" else None))
    best_peer = min((r[1] for r in runs[1:] if r[1] is not None), default=None)
    print("| step | graph ms/step | on the device | kernels/step | kernel time ms/step (ncu) | "
          "device waits between kernels | host stalls (graph - device) | eager ms/step | "
          "peer / griffin |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, graph, on_device, eager, ks in runs:
        count = total = None
        if ks:
            count = sum(len(v) for v in ks.values()) / NCU_STEPS
            total = sum(sum(v) for v in ks.values()) / NCU_STEPS / 1e3
        waits = on_device - total if on_device is not None and total is not None else None
        stalls = graph - on_device if graph is not None and on_device is not None else None
        ratio = best_peer / graph if name.startswith("griffin") and graph and best_peer else None
        print(f"| {name} | {fmt(graph, 3)} | {fmt(on_device, 3)} | {fmt(count, 0)} "
              f"| {fmt(total, 3)} | {fmt(waits, 3)} | {fmt(stalls, 3)} | {fmt(eager, 3)} "
              f"| {fmt(ratio)} |")
    if g1 is not None and g2 is not None:
        print(f"\ngriffin run before the peers: {g1:.3f} ms/step, after: {g2:.3f} ms/step.")
    for name, _, _, _, ks in runs:
        if not ks:
            continue
        total = sum(sum(v) for v in ks.values())
        print(f"\nKernels of one step of {name}, by time (Nsight Compute, {NCU_STEPS} eager steps):\n")
        print("| kernel | launches/step | us/step | share |")
        print("| --- | ---: | ---: | ---: |")
        for k, v in sorted(ks.items(), key=lambda kv: -sum(kv[1]))[:25]:
            print(f"| `{short(k)}` | {len(v) / NCU_STEPS:.0f} | {sum(v) / NCU_STEPS:.1f} | "
                  f"{100 * sum(v) / total:.1f}% |")


if __name__ == "__main__":
    main()
