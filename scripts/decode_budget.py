#!/usr/bin/env python3
"""The time budget of one decode token from measurement (issue 15; results/README.md): Nsight
Compute's duration of every kernel of one eager decode step, grouped into weights (the matrix
products that stream the weights, LM head included), KV or state (the attention over the cache and
the recurrent step, which read and write the decode state) and everything else (norms, GeGLU,
embedding, argmax, elementwise), beside the step's time as one CUDA-graph replay from `griffin
bench` at the same depth: what the kernels do not account for is launch gaps and tails.

  decode_budget.py --ncu ncu.csv --steps 2 --model gemma-2b --prompt 2048 [--bench bench.h5]
      [--json out.json]

The CSV is `ncu --nvtx --nvtx-include "decode step" --metrics gpu__time_duration.sum --csv
--page raw --print-units base` over `griffin bench --decode-mode eager --decode STEPS`: every
decode step's kernels in launch order; the last step's are counted (from its embedding lookup on:
the first step may do more, a growing cache's copies).
"""
import argparse
import csv
import json
import re
import sys

CATEGORIES = [
    ("weights", re.compile(r"SkinnyLinear|gemm|gemv|nvjet|xmma|cutlass|splitKreduce", re.I)),
    ("kv_state", re.compile(r"DecodeAttention|RecurrentStep")),
]


EMBEDDING = re.compile(r"indexSelect|embedding", re.I)


def category(name):
    for label, pattern in CATEGORIES:
        if pattern.search(name):
            return label
    return "other"


def read_kernels(path):
    """[(kernel name, us)] in launch order from an ncu --csv --page raw listing."""
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        return []
    out = []
    for row in csv.DictReader(lines[start:]):
        try:
            ns = float(row.get("gpu__time_duration.sum", "").replace(",", ""))
        except ValueError:
            continue  # the units row
        out.append((row["Kernel Name"], ns / 1e3))
    return out


def graph_ms(path, prompt):
    """The batch-1 graph-decode median at `prompt` tokens from a griffin bench file, or None."""
    import h5py
    with h5py.File(path, "r") as f:
        for b, p, ms in zip(f["points/batch"][()], f["points/prompt_tokens"][()],
                            f["metrics/decode_ms_per_token"][()]):
            if b == 1 and p == prompt:
                return float(ms)
    return None


def last_step(kernels):
    """The kernels of the last decode step: from the last embedding lookup (each step's first
    kernel; the first step may run more, e.g. a growing cache's copies) to the end."""
    starts = [i for i, (name, _) in enumerate(kernels) if EMBEDDING.search(name)]
    if not starts:
        raise SystemExit("no embedding lookup among the kernels: not a decode step's listing")
    return kernels[starts[-1]:]


def budget(kernels, graph):
    step = last_step(kernels)
    sums = {"weights": 0.0, "kv_state": 0.0, "other": 0.0}
    for name, us in step:
        sums[category(name)] += us
    total = sum(sums.values())
    out = {"kernels": len(step), "kernel_ms": total / 1e3,
           **{f"{k}_ms": v / 1e3 for k, v in sums.items()}, "graph_ms": graph,
           "gaps_ms": None if graph is None else graph - total / 1e3}
    top = {}
    for name, us in step:
        key = re.sub(r"\(.*|void |griffin::|kernels::|<unnamed>::|\(anonymous namespace\)::", "",
                     name)[:70]
        top[key] = top.get(key, 0.0) + us
    out["top"] = sorted(([k, v] for k, v in top.items()), key=lambda kv: -kv[1])[:12]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ncu", required=True)
    ap.add_argument("--steps", type=int, default=2, help="decode steps profiled (the last counts)")
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", type=int, required=True)
    ap.add_argument("--bench", help="griffin bench HDF5 with the graph-decode time at --prompt")
    ap.add_argument("--json")
    args = ap.parse_args()
    graph = graph_ms(args.bench, args.prompt) if args.bench else None
    b = budget(read_kernels(args.ncu), graph)
    b.update(model=args.model, prompt=args.prompt)
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    print(f"| model | depth | graph ms/token | kernels | weights ms | KV/state ms | other ms | "
          f"gaps ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
          f"| {args.model} | {args.prompt} | {fmt(graph)} | {b['kernels']} | "
          f"{fmt(b['weights_ms'])} | {fmt(b['kv_state_ms'])} | {fmt(b['other_ms'])} | "
          f"{fmt(b['gaps_ms'])} |\n")
    print("largest kernels (us, one step): " +
          "; ".join(f"{name} {us:.1f}" for name, us in b["top"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(b, f, indent=1)


if __name__ == "__main__":
    main()
