"""Every number, table, claim verdict and figure of papers/griffin-vs-transformer, read from the
committed result files (scripts/make_paper.py fills paper.md.in with them). Each value records the
file and the key it came from; the appendix of the paper lists them all."""
import json
import math
import os
import re
import statistics
import tomllib

import h5py
import numpy as np

from make_paper import ROOT, PaperError, Values
import bench_peers
import plot_recall
import plot_run
import train_step_table

H = "h200/"
MEMORY = H + "2026-12-02-memory_2b.h5"
LATENCY = H + "2026-12-02-latency_2b-graph.h5"
BENCH = H + "2026-12-02-decode-bench-{}-e183029.h5"
BUDGET = H + "2026-12-02-decode-budget-{}-{}.json"
DECODE_PEERS = H + "2026-12-02-decode-peers-e183029.json"
RECALL = H + "2026-11-29-recall_distance.h5"
MQAR = H + "2026-11-29-mqar.h5"
MQAR_RANDOM = H + "2026-11-29-mqar-random-filler.h5"
# Zoology's protocol for the Transformer at the widths it left unsolved (issue 18): two calls,
# three of the four learning rates of its grid, 25,000 steps each.
ZOOLOGY = [H + "2026-12-02-mqar_zoology-lr0.0022-2587fbb.h5",
           H + "2026-12-02-mqar_zoology-lr0.00046-0.01-2587fbb.h5"]
TRAIN_RUNS = H + "2026-12-01-train-step-runs.json"
TRAIN_COMMIT = "a5e0442"
NCCL_LOG = H + "2026-12-02-ranks-cuda-f7b793a.log"
SCALE_OUT = H + "2026-12-02-scale-out-2587fbb/scale_out.json"
CEILING_SOURCE = "bench/bench_util.h"

RG, GEMMA = "recurrentgemma-2b", "gemma-2b"
BUDGET_DEPTHS = (2048, 131072)
# The newest same-call comparison of each kernel with its strongest public peer: (op, peer,
# griffin microbenchmark JSON, peers JSON), both from one device call (results/README.md).
KERNEL_CALLS = [
    ("scan_fwd", "accelerated-scan triton", "2026-12-02-kernels-lane-vectors-e613180.json",
     "2026-12-02-peers-e613180.json"),
    ("scan_fwd_bwd", "accelerated-scan triton", "2026-12-02-kernels-lane-vectors-e613180.json",
     "2026-12-02-peers-e613180.json"),
    ("rglru_fwd_bwd", "accelerated-scan triton", "2026-12-02-kernels-rglru-fast-math-fe96ddc.json",
     "2026-12-02-peers-fe96ddc.json"),
    ("conv1d_fwd", "causal-conv1d", "2026-12-02-kernels-loads-in-flight-cbeaec3.json",
     "2026-12-02-peers-cbeaec3.json"),
    ("conv1d_bwd", "causal-conv1d", "2026-12-02-kernels-rglru-staged-61e2d82.json",
     "2026-12-02-peers-61e2d82.json"),
]
OP_NAMES = {"scan_fwd": "linear scan, forward", "scan_fwd_bwd": "linear scan, forward + backward",
            "rglru_fwd_bwd": "RG-LRU (gates in-kernel), forward + backward",
            "conv1d_fwd": "Conv1D (width 4), forward", "conv1d_bwd": "Conv1D (width 4), backward"}

# Where results/README.md keeps each file's device call (scripts/device-run.sh and its toggles),
# checked to exist when the paper is built.
ISSUE15 = "Issue 15's measurement"
DECODE = "Decode at 2.4-2.6 ms/token"
RECALL_RUNS = "Recall, trained from scratch"
LOADS = "Loads in flight"
RGLRU_CALL = "RG-LRU 2.4-2.9x faster backward"
TRAIN_CALL = "Training step at 1.95x its PyTorch peer"
NCCL_CALL = "The NCCL path on one H200"
SCALE_CALL = "Scale-out on one H200"
# The share of the copy ceiling a decode kernel that streams a cache should reach: issue 15's
# target for them (bench/README.md), the yardstick Gemma's growth with depth is set against.
KV_READ_SHARE = 0.85

REQUIRED_CLAIMS = ["RG-1", "RG-2", "RG-3", "RG-4", "RG-5", "RG-6", "G-1", "G-2", "G-3", "G-4",
                   "G-5", "G-6", "G-7", "G-8", "Z-1", "Z-2", "B-1"]


def src(rel):
    return "results/" + rel


def text_attr(v):
    return v.decode() if isinstance(v, bytes) else v


def read_run(results, rel):
    """{column: array} of one `griffin run` file's points, metrics and series, and its config."""
    with h5py.File(os.path.join(results, rel), "r") as f:
        cols = {}
        for group in ("points", "metrics", "series"):
            for name, ds in f.get(group, {}).items():
                v = ds[()]
                cols[name] = np.array(plot_run.text(v)) if v.dtype.kind == "O" else v
        config = tomllib.loads(text_attr(f["meta/config_toml"][()]))
        meta = {k: text_attr(v) for k, v in f.attrs.items()}
    return cols, config, meta


def read_bench(results, model):
    with h5py.File(os.path.join(results, BENCH.format(model)), "r") as f:
        return {k: f[g][k][()] for g in ("points", "metrics") for k in f[g]}


def ms(x, digits=2):
    return f"{x:.{digits}f}"


def span(xs, scale=1, unit="", digits=0):
    """'low-high' of `xs` (one value when they round alike)."""
    low, high = f"{min(xs) * scale:.{digits}f}", f"{max(xs) * scale:.{digits}f}"
    return f"{low}{unit}" if low == high else f"{low}-{high}{unit}"


# --- memory per token


def memory(v, results):
    c, config, meta = read_run(results, MEMORY)
    ok = c["status"] == "ok"
    v.put("memory_commit", meta["git_commit"], src(MEMORY), "attribute git_commit")
    v.put("gpu", meta["gpu_name"], src(MEMORY), "attribute gpu_name")
    v.put("torch", meta["torch_version"], src(MEMORY), "attribute torch_version")
    v.put("dtype", meta["dtype"], src(MEMORY), "attribute dtype")
    v.put("memory_points", int(ok.sum()), src(MEMORY), "points with status ok")
    equal = (c["state_bytes_measured"] == c["state_bytes_analytic"]) & \
        (c["state_bytes_measured"] == c["state_bytes_held"])
    v.put("memory_equal_points", int((equal & ok).sum()), src(MEMORY),
          "points where metrics/state_bytes_measured = _analytic = _held")
    rg = ok & (c["model"] == RG)
    gemma = ok & (c["model"] == GEMMA)
    v.put("window", int(c["window"][rg].max()), src(MEMORY), "points/window of recurrentgemma-2b")
    for batch in (1, 8):
        states = c["state_bytes_measured"][rg & (c["batch"] == batch)]
        v.put(f"rg_state_bytes_b{batch}", int(states.max()), src(MEMORY),
              f"metrics/state_bytes_measured, recurrentgemma-2b, batch {batch}, largest")
    v.put("rg_state_distinct_b1", len(set(c["state_bytes_measured"][rg & (c["batch"] == 1)])),
          src(MEMORY), "distinct metrics/state_bytes_measured of recurrentgemma-2b, batch 1")
    v.expect(len(set(c["state_bytes_measured"][rg & (c["batch"] == 8)])) == 1,
             "RecurrentGemma-2B's batch-eight state is the same at every length")
    v.put("rg_state_mib", v["rg_state_bytes_b1"] / 2**20, src(MEMORY), "batch 1, MiB")
    v.put("rg_max_context", int(c["context"][rg].max()), src(MEMORY), "points/context")
    v.put("memory_min_context", int(c["context"][ok].min()), src(MEMORY), "points/context")
    g1 = gemma & (c["batch"] == 1)
    slope = np.polyfit(c["context"][g1].astype(float), c["state_bytes_measured"][g1], 1)[0]
    v.put("gemma_bytes_per_token", int(round(slope)), src(MEMORY),
          "slope of metrics/state_bytes_measured against points/context, gemma-2b, batch 1")
    ctx = c["context"][g1]
    v.put("gemma_max_context", int(ctx.max()), src(MEMORY), "points/context of gemma-2b")
    v.expect(np.all(np.diff(c["state_bytes_measured"][g1][np.argsort(ctx)]) > 0),
             "Gemma-2B's cache grows with every length measured")
    small, large = g1 & (c["context"] == ctx.min()), g1 & (c["context"] == ctx.max())
    v.put("gemma_state_min_mib", float(c["state_bytes_measured"][small][0]) / 2**20, src(MEMORY),
          "gemma-2b, batch 1, shortest context, MiB")
    v.put("gemma_state_max_gib", float(c["state_bytes_measured"][large][0]) / 2**30, src(MEMORY),
          "gemma-2b, batch 1, longest context, GiB")
    rg_at = rg & (c["batch"] == 1) & (c["context"] == ctx.max())
    v.put("state_ratio_at_gemma_max", float(c["state_bytes_measured"][large][0] /
                                            c["state_bytes_measured"][rg_at][0]), src(MEMORY),
          "gemma-2b / recurrentgemma-2b state at gemma's longest context, batch 1")
    v.put("memory_budget_gib", float(config["memory"]["budget_gib"]), src(MEMORY),
          "meta/config_toml [memory] budget_gib")
    v.put("rg_max_batch", int(c["max_batch_in_budget"][rg].min()), src(MEMORY),
          "metrics/max_batch_in_budget, recurrentgemma-2b (the same at every context)")
    v.put("rg_max_batch_varies", bool(len(set(c["max_batch_in_budget"][rg])) > 1), src(MEMORY),
          "whether metrics/max_batch_in_budget of recurrentgemma-2b varies with context")
    rows = []
    for context in sorted(set(c["context"][ok].tolist())):
        row = [f"{context:,}"]
        for model in (RG, GEMMA):
            at = ok & (c["model"] == model) & (c["batch"] == 1) & (c["context"] == context)
            if not at.any():
                row += ["-", "-"]
                continue
            i = np.flatnonzero(at)[0]
            row += [f"{c['state_bytes_measured'][i] / 2**20:,.2f}",
                    f"{int(c['max_batch_in_budget'][i]):,}"]
        rows.append(row)
    v.table("memory", ["context (tokens)", "RecurrentGemma-2B state (MiB):",
                       "its largest batch in the budget:", "Gemma-2B state (MiB):",
                       "its largest batch in the budget:"], rows, [src(MEMORY)])
    gemma_max_batch = {int(c["context"][i]): int(c["max_batch_in_budget"][i])
                       for i in np.flatnonzero(g1)}
    v.put("gemma_max_batch_min_context", gemma_max_batch[int(ctx.min())], src(MEMORY),
          "metrics/max_batch_in_budget, gemma-2b, shortest context")
    v.put("gemma_max_batch_max_context", gemma_max_batch[int(ctx.max())], src(MEMORY),
          "metrics/max_batch_in_budget, gemma-2b, longest context")


# --- latency at length, the per-token budget, batches and peers


def latency(v, results):
    c, config, meta = read_run(results, LATENCY)
    v.put("latency_commit", meta["git_commit"], src(LATENCY), "attribute git_commit")
    v.put("latency_decode_tokens", int(config["latency"]["decode_tokens"]), src(LATENCY),
          "meta/config_toml [latency] decode_tokens")
    at = {}
    for i in np.flatnonzero(c["status"] == "ok"):
        at[(c["model"][i], int(c["context"][i]))] = i
    depths = sorted({d for _, d in at})
    rows = []
    for d in depths:
        r, g = at.get((RG, d)), at.get((GEMMA, d))
        cell = lambda i, k, n=3: "-" if i is None else ms(c[k][i], n)  # noqa: E731
        rows.append([f"{d:,}", cell(r, "decode_ms_per_token"), cell(r, "decode_ms_p90"),
                     cell(g, "decode_ms_per_token"), cell(g, "decode_ms_p90"),
                     "-" if g is None else ms(c["decode_ms_per_token"][g] /
                                              c["decode_ms_per_token"][r]),
                     cell(r, "prefill_ms", 1), cell(g, "prefill_ms", 1)])
    v.table("latency", ["depth (tokens)", "RecurrentGemma-2B ms/token:", "p90:",
                        "Gemma-2B ms/token:", "p90:", "Gemma / RecurrentGemma:",
                        "RecurrentGemma prefill ms:", "Gemma prefill ms:"], rows, [src(LATENCY)])
    rg = {d: c["decode_ms_per_token"][i] for (m, d), i in at.items() if m == RG}
    gm = {d: c["decode_ms_per_token"][i] for (m, d), i in at.items() if m == GEMMA}
    first, last, glast = min(rg), max(rg), max(gm)
    key = "metrics/decode_ms_per_token (median of the timed steps)"
    v.put("rg_decode_first_depth", first, src(LATENCY), "points/context")
    v.put("rg_decode_first", float(rg[first]), src(LATENCY), f"{key}, recurrentgemma-2b")
    v.put("rg_decode_last", float(rg[last]), src(LATENCY), f"{key}, recurrentgemma-2b")
    v.put("rg_decode_last_depth", last, src(LATENCY), "points/context")
    v.put("rg_decode_spread_pct", float((max(rg.values()) / min(rg.values()) - 1) * 100),
          src(LATENCY), "(slowest / fastest depth - 1), recurrentgemma-2b, percent")
    v.put("gemma_decode_first", float(gm[first]), src(LATENCY), f"{key}, gemma-2b")
    v.put("gemma_decode_last", float(gm[glast]), src(LATENCY), f"{key}, gemma-2b")
    v.put("gemma_decode_last_depth", glast, src(LATENCY), "points/context")
    v.put("gemma_decode_growth", float(gm[glast] / gm[first]), src(LATENCY),
          "gemma-2b, longest / shortest depth")
    faster = [d for d in sorted(gm) if gm[d] < rg[d]]
    slower = [d for d in sorted(gm) if gm[d] >= rg[d]]
    v.put("gemma_faster_up_to", max(faster) if faster else 0, src(LATENCY),
          "the deepest depth at which gemma-2b's step is shorter")
    v.put("rg_faster_from", min(slower) if slower else 0, src(LATENCY),
          "the shallowest depth at which recurrentgemma-2b's step is shorter")
    v.put("rg_faster_everywhere", not faster, src(LATENCY), "recurrentgemma-2b shorter at every depth")
    v.put("rg_faster_at_longest", bool(rg[glast] < gm[glast]), src(LATENCY),
          "at gemma-2b's longest depth")
    # What Gemma's growth would be if its attention read the added cache at the decode kernels'
    # target share of the copy ceiling.
    ceiling = copy_ceiling_gbps()
    added = v["gemma_bytes_per_token"] * (glast - first)
    v.put("kv_read_share_pct", KV_READ_SHARE * 100, "bench/README.md",
          "issue 15's target share of the copy ceiling for decode kernels (KV_READ_SHARE)")
    predicted = added / (KV_READ_SHARE * ceiling * 1e9) * 1e3
    v.put("gemma_kv_added_gb", added / 1e9, src(LATENCY), "gemma_bytes_per_token x depth added")
    v.put("gemma_growth_predicted_ms", predicted, CEILING_SOURCE,
          "added cache bytes / (KV_READ_SHARE x kCopyCeilingGBps)")
    v.put("gemma_growth_measured_ms", float(gm[glast] - gm[first]), src(LATENCY),
          "gemma-2b ms/token, longest - shortest depth")
    v.put("gemma_growth_over_prediction", v["gemma_growth_measured_ms"] / predicted, src(LATENCY),
          "measured / predicted growth")
    v.expect(faster and slower and max(faster) < min(slower),
             "at batch one the Transformer is faster up to a depth and the recurrent model from "
             "the next one on")
    ratio = [gm[d] / rg[d] for d in sorted(gm)]
    v.put("gemma_over_rg_rises", bool(all(b > a for a, b in zip(ratio, ratio[1:]))), src(LATENCY),
          "Gemma / RecurrentGemma ms/token rises from each depth to the next")
    v.expect(v["gemma_growth_over_prediction"] > 1.5,
             "part of Gemma's growth at depth is this implementation's, not the model's")
    pre = {(m, d): c["prefill_ms"][i] for (m, d), i in at.items()}
    quarter = glast // 4
    v.put("prefill_quarter_depth", quarter, src(LATENCY), "points/context")
    v.put("gemma_prefill_growth_4x", float(pre[(GEMMA, glast)] / pre[(GEMMA, quarter)]),
          src(LATENCY), "metrics/prefill_ms, gemma-2b, longest / a quarter of it")
    v.put("rg_prefill_growth_4x", float(pre[(RG, glast)] / pre[(RG, quarter)]), src(LATENCY),
          "metrics/prefill_ms, recurrentgemma-2b, the same depths")
    v.put("prefill_ratio_at_longest", float(pre[(GEMMA, glast)] / pre[(RG, glast)]), src(LATENCY),
          "gemma-2b / recurrentgemma-2b prefill ms at gemma's longest depth")
    ratios = [pre[(GEMMA, d)] / pre[(RG, d)] for d in sorted(gm) if d <= quarter]
    v.put("prefill_ratio_short_min", float(min(ratios)), src(LATENCY),
          "gemma / recurrentgemma prefill ms, depths up to a quarter of the longest: smallest")
    v.put("prefill_ratio_short_max", float(max(ratios)), src(LATENCY), "the same: largest")
    v.put("rg_prefill_longest_s", float(pre[(RG, last)] / 1e3), src(LATENCY),
          "metrics/prefill_ms, recurrentgemma-2b, deepest, seconds")
    v.expect(v["prefill_ratio_short_max"] < 1.5 and v["prefill_ratio_short_min"] > 1 / 1.5,
             "prefill scales alike for both models up to a quarter of the longest depth")


def copy_ceiling_gbps():
    with open(os.path.join(ROOT, CEILING_SOURCE)) as f:
        return float(re.search(r"kCopyCeilingGBps = ([0-9.]+)", f.read()).group(1))


def budget(v, results):
    peers = {(r["peer"], r["model"]): r for r in
             json.load(open(os.path.join(results, DECODE_PEERS)))["results"]}
    v.put("copy_ceiling_tbs", copy_ceiling_gbps() / 1e3, CEILING_SOURCE, "kCopyCeilingGBps")
    rows, sources = [], [src(DECODE_PEERS)]
    budgets = {}
    for model in (RG, GEMMA):
        for depth in BUDGET_DEPTHS:
            with open(os.path.join(results, BUDGET.format(model, depth))) as f:
                budgets[(model, depth)] = json.load(f)
    for model in (RG, GEMMA):
        chain = peers[("chain", model)]
        for depth in BUDGET_DEPTHS:
            rel = BUDGET.format(model, depth)
            b = budgets[(model, depth)]
            sources.append(src(rel))
            tag = f"{'rg' if model == RG else 'gemma'}_{depth // 1024}k"
            for part in ("weights", "kv_state", "other"):
                v.put(f"budget_{tag}_{part}", float(b[f"{part}_ms"]), src(rel), f"{part}_ms")
            rows.append([model, f"{depth:,}", b["kernels"], ms(b["weights_ms"], 3),
                         ms(b["kv_state_ms"], 3), ms(b["other_ms"], 3), ms(b["kernel_ms"], 3),
                         ms(chain["ceiling_ms"], 3)])
        tag = "rg" if model == RG else "gemma"
        if model == RG:
            parts = [budgets[(model, d)]["kernel_ms"] for d in BUDGET_DEPTHS]
            v.expect(max(parts) / min(parts) < 1.02,
                     "RecurrentGemma-2B's step is the same at both depths")
        v.put(f"weights_floor_{tag}", float(chain["ceiling_ms"]), src(DECODE_PEERS),
              f"results[peer=chain, model={model}].ceiling_ms (weight bytes / copy ceiling)")
        v.put(f"weight_gb_{tag}", chain["weight_bytes"] / 1e9, src(DECODE_PEERS),
              f"results[peer=chain, model={model}].weight_bytes")
    b2 = {m: budgets[(m, BUDGET_DEPTHS[0])] for m in (RG, GEMMA)}
    v.put("budget_gap_ms", b2[RG]["kernel_ms"] - b2[GEMMA]["kernel_ms"],
          src(BUDGET.format(RG, BUDGET_DEPTHS[0])),
          f"kernel_ms, this file's - {BUDGET.format(GEMMA, BUDGET_DEPTHS[0])}'s")
    v.put("floor_gap_ms", v["weights_floor_rg"] - v["weights_floor_gemma"], src(DECODE_PEERS),
          "ceiling_ms, recurrentgemma-2b - gemma-2b")
    for model, tag in ((RG, "rg"), (GEMMA, "gemma")):
        v.put(f"kernels_{tag}", int(b2[model]["kernels"]), src(BUDGET.format(model, BUDGET_DEPTHS[0])),
              "kernels of one decode step")
        v.put(f"products_share_{tag}", v[f"weights_floor_{tag}"] / b2[model]["weights_ms"] * 100,
              src(BUDGET.format(model, BUDGET_DEPTHS[0])),
              "weight bytes / copy ceiling over weights_ms, percent")
    v.expect(v["floor_gap_ms"] < 0.5 * v["budget_gap_ms"],
             "RecurrentGemma-2B's batch-one lag is mostly its slower products and extra kernels, "
             "not its weight bytes")
    v.table("budget", ["model", "depth:", "kernels:", "weight products ms:",
                       "attention cache / recurrent state ms:", "everything else ms:",
                       "sum ms:", "weight bytes / copy ceiling ms:"], rows, sources)


def batches_and_peers(v, results):
    rows = []
    bench = {}
    for model in (RG, GEMMA, "recurrentgemma-9b", "gemma-7b"):
        b = read_bench(results, model)
        for i in range(len(b["batch"])):
            bench[(model, int(b["batch"][i]), int(b["prompt_tokens"][i]))] = \
                (float(b["decode_ms_per_token"][i]), float(b["decode_tokens_per_s"][i]),
                 float(b["prefill_ms"][i]))
    for (model, batch, prompt), (step, tps, _) in sorted(bench.items()):
        rows.append([model, batch, f"{prompt:,}", ms(step, 3), f"{tps:,.0f}"])
    v.table("batches", ["model", "batch:", "prompt (tokens):", "ms per decode step:",
                        "tokens/s:"], rows, [src(BENCH.format(m)) for m in
                                             (RG, GEMMA, "recurrentgemma-9b", "gemma-7b")])
    for model, tag in ((RG, "rg"), (GEMMA, "gemma")):
        for prompt in (2048, 8192):
            k = f"{prompt // 1024}k"
            v.put(f"b8_over_b1_{tag}_{k}", bench[(model, 8, prompt)][0] / bench[(model, 1, prompt)][0],
                  src(BENCH.format(model)), f"decode_ms_per_token, batch 8 / batch 1, prompt {prompt}")
            v.put(f"b64_tps_{tag}_{k}", bench[(model, 64, prompt)][1], src(BENCH.format(model)),
                  f"metrics/decode_tokens_per_s, batch 64, prompt {prompt}")
        v.put(f"prefill_8k_{tag}", bench[(model, 1, 8192)][2], src(BENCH.format(model)),
              "metrics/prefill_ms, batch 1, prompt 8192")
    v.put("big_batch", max(b for _, b, _ in bench), src(BENCH.format(RG)), "points/batch, largest")
    prompts = sorted({p for _, _, p in bench})
    v.put("prompt_short", prompts[0], src(BENCH.format(RG)), "points/prompt_tokens, shortest")
    v.put("prompt_long", prompts[-1], src(BENCH.format(RG)), "points/prompt_tokens, longest")
    states = {}
    for model in ("gemma-7b", "recurrentgemma-9b"):
        b = read_bench(results, model)
        states[model] = float(b["state_bytes"][np.argmax(b["prompt_tokens"])])
    v.put("state_7b_over_9b", states["gemma-7b"] / states["recurrentgemma-9b"],
          src(BENCH.format("gemma-7b")), "metrics/state_bytes at the longest prompt, gemma-7b / "
          "recurrentgemma-9b")
    above_one = [(b, p) for (m, b, p) in bench if m == RG and b > 1]
    v.expect(all(bench[(RG, b, p)][0] < bench[(GEMMA, b, p)][0] for b, p in above_one),
             "the recurrent model wins at every batch size above one that was measured")
    v.expect(v["b8_over_b1_rg_2k"] < v["b8_over_b1_gemma_2k"] and
             v["b8_over_b1_rg_8k"] < v["b8_over_b1_gemma_8k"],
             "the recurrent state adds little to each step of a batch, the cache a lot")
    v.put("b64_rg_over_gemma_8k", v["b64_tps_rg_8k"] / v["b64_tps_gemma_8k"],
          src(BENCH.format(RG)), "batch-64 tokens/s at 8k, recurrentgemma-2b / gemma-2b")
    peers = {(r["peer"], r["model"]): r for r in
             json.load(open(os.path.join(results, DECODE_PEERS)))["results"]}
    v.put("transformers_version", peers[("hf", GEMMA)]["transformers"], src(DECODE_PEERS),
          "results[peer=hf].transformers")
    rows = []
    for model in (RG, GEMMA, "recurrentgemma-9b", "gemma-7b"):
        chain = peers[("chain", model)]
        hf = {r["prompt"]: r for r in peers.get(("hf", model), {}).get("rows", [])}
        for prompt in (2048, 8192):
            ours = bench[(model, 1, prompt)][0]
            h = hf.get(prompt)
            rows.append([model, f"{prompt:,}", ms(ours, 3), ms(chain["chain_ms"], 3),
                         ms(ours / chain["chain_ms"]), ms(chain["ceiling_ms"], 3),
                         "-" if h is None else f"{ms(h['decode_ms'], 3)} ({h['mode']})",
                         "-" if h is None else ms(h["decode_ms"] / ours)])
            if h is not None:
                tag = "rg" if model == RG else "gemma"
                v.put(f"hf_over_ours_{tag}_{prompt // 1024}k", h["decode_ms"] / ours,
                      src(DECODE_PEERS), f"hf decode_ms / griffin bench, prompt {prompt}")
        v.put(f"over_chain_{model.replace('-', '_')}", bench[(model, 1, 2048)][0] / chain["chain_ms"],
              src(DECODE_PEERS), "griffin batch-1 ms at 2048 / chain_ms")
    v.table("decode_peers", ["model", "prompt:", "harness ms/token:", "cuBLAS chain ms:",
                             "harness / chain:", "weights / copy ceiling ms:",
                             "transformers ms/token:", "transformers / harness:"], rows,
            [src(DECODE_PEERS)] + [src(BENCH.format(m)) for m in (RG, GEMMA)])


# --- recall


def recall(v, results):
    c, config, meta = read_run(results, RECALL)
    v.put("recall_commit", meta["git_commit"], src(RECALL), "attribute git_commit")
    v.put("recall_steps", int(config["train"]["steps"]), src(RECALL), "[train] steps")
    v.put("recall_pairs", int(config["task"]["pairs"]), src(RECALL), "[task] pairs")
    v.put("recall_seq_len", int(config["task"]["seq_len"]), src(RECALL), "[task] seq_len")
    distances = c["eval_distance"][0][~np.isnan(c["eval_distance"][0])].astype(int)
    v.put("recall_shortest_distance", int(distances.min()), src(RECALL), "series/eval_distance")
    v.put("recall_longest_distance", int(distances.max()), src(RECALL), "series/eval_distance")
    rows, within, beyond = [], {}, {}
    for i, model in enumerate(c["model"]):
        d = c["eval_distance"][i]
        a = c["accuracy_at_distance"][i]
        keep = ~np.isnan(d)
        d, a = d[keep].astype(int), a[keep]
        w = int(c["window"][i])
        # The shortest distance measured a trivial layout at this commit (results/README.md,
        # "Distance-controlled recall"): it is shown, not used in a verdict.
        usable = d > d.min()
        if w > 0:
            within[model] = float(a[usable & (d <= w)].min())
            beyond[model] = float(a[d >= 2 * w].max())
        rows.append([model, w if w else "none", f"{c['state_bytes_at_seq_len'][i] / 1024:.1f}"] +
                    [ms(x) for x in a])
    v.table("recall", ["model", "window:", "state KiB:"] + [f"d={x}:" for x in distances], rows,
            [src(RECALL)])
    griffins = [m for m in within if m.startswith("griffin")]
    v.put("griffin_within_min", min(within[m] for m in griffins), src(RECALL),
          "series/accuracy_at_distance, Griffin models, smallest at d <= W (the shortest d left out)")
    v.put("griffin_beyond_max", max(beyond[m] for m in griffins), src(RECALL),
          "series/accuracy_at_distance, Griffin models, largest at d >= 2W")
    v.put("griffin_beyond_min", min(float(c["accuracy_at_distance"][i][
        c["eval_distance"][i] >= 2 * c["window"][i]].min()) for i, m in enumerate(c["model"])
        if m in griffins), src(RECALL), "the same, smallest")
    v.put("griffin_windows", ", ".join(str(int(w)) for w in sorted(set(
        c["window"][np.isin(c["model"], griffins)].tolist()))), src(RECALL), "points/window")
    local = list(c["model"]).index("local")
    d = c["eval_distance"][local]
    reach = 2 * int(c["window"][local])  # two local-attention layers see twice the window back
    v.put("local_reach", reach, src(RECALL), "2 x points/window of local (its two layers)")
    v.put("local_beyond_max", float(c["accuracy_at_distance"][local][d > reach].max()),
          src(RECALL), "series/accuracy_at_distance, local attention, largest past its reach")
    v.expect(all(within[m] >= 0.9 for m in griffins) and
             all(beyond[m] < 0.5 for m in griffins),
             "Griffin retrieves within its window and falls beyond it; the cliff moves with the "
             "window")
    idx = {m: i for i, m in enumerate(c["model"])}
    for model in ("hawk", "transformer"):
        a = c["accuracy_at_distance"][idx[model]]
        d = c["eval_distance"][idx[model]]
        keep = ~np.isnan(d) & (d > d[~np.isnan(d)].min())
        v.put(f"{model}_recall_min", float(a[keep].min()), src(RECALL),
              f"series/accuracy_at_distance, {model}, smallest (the shortest d left out)")
        v.put(f"{model}_recall_max", float(a[keep].max()), src(RECALL), "the same, largest")
        v.put(f"{model}_state_kib", float(c["state_bytes_at_seq_len"][idx[model]] / 1024),
              src(RECALL), "metrics/state_bytes_at_seq_len / 1024")
    v.put("griffin_state_kib", float(c["state_bytes_at_seq_len"][idx["griffin"]] / 1024),
          src(RECALL), "metrics/state_bytes_at_seq_len / 1024, griffin (W = 32)")
    v.put("griffin_beyond", beyond["griffin"], src(RECALL), "griffin (W = 32), largest at d >= 2W")
    t = idx["transformer"]
    v.put("recall_far_from", 2 * int(c["window"][idx["griffin"]]), src(RECALL),
          "twice points/window of griffin")
    far = c["eval_distance"][t] >= v["recall_far_from"]
    v.put("transformer_far_min", float(c["accuracy_at_distance"][t][far].min()), src(RECALL),
          "series/accuracy_at_distance, transformer, smallest at d >= 2W of griffin (W = 32)")
    w = int(c["window"][idx["griffin"]])
    hawk = idx["hawk"]
    v.put("hawk_beyond_min", float(c["accuracy_at_distance"][hawk][
        c["eval_distance"][hawk] >= 2 * w].min()), src(RECALL),
        "series/accuracy_at_distance, hawk, smallest at d >= 2W of griffin (W = 32)")


def mqar(v, results):
    runs, configs = {}, {}
    for rel, tag in ((MQAR, "zero"), (MQAR_RANDOM, "random")):
        c, configs[tag], _ = read_run(results, rel)
        width = [int(re.search(r"\bwidth=(\d+)", o).group(1)) for o in c["overrides"]]
        runs[tag] = {(m, w): i for i, (m, w) in enumerate(zip(c["model"], width))}, c
    config = configs["zero"]
    v.put("mqar_steps", int(config["train"]["steps"]), src(MQAR), "[train] steps")
    v.put("mqar_lr", float(config["train"]["lr"]), src(MQAR), "[train] lr")
    v.put("mqar_pairs", int(config["task"]["pairs"]), src(MQAR), "[task] pairs")
    v.put("mqar_seq_len", int(config["task"]["seq_len"]), src(MQAR), "[task] seq_len")
    v.put("mqar_vocab", int(config["task"]["vocab"]), src(MQAR), "[task] vocab")
    v.put("mqar_target", float(config["train"]["target_accuracy"]), src(MQAR),
          "[train] target_accuracy")
    index, c = runs["zero"]
    rindex, rc = runs["random"]
    rows = []
    widths = sorted({w for _, w in index})
    v.put("mqar_widths", ", ".join(str(w) for w in widths), src(MQAR), "points/overrides width=")
    for (model, w), i in sorted(index.items()):
        j = rindex[(model, w)]
        rows.append([model, w, f"{c['state_bytes_at_seq_len'][i] / 1024:.1f}",
                     f"{int(c['parameters'][i]):,}", ms(c["accuracy"][i], 3),
                     ms(rc["accuracy"][j], 3), f"{int(rc['steps_done'][j]):,}"])
    v.table("mqar", ["model", "width:", "state KiB:", "parameters:", "accuracy, filler id 0:",
                     "accuracy, random filler:", "steps (random filler):"], rows,
            [src(MQAR), src(MQAR_RANDOM)])
    for model in ("griffin", "hawk", "transformer"):
        acc = [c["accuracy"][index[(model, w)]] for w in widths]
        racc = [rc["accuracy"][rindex[(model, w)]] for w in widths]
        v.put(f"mqar_{model}_best", float(max(max(acc), max(racc))), src(MQAR),
              f"metrics/accuracy, {model}, best over widths and both filler settings")
        v.put(f"mqar_{model}_solved_widths",
              sum(max(a, b) >= v["mqar_target"] for a, b in zip(acc, racc)),
              src(MQAR), "widths at which either setting reached [train] target_accuracy")
        states = [c["state_bytes_at_seq_len"][index[(model, w)]] / 1024 for w in widths]
        v.put(f"mqar_{model}_state_kib_max", float(max(states)), src(MQAR),
              "metrics/state_bytes_at_seq_len / 1024, widest")
    v.put("mqar_transformer_widest_zero", float(c["accuracy"][index[("transformer", widths[-1])]]),
          src(MQAR), "metrics/accuracy, transformer, widest, filler id 0")
    v.put("mqar_transformer_narrowest", float(c["accuracy"][index[("transformer", widths[0])]]),
          src(MQAR), "metrics/accuracy, transformer, narrowest, filler id 0")
    v.put("mqar_widths_count", len(widths), src(MQAR), "distinct widths")
    v.expect(v["mqar_transformer_solved_widths"] < len(widths),
             "a small Transformer did not solve MQAR at every width in our budget")
    solved = [(w, tag, int(run["steps_done"][ix[("transformer", w)]]))
              for w in widths for tag, (ix, run) in (("filler id 0", (index, c)),
                                                     ("random filler", (rindex, rc)))
              if run["accuracy"][ix[("transformer", w)]] >= v["mqar_target"]]
    zoology(v, results, widths)
    v.put("mqar_transformer_solved", "; ".join(f"width {w} with {tag} at step {n:,}"
                                               for w, tag, n in solved) or "none",
          src(MQAR_RANDOM), "transformer rows that reached [train] target_accuracy, steps_done")


def zoology(v, results, widths):
    """The Transformer under Zoology's learning-rate grid and step budget, best over the rates."""
    best, lrs = {}, set()
    configs = []
    for rel in ZOOLOGY:
        c, config, _ = read_run(results, rel)
        configs.append(config)
        for o, lr, acc in zip(c["overrides"], c["lr"], c["accuracy"]):
            w = int(re.search(r"\bwidth=(\d+)", o).group(1))
            best[w] = max(best.get(w, 0.0), float(acc))
            lrs.add(float(lr))
    config = configs[0]
    v.put("zoology_lrs", ", ".join(f"{x:g}" for x in sorted(lrs)), src(ZOOLOGY[0]),
          "points/lr of both files")
    v.put("zoology_steps", int(config["train"]["steps"]), src(ZOOLOGY[0]), "[train] steps")
    v.put("zoology_widths", ", ".join(str(w) for w in sorted(best)), src(ZOOLOGY[0]),
          "points/overrides width=")
    v.put("zoology_best", "; ".join(f"{best[w]:.2f} at width {w}" for w in sorted(best)),
          src(ZOOLOGY[0]), "metrics/accuracy, best over the learning rates of both files")
    v.put("zoology_solved", sum(a >= v["mqar_target"] for a in best.values()), src(ZOOLOGY[0]),
          "widths whose best accuracy reached [train] target_accuracy")
    v.put("zoology_max", max(best.values()), src(ZOOLOGY[0]), "best accuracy of all")
    v.table("zoology", ["width:", "best accuracy over the learning rates:"],
            [[w, ms(best[w], 3)] for w in sorted(best)], [src(r) for r in ZOOLOGY])
    return best


# --- kernels and the training step


def kernels(v, results):
    rows, ratios = [], {}
    for op, peer, ours_file, peers_file in KERNEL_CALLS:
        medians, _ = bench_peers.griffin_medians(os.path.join(results, H + ours_file))
        with open(os.path.join(results, H + peers_file)) as f:
            peer_rows = [r for r in json.load(f)["rows"] if r["peer"] == peer and
                         r["op"] == bench_peers.COMPARED_WITH.get(op, op) and r["status"] == "ok"]
        impl = {r.get("impl", peer) for r in peer_rows}
        for dtype in bench_peers.DTYPES:
            found = []
            for r in peer_rows:
                if not r["shape"].endswith(dtype):
                    continue
                ours = bench_peers.griffin_time(medians, op, r["shape"])
                if ours is None:
                    continue
                moved = bench_peers.bytes_moved(op, r["shape"])
                frac = (lambda us: moved / (us * 1e-6) / 1e9 / bench_peers.COPY_CEILING_GBPS) \
                    if moved else (lambda us: None)
                found.append((r["median_us"] / ours, frac(ours), frac(r["median_us"])))
            if not found:
                continue
            r_ = [x[0] for x in found]
            geo = math.exp(statistics.mean(math.log(x) for x in r_))
            ratios[(op, dtype)] = geo
            pct = lambda xs: "-" if xs[0] is None else span(xs, 100, "%")  # noqa: E731
            rows.append([OP_NAMES[op], ", ".join(sorted(impl)), dtype, len(found),
                         pct([x[1] for x in found]), pct([x[2] for x in found]),
                         span(r_, digits=2), f"{geo:.2f}",
                         ours_file.rsplit("-", 1)[1].split(".")[0]])
    v.table("kernels", ["op", "peer", "dtype", "shapes:", "harness, share of copy ceiling:",
                        "peer, share of copy ceiling:", "peer time / harness time:",
                        "geometric mean:", "commit"], rows,
            [src(H + f) for k in KERNEL_CALLS for f in k[2:]])
    for (op, dtype), geo in ratios.items():
        v.put(f"kernel_{op}_{dtype}", geo, src(H + dict((k[0], k[3]) for k in KERNEL_CALLS)[op]),
              "geometric mean of peer / harness median time over the shapes")
    scans = [g for (op, _), g in ratios.items() if op.startswith("scan")]
    rglru = [g for (op, _), g in ratios.items() if op == "rglru_fwd_bwd"]
    conv = [g for (op, _), g in ratios.items() if op.startswith("conv1d")]
    v.expect(sum(g < 1 for g in scans) > len(scans) / 2,
             "the plain linear scan is slower than the Triton peer in most cases")
    v.expect(all(0.3 < g < 0.7 for g in rglru),
             "the RG-LRU takes about twice the peer's plain scan")
    v.expect(all(g > 3 for g in conv), "the convolution is several times faster than cuDNN's")


# The call that timed every scan peer at once (results/README.md, "Kernels against their public
# peers"): which of them is fastest, op by op and shape by shape.
ALL_SCAN_PEERS = "2026-12-02-peers-61e2d82.json"


def strongest_scan_peer(v, results):
    with open(os.path.join(results, H + ALL_SCAN_PEERS)) as f:
        rows = [r for r in json.load(f)["rows"] if r["status"] == "ok" and r["op"].startswith("scan")]
    fastest = {}
    for r in rows:
        key = (r["op"], r["shape"])
        if key not in fastest or r["median_us"] < fastest[key][1]:
            fastest[key] = (r["peer"], r["median_us"])
    winners = [p for p, _ in fastest.values()]
    v.put("scan_peer_pairs", len(fastest), src(H + ALL_SCAN_PEERS), "scan op x shape pairs timed")
    v.put("scan_peers", len({r["peer"] for r in rows}), src(H + ALL_SCAN_PEERS), "distinct peers")
    v.put("triton_fastest_pairs", winners.count("accelerated-scan triton"),
          src(H + ALL_SCAN_PEERS), "pairs where accelerated-scan triton has the smallest median")
    others = sorted(set(winners) - {"accelerated-scan triton"})
    v.put("other_fastest_peers", " and ".join(others) if others else "none",
          src(H + ALL_SCAN_PEERS), "the peers fastest at the other pairs")


def training_step(v, results):
    with open(os.path.join(results, TRAIN_RUNS)) as f:
        run = json.load(f)[TRAIN_COMMIT]
    ours = statistics.mean(train_step_table.median_step_ms(run[k])
                           for k in ("griffin-1.log", "griffin-2.log"))
    peers = {k: run[k]["graph_ms_per_step"] for k in run if k.startswith("peer-")}
    best = min(peers, key=peers.get)
    v.put("train_ms", ours, src(TRAIN_RUNS), f"[{TRAIN_COMMIT}] griffin-1/2.log, median ms/step")
    v.put("train_peer", run[best]["peer"], src(TRAIN_RUNS),
          f"[{TRAIN_COMMIT}] {best} peer")
    v.put("train_peer_ms", peers[best], src(TRAIN_RUNS), f"[{TRAIN_COMMIT}] {best} graph_ms_per_step")
    v.put("train_speedup", peers[best] / ours, src(TRAIN_RUNS), "peer / harness ms per step")
    v.put("train_commit", TRAIN_COMMIT, src(TRAIN_RUNS), "key")


def nccl(v, results):
    with open(os.path.join(results, NCCL_LOG)) as f:
        log = f.read()
    checks = re.findall(r"^(ok|FAIL) .*largest relative difference ([0-9.e+-]+)", log, re.M)
    v.put("nccl_checks", len(checks), src(NCCL_LOG),
          "check lines with 'largest relative difference'")
    v.put("nccl_largest_difference", max(float(x) for _, x in checks), src(NCCL_LOG),
          "largest of them")
    v.expect(checks and all(s == "ok" for s, _ in checks) and v["nccl_largest_difference"] == 0,
             "a launch of one rank trains bit for bit as one process")
    with open(os.path.join(results, SCALE_OUT)) as f:
        scale = json.load(f)
    one = next(r for r in scale["data"]["rows"] if r["gpus"] == 1)
    v.put("dp_parameters", int(one["parameters"]), src(SCALE_OUT), "data.rows[gpus=1].parameters")
    v.put("dp_step_ms", one["step_ms"], src(SCALE_OUT), "data.rows[gpus=1].step_ms")
    v.put("dp_group_cost_ms", one["step_ms"] - scale["data"]["alone"]["step_ms"], src(SCALE_OUT),
          "data.rows[gpus=1].step_ms - data.alone.step_ms")
    fault = scale["fault"]
    v.put("fault_ranks", fault["ranks"], src(SCALE_OUT), "fault.ranks")
    v.expect(fault["killed"] and fault["resume_exit"] == 0 and fault["same_as_clean_run"],
             "a rank killed mid-sweep, then --resume, gave the clean run's file")


# --- the claims table


def verdict_hawk_fails_as_pairs_grow(mqar_best, recall_min):
    """G-6: Hawk does well with few pairs and fails with many."""
    if mqar_best < 0.5 <= recall_min:
        return "reproduces"
    return "does not"


def verdict_latency_gap_grows(faster_at_longest, ratio_rises):
    """G-1: lower latency on long sequences, increasingly so as they grow."""
    if faster_at_longest and ratio_rises:
        return "reproduces"
    return "partly" if faster_at_longest else "does not"


def verdict_attention_solves_every_width(solved, widths):
    """Z-1: attention solves MQAR at every width."""
    return "reproduces" if solved == widths else "partly" if solved else "does not"


def claims(v):
    """One row per published claim: the claim and its source, what the harness measured, a
    verdict that follows from the values where a rule can decide it, and why (one reason for
    each verdict a rule can give)."""
    def row(cid, claim, cite, measured, verdict, why):
        v.claims.append({"id": cid, "claim": claim, "cite": cite, "measured": measured,
                         "verdict": verdict, "why": why[verdict] if isinstance(why, dict) else why})

    flat = v["rg_state_distinct_b1"] == 1
    equal = v["memory_equal_points"] == v["memory_points"]
    row("RG-1", "RecurrentGemma's state is bounded: it stops growing once the sequence passes the "
        "2K-token local-attention window, where Gemma's KV cache keeps growing",
        "@botev2024recurrentgemma",
        f"state {v['rg_state_mib']:.2f} MiB at every length from {v['memory_min_context']:,} to "
        f"{v['rg_max_context']:,} tokens; Gemma-2B +{v['gemma_bytes_per_token']:,} B/token; "
        f"measured = analytic in {v['memory_equal_points']} of {v['memory_points']} points",
        "reproduces" if flat and equal else "does not",
        {"reproduces": "the bytes of the storages the state holds, counted at each length",
         "does not": "the state's measured bytes change with length, or differ from the analytic "
                     "size"})
    bigger = v["rg_max_batch"] > 2 * v["gemma_max_batch_min_context"]
    row("RG-2", "The bounded state allows generation of any length and much larger batches",
        "@botev2024recurrentgemma",
        f"largest batch in {v['memory_budget_gib']:.0f} GiB (weights included): "
        f"{v['rg_max_batch']:,} at every length against Gemma-2B's "
        f"{v['gemma_max_batch_min_context']:,} to {v['gemma_max_batch_max_context']:,}; decode "
        f"ran to {v['rg_max_context']:,} tokens",
        "reproduces" if bigger and not v["rg_max_batch_varies"] else "partly",
        {"reproduces": "the batches are computed from the analytic state, which equals the "
                       "measured one; they were not run",
         "partly": "the largest batch is not more than twice Gemma's at every length"})
    flat_decode = v["rg_decode_spread_pct"] < 5
    row("RG-3", "Sampling throughput is higher than Gemma's at every sequence length and does not "
        "fall with length, while Gemma's falls as its cache grows", "@botev2024recurrentgemma",
        f"batch 1: {v['rg_decode_first']:.3f} to {v['rg_decode_last']:.3f} ms/token "
        f"(spread {v['rg_decode_spread_pct']:.1f}%); Gemma-2B {v['gemma_decode_first']:.3f} to "
        f"{v['gemma_decode_last']:.3f} ms ({v['gemma_decode_growth']:.2f}x); batch "
        f"{v['big_batch']} at {v['prompt_long']:,}: {v['b64_rg_over_gemma_8k']:.2f}x Gemma's "
        "tokens/s",
        "reproduces" if flat_decode and v["rg_faster_everywhere"] else
        "partly" if flat_decode else "does not",
        {"reproduces": "flat, and faster at every measured depth",
         "partly": f"flat with length, but at batch 1 Gemma-2B is faster up to "
                   f"{v['gemma_faster_up_to']:,} tokens (this harness's products for "
                   "RecurrentGemma are slower, section 4); the published figure is throughput "
                   "maximised over batch on TPUs, not run here",
         "does not": "RecurrentGemma-2B's step grows with length"})
    similar = v["prefill_ratio_short_max"] < 1.5 and v["prefill_ratio_short_min"] > 1 / 1.5
    row("RG-4", "Both models process prompts at similar speeds", "@botev2024recurrentgemma",
        f"Gemma / RecurrentGemma prefill time {v['prefill_ratio_short_min']:.2f}-"
        f"{v['prefill_ratio_short_max']:.2f} up to {v['prefill_quarter_depth']:,} tokens, "
        f"{v['prefill_ratio_at_longest']:.2f} at {v['gemma_decode_last_depth']:,}",
        "reproduces" if similar else "partly",
        {"reproduces": "within 1.5x where attention's quadratic cost is still small",
         "partly": "more than 1.5x apart already at short prompts"})
    row("RG-5", "RecurrentGemma-9B reaches up to two orders of magnitude higher throughput than "
        "Gemma-7B (multi-head attention)", "@botev2024recurrentgemma",
        f"batch-1 decode only; Gemma-7B's state is {v['state_7b_over_9b']:.0f}x "
        f"RecurrentGemma-9B's at {v['prompt_long']:,} tokens", "not measured",
        "no batch sweep of the 9B and 7B shapes was run")
    row("RG-6", "The fixed state weakens needle-in-a-haystack retrieval on long inputs",
        "@botev2024recurrentgemma", "no run", "not measured",
        "needs the trained checkpoints; every speed and memory run here uses random weights")
    g1 = verdict_latency_gap_grows(v["rg_faster_at_longest"], v["gemma_over_rg_rises"])
    row("G-1", "Hawk and Griffin sample with lower latency than an MQA Transformer on long "
        "sequences, increasingly so as sequences grow", "@de2024griffin",
        f"RecurrentGemma-2B faster from {v['rg_faster_from']:,} tokens; Gemma "
        f"{v['gemma_decode_growth']:.2f}x slower at {v['gemma_decode_last_depth']:,} than at "
        f"{v['rg_decode_first_depth']:,}", g1,
        {"reproduces": "the gap opens with every depth; the published protocol (1B models, batch "
                       "16, Hawk timed too) was not run",
         "partly": "faster at the longest depth, but the gap does not grow at every step",
         "does not": "the Transformer is as fast at the longest depth"})
    row("G-2", "Hawk and Griffin reach higher maximum throughput, chiefly by fitting larger "
        "batches", "@de2024griffin",
        f"batch {v['big_batch']} at {v['prompt_long']:,}: {v['b64_tps_rg_8k']:,.0f} against "
        f"{v['b64_tps_gemma_8k']:,.0f} tokens/s; largest batch {v['rg_max_batch']:,} against "
        f"{v['gemma_max_batch_max_context']:,} at {v['gemma_max_context']:,}", "partly",
        "the batch mechanism is measured; no search of the largest batch's throughput, no Hawk")
    cliff = v["griffin_within_min"] >= 0.9 and v["griffin_beyond_max"] < 0.5
    row("G-3", "Griffin retrieves (phonebook lookup) perfectly up to its local-attention window "
        "and degrades beyond it", "@de2024griffin; @jelassi2024repeat",
        f"Griffin, windows {v['griffin_windows']}: at least {v['griffin_within_min']:.2f} within "
        f"the window, {v['griffin_beyond_min']:.2f}-{v['griffin_beyond_max']:.2f} from twice the "
        "window on", "reproduces" if cliff else "partly",
        {"reproduces": "distance-controlled recall trained from scratch, the synthetic form of the "
                       "phonebook task; the cliff moves with the window; one seed",
         "partly": "the accuracy does not fall clearly at the window for every Griffin"})
    tr = v["transformer_recall_min"]
    row("G-4", "An MQA Transformer is nearly perfect up to its training length", "@de2024griffin",
        f"{tr:.2f}-{v['transformer_recall_max']:.2f} beyond the shortest distance, "
        f"{v['transformer_far_min']:.2f} or more from {v['recall_far_from']} tokens on",
        "reproduces" if tr >= 0.95 else "partly" if tr >= 0.6 else "does not",
        {"reproduces": "near perfect at every distance",
         "partly": f"high but not near perfect after {v['recall_steps']:,} steps; the dip at "
                   "short distances may be the generator's short-distance layout "
                   "(results/README.md)",
         "does not": "well below perfect"})
    g6 = verdict_hawk_fails_as_pairs_grow(v["mqar_hawk_best"], v["hawk_recall_min"])
    row("G-6", "Hawk (recurrence only) does well only on short phonebooks and fails as they grow",
        "@de2024griffin",
        f"MQAR with {v['mqar_pairs']} pairs: at most {v['mqar_hawk_best']:.2f}; distance recall "
        f"with {v['recall_pairs']} pairs: {v['hawk_recall_min']:.2f}-{v['hawk_recall_max']:.2f}",
        g6, {"reproduces": "good with the smaller set of pairs, failing with the larger; the two "
                           "tasks also differ in length and vocabulary",
             "does not": "Hawk fails both tasks or neither"})
    row("G-5", "Past its training length the Transformer fails where Griffin extrapolates",
        "@de2024griffin", "no run", "not measured",
        f"every evaluated distance lies inside the {v['recall_seq_len']}-token training sequences")
    row("G-7", "Selective copying and induction heads: Hawk learns copying more slowly; the MQA "
        "Transformer does not extrapolate induction heads", "@de2024griffin", "no run",
        "not measured", "the harness has no selective-copying or induction-head task")
    row("G-8", "Hawk and Griffin match or beat Transformers and Mamba downstream with fewer "
        "training tokens", "@de2024griffin", "no run", "not measured",
        "no language-model pretraining in the harness")
    solved = v["mqar_transformer_solved_widths"]
    z1 = verdict_attention_solves_every_width(solved, v["mqar_widths_count"])
    row("Z-1", "Attention solves MQAR at every model width (their Fig. 2)", "@arora2023zoology",
        f"widths {v['mqar_widths']}: {v['mqar_transformer_narrowest']:.2f} at the narrowest, "
        f"{v['mqar_transformer_widest_zero']:.2f} at the widest (filler id 0); solved "
        f"({v['mqar_target']}): {v['mqar_transformer_solved']}; with Zoology's learning rates "
        f"{v['zoology_lrs']} for {v['zoology_steps']:,} steps: {v['zoology_best']}", z1,
        {"reproduces": "solved at every width",
         "partly": "the narrow widths stay unsolved under Zoology's learning rates and steps "
                   "too (one seed, the grid's smallest rate not run); the harness's blocks carry "
                   "an MLP and RoPE, Zoology's figure models neither",
         "does not": f"unsolved at every width with one learning rate ({v['mqar_lr']}) and "
                     f"{v['mqar_steps']:,} steps"})
    row("Z-2", "Gated convolutions and recurrences need a width that grows with the sequence "
        "length and the number of pairs", "@arora2023zoology",
        f"one setting (L = {v['mqar_seq_len']}, {v['mqar_pairs']} pairs) only", "not measured",
        "a scaling law needs several sequence lengths")
    ordered = v["mqar_hawk_best"] < v["mqar_griffin_best"] < v["mqar_transformer_best"] and \
        v["mqar_hawk_state_kib_max"] < v["mqar_griffin_state_kib_max"] < \
        v["mqar_transformer_state_kib_max"]
    contradicted = v["hawk_beyond_min"] > v["griffin_beyond"] and \
        v["hawk_state_kib"] < v["griffin_state_kib"]
    row("B-1", "Recall trades against recurrent state size along one recall-memory frontier",
        "@arora2024based",
        f"MQAR best accuracy: Hawk {v['mqar_hawk_best']:.2f}, Griffin "
        f"{v['mqar_griffin_best']:.2f}, Transformer {v['mqar_transformer_best']:.2f} (largest "
        f"states {v['mqar_hawk_state_kib_max']:.1f}, {v['mqar_griffin_state_kib_max']:.1f}, "
        f"{v['mqar_transformer_state_kib_max']:.1f} KiB); distance recall past the window: Hawk "
        f"({v['hawk_state_kib']:.1f} KiB) {v['hawk_beyond_min']:.2f} against Griffin "
        f"({v['griffin_state_kib']:.1f} KiB) {v['griffin_beyond']:.2f}",
        "partly" if ordered else "does not",
        {"partly": "MQAR orders the models by state size, but Hawk beats the larger-state Griffin "
                   "past its window: most of Griffin's state is the window's cache, which holds "
                   "nothing older than the window" if contradicted else
                   "MQAR orders the models by state size; three widths trace no frontier",
         "does not": "MQAR accuracy does not follow state size"})
    lines = ["| claim | source | measured here | verdict | why |", "| --- | --- | --- | --- | --- |"]
    for c in v.claims:
        lines.append(f"| **{c['id']}** {c['claim']} | [{c['cite']}] | {c['measured']} | "
                     f"**{c['verdict']}** | {c['why']} |")
    v.tables["claims"] = {"markdown": "\n".join(lines),
                          "sources": sorted({s["source"] for s in v.items.values()})}
    counts = {k: sum(c["verdict"] == k for c in v.claims) for k in
              ("reproduces", "partly", "does not", "not measured")}
    for k, n in counts.items():
        v.put(f"claims_{k.replace(' ', '_')}", n, "papers/griffin-vs-transformer/paper.py",
              "rows of the claims table with this verdict")
    v.put("claims_total", len(v.claims), "papers/griffin-vs-transformer/paper.py", "rows")


# --- how each file was made


REPRODUCE = [
    ("memory.png, memory table", [MEMORY], ISSUE15),
    ("latency.png, latency table", [LATENCY], ISSUE15),
    ("budget.png, budget table (shorter depth)",
     [BUDGET.format(m, BUDGET_DEPTHS[0]) for m in (RG, GEMMA)], DECODE),
    ("budget.png, budget table (longer depth)",
     [BUDGET.format(m, BUDGET_DEPTHS[1]) for m in (RG, GEMMA)], ISSUE15),
    ("batches and decode peers tables",
     [BENCH.format(m) for m in (RG, GEMMA, "recurrentgemma-9b", "gemma-7b")] + [DECODE_PEERS],
     ISSUE15),
    ("recall_distance.png, recall table", [RECALL], RECALL_RUNS),
    ("mqar.png, MQAR table", [MQAR, MQAR_RANDOM], RECALL_RUNS),
    ("Zoology's protocol table", ZOOLOGY, SCALE_CALL),
    ("kernels.png, kernels table", sorted({H + f for k in KERNEL_CALLS for f in k[2:]}),
     f"{LOADS}; {RGLRU_CALL}"),
    ("training step", [TRAIN_RUNS], TRAIN_CALL),
    ("scale-out check", [NCCL_LOG], NCCL_CALL),
    ("scale-out on one GPU", [SCALE_OUT], SCALE_CALL),
]


# Files that carry no commit of their own: the commit of the device call that made them (the
# commit that added them, `git log --format=%h -- FILE`).
MADE_AT = {BUDGET.format(m, BUDGET_DEPTHS[0]): "c0543b1" for m in (RG, GEMMA)} | \
    {BUDGET.format(m, BUDGET_DEPTHS[1]): "e183029" for m in (RG, GEMMA)} | {TRAIN_RUNS: TRAIN_COMMIT}


def commit_of(results, rel):
    """The commit a result file was measured at: its git_commit attribute (HDF5), the one its
    name carries, or MADE_AT's."""
    if rel.endswith(".h5"):
        with h5py.File(os.path.join(results, rel), "r") as f:
            commit = text_attr(f.attrs["git_commit"])[:7]
            return commit + (" (uncommitted changes)" if int(f.attrs.get("git_dirty", 0)) else "")
    m = re.search(r"-([0-9a-f]{7})[./]", rel)
    if m:
        return m.group(1)
    if rel not in MADE_AT:
        raise PaperError(f"{rel}: no commit in the file or its name; add it to MADE_AT")
    return MADE_AT[rel]


def reproduce(v, results):
    with open(os.path.join(results, "README.md")) as f:
        sections = [l[3:] for l in f.read().splitlines() if l.startswith("## ")]
    rows, sources = [], []
    for what, files, where in REPRODUCE:
        for name in where.split("; "):
            if not any(s.startswith(name) for s in sections):
                raise PaperError(f"results/README.md has no section starting {name!r}")
        for rel in files:
            sources.append(src(rel))
            command = "-"
            if rel.endswith(".h5"):
                with h5py.File(os.path.join(results, rel), "r") as f:
                    command = f"`{text_attr(f.attrs['command_line'])}`"
            rows.append([what, f"`{src(rel)}`", commit_of(results, rel), command, where])
    v.table("reproduce", ["figure or table", "file", "commit", "command recorded in the file",
                          "results/README.md section with the device call"], rows, sources)


def collect(results):
    v = Values()
    for section in (memory, latency, budget, batches_and_peers, recall, mqar, kernels,
                    strongest_scan_peer, training_step, nccl, reproduce):
        section(v, results)
    claims(v)
    return v


# --- figures


def figures(results, v, out):
    drawn = []

    def done(name):
        drawn.append(name)
        return os.path.join(out, name)

    memory_figure(results, done("memory.png"))
    plot_run.plot(os.path.join(results, LATENCY), done("latency.png"),
                  [("decode_ms_per_token", "decode ms/token (median)", 1.0, False),
                   ("prefill_ms", "prefill ms (median)", 1.0, True)], "Latency at length")
    budget_figure(v, done("budget.png"))
    plot_recall.main(os.path.join(results, RECALL), done("recall_distance.png"))
    plot_recall.main(os.path.join(results, MQAR), done("mqar.png"))
    kernels_figure(v, done("kernels.png"))
    plot_run.plt.close("all")
    return drawn


def memory_figure(results, path):
    """State bytes against context: the measured bytes as points on the analytic size's line."""
    plt = plot_run.plt
    curves, _, meta = plot_run.load(os.path.join(results, MEMORY))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (model, batch), c in curves.items():
        ok = c["status"] == "ok"
        line, = ax.plot(c["context"][ok], c["state_bytes_analytic"][ok] / 2**20, lw=1,
                        label=f"{model}, batch {batch}: analytic")
        ax.plot(c["context"][ok], c["state_bytes_measured"][ok] / 2**20, "o",
                color=line.get_color(), label=f"{model}, batch {batch}: measured")
    window = max(int(w) for c in curves.values() for w in c["window"])
    ax.axvline(window, color="k", ls="--", lw=1)
    ax.annotate(f"window {window}", (window, 1), xycoords=("data", "axes fraction"), rotation=90,
                va="top", ha="right", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("context (tokens held)")
    ax.set_ylabel("decode state (MiB, log)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    plot_run.save(fig, path, "Memory per token", meta, f"{meta.get('gpu_name', '')}, "
                  f"{meta.get('dtype', '')}")


def budget_figure(v, path):
    plt = plot_run.plt
    fig, ax = plt.subplots(figsize=(7, 4))
    labels, bottoms = [], []
    parts = [("weights", "weight products"), ("kv_state", "attention cache / recurrent state"),
             ("other", "everything else")]
    bars = [(tag, model, depth) for tag, model in (("rg", "RecurrentGemma-2B"),
                                                   ("gemma", "Gemma-2B"))
            for depth in BUDGET_DEPTHS]
    bottoms = np.zeros(len(bars))
    for part, label in parts:
        heights = np.array([v[f"budget_{tag}_{d // 1024}k_{part}"] for tag, _, d in bars])
        ax.bar(range(len(bars)), heights, bottom=bottoms, label=label)
        bottoms += heights
    for i, (tag, _, _) in enumerate(bars):
        ax.hlines(v[f"weights_floor_{tag}"], i - 0.4, i + 0.4, colors="k", linestyles="--")
    labels = [f"{model}\n{d // 1024}k" for _, model, d in bars]
    ax.set_xticks(range(len(bars)), labels)
    ax.set_ylabel("ms per token (kernel time, batch 1)")
    ax.set_title("Per-token budget (Nsight Compute); dashed: weight bytes / copy ceiling",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def kernels_figure(v, path):
    plt = plot_run.plt
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [(op, dtype) for op, *_ in KERNEL_CALLS for dtype in bench_peers.DTYPES
             if f"kernel_{op}_{dtype}" in v.items]
    values = [v[f"kernel_{op}_{dtype}"] for op, dtype in names]
    ax.barh(range(len(names)), values, color=["tab:green" if x >= 1 else "tab:red" for x in values])
    ax.axvline(1, color="k", lw=1)
    peer = {op: "cuDNN" if op.startswith("conv1d") else "Triton scan" for op, *_ in KERNEL_CALLS}
    ax.set_yticks(range(len(names)), [f"{op} {dtype} (vs {peer[op]})" for op, dtype in names],
                  fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("peer time / harness time (geometric mean over shapes; > 1: harness faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
