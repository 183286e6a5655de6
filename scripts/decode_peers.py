#!/usr/bin/env python3
"""Decode and prefill peers of `griffin bench`, timed in the same device call, and one table of
ratios (issue 15; bench/README.md, "Decode against its peers").

  decode_peers.py run --models gemma-2b,recurrentgemma-2b,gemma-7b:chain --prompts 2048,8192
      --decode 64 --out peers.json   (MODEL:PEER+PEER runs only those peers for that model)
  decode_peers.py table --peers-json peers.json --griffin gemma-2b=bench.h5 ...   (the table)

Peers, at the presets' real shapes with random bf16 weights (nothing is downloaded):
- hf: Hugging Face transformers. Gemma-2B with a static cache and its decode step compiled by
  torch.compile (mode "reduce-overhead": CUDA graphs), the way its documentation recommends for
  fast decoding; RecurrentGemma-2B as it runs (eager; it keeps its own fixed-size cache). The
  prompt is prefilled (timed, median of 3), then `--decode` greedy steps are timed one by one
  with CUDA events (median). A static cache is sized to the prompt plus the decode steps, as
  griffin's graph decode reserves its cache.
- chain: the floor of weight streaming, measured: one torch.nn.functional.linear per nn.Linear
  of the Hugging Face model, in model order, plus the tied LM head, at batch 1 on the same bf16
  weights, captured in one CUDA graph and replayed (cuBLAS picks each product's kernel). Also the
  same weight bytes over the copy ceiling, the floor no kernel beats.

Each (peer, model) runs in its own process, so one that fails (an API this transformers lacks,
out of memory) is a row saying so instead of the end of the run.
"""
import argparse
import json
import os
import subprocess
import sys

COPY_CEILING_GBPS = 4250.0  # the H200's measured copy ceiling (bench/README.md)
PEERS = ["chain", "hf"]

# The presets' shapes (core/model/config.cpp), as Hugging Face configs.
HF_CONFIGS = {
    "gemma-2b": ("GemmaConfig", "GemmaForCausalLM", dict(
        vocab_size=256000, hidden_size=2048, intermediate_size=16384, num_hidden_layers=18,
        num_attention_heads=8, num_key_value_heads=1, head_dim=256,
        max_position_embeddings=131072, hidden_activation="gelu_pytorch_tanh")),
    "recurrentgemma-2b": ("RecurrentGemmaConfig", "RecurrentGemmaForCausalLM", dict(
        vocab_size=256000, hidden_size=2560, intermediate_size=15360, num_hidden_layers=26,
        num_attention_heads=10, num_key_value_heads=1, head_dim=256, lru_width=2560,
        attention_window_size=2048, conv1d_width=4, logits_soft_cap=30.0,
        block_types=["recurrent", "recurrent", "attention"])),
    "gemma-7b": ("GemmaConfig", "GemmaForCausalLM", dict(
        vocab_size=256000, hidden_size=3072, intermediate_size=24576, num_hidden_layers=28,
        num_attention_heads=16, num_key_value_heads=16, head_dim=256,
        max_position_embeddings=131072, hidden_activation="gelu_pytorch_tanh")),
    "recurrentgemma-9b": ("RecurrentGemmaConfig", "RecurrentGemmaForCausalLM", dict(
        vocab_size=256000, hidden_size=4096, intermediate_size=24576, num_hidden_layers=38,
        num_attention_heads=16, num_key_value_heads=1, head_dim=256, lru_width=4096,
        attention_window_size=2048, conv1d_width=4, logits_soft_cap=30.0,
        block_types=["recurrent", "recurrent", "attention"])),
}


def cuda_timer(torch):
    def elapsed(fn):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        result = fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop), result
    return elapsed


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def hf_model(torch, name):
    import transformers
    config_cls, model_cls, kwargs = HF_CONFIGS[name]
    config = getattr(transformers, config_cls)(**kwargs)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = getattr(transformers, model_cls)(config).to(torch.bfloat16).eval()
    return config, model


def linear_chain(torch, model, batch):
    """Every nn.Linear's weight in model order, then the tied LM head: one token's products."""
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    embed = model.get_input_embeddings().weight
    if not any(w.data_ptr() == embed.data_ptr() for w in weights):
        weights.append(embed)
    return weights


def run_chain(torch, name, batch, repeats):
    _, model = hf_model(torch, name)
    weights = linear_chain(torch, model, batch)
    inputs = [torch.randn(batch, w.shape[1], device="cuda", dtype=torch.bfloat16) for w in weights]
    outs = [None] * len(weights)

    def chain():
        for i, w in enumerate(weights):
            outs[i] = torch.nn.functional.linear(inputs[i], w)

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            chain()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        chain()
    elapsed = cuda_timer(torch)
    times = [elapsed(graph.replay)[0] for _ in range(repeats)]
    weight_bytes = sum(w.numel() * w.element_size() for w in weights)
    return {"chain_ms": median(times), "products": len(weights), "weight_bytes": weight_bytes,
            "ceiling_ms": weight_bytes / (COPY_CEILING_GBPS * 1e9) * 1e3}


def make_static_cache(torch, config, batch, length):
    from transformers import StaticCache
    attempts = [dict(config=config, max_batch_size=batch, max_cache_len=length, device="cuda",
                     dtype=torch.bfloat16),
                dict(config=config, max_cache_len=length)]
    for kwargs in attempts:
        try:
            return StaticCache(**kwargs)
        except TypeError:
            continue
    raise RuntimeError("StaticCache takes none of the known argument sets")


def run_hf(torch, name, batch, prompts, decode, repeats):
    config, model = hf_model(torch, name)
    elapsed = cuda_timer(torch)
    rows = []
    static = name.startswith("gemma")
    step_fn = model.forward
    if static:
        step_fn = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
    for prompt in prompts:
        ids = torch.randint(1, config.vocab_size, (batch, prompt), device="cuda")
        length = prompt + decode + 8
        prefill_ms = []
        with torch.no_grad():
            for _ in range(repeats):
                kwargs = dict(input_ids=ids, cache_position=torch.arange(prompt, device="cuda"),
                              use_cache=True)
                if static:
                    cache = make_static_cache(torch, config, batch, length)
                    kwargs["past_key_values"] = cache
                ms, out = elapsed(lambda: model(**kwargs))
                prefill_ms.append(ms)
            token = out.logits[:, -1:].argmax(-1)
            del out
            steps = []
            for t in range(decode + 3):  # three untimed: compilation and graph capture
                pos = torch.tensor([prompt + t], device="cuda")
                kwargs = dict(input_ids=token, cache_position=pos, use_cache=True)
                if static:
                    kwargs["past_key_values"] = cache
                ms, logits = elapsed(lambda: step_fn(**kwargs).logits)
                token = logits[:, -1:].argmax(-1).clone()
                if t >= 3:
                    steps.append(ms)
        rows.append({"prompt": prompt, "prefill_ms": median(prefill_ms),
                     "decode_ms": median(steps), "decode_p90_ms": sorted(steps)[9 * len(steps) // 10],
                     "mode": "static cache, torch.compile reduce-overhead" if static else "eager"})
        if static:
            del cache
    import transformers
    return {"rows": rows, "transformers": transformers.__version__}


def worker(args):
    import torch
    out = {"peer": args.peer, "model": args.model, "batch": args.batch, "torch": torch.__version__,
           "gpu": torch.cuda.get_device_name(0)}
    if args.peer == "chain":
        out.update(run_chain(torch, args.model, args.batch, args.repeats))
    else:
        out.update(run_hf(torch, args.model, args.batch, args.prompts, args.decode, 3))
    out["status"] = "ok"
    print(json.dumps(out))


def model_peers(spec, default):
    """"MODEL" (every peer of --peers) or "MODEL:PEER+PEER" (those only)."""
    model, _, peers = spec.partition(":")
    chosen = [p for p in peers.split("+") if p] if peers else default
    unknown = [x for x in [model] if x not in HF_CONFIGS] + [p for p in chosen if p not in PEERS]
    if unknown:
        sys.exit(f"decode_peers.py: --models {spec}: unknown {', '.join(unknown)} "
                 f"(models: {', '.join(HF_CONFIGS)}; peers: {', '.join(PEERS)})")
    return model, chosen


def run(args):
    results = []
    for spec in args.models:
        model, peers = model_peers(spec, args.peers)
        for peer in peers:
            cmd = [sys.executable, os.path.abspath(__file__), "worker", "--peer", peer, "--model",
                   model, "--batch", str(args.batch), "--prompts", ",".join(map(str, args.prompts)),
                   "--decode", str(args.decode), "--repeats", str(args.repeats)]
            print(f"[decode_peers] {peer} {model}", file=sys.stderr, flush=True)
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
                if done.returncode == 0 and lines:
                    results.append(json.loads(lines[-1]))
                    continue
                why = (done.stderr.strip().splitlines() or ["no output"])[-1]
                status = f"failed (exit {done.returncode}): {why[:200]}"
            except subprocess.TimeoutExpired:
                status = f"timed out after {args.timeout} s"
            results.append({"peer": peer, "model": model, "status": status})
            print(f"[decode_peers] {peer} {model}: {status}", file=sys.stderr, flush=True)
    with open(args.out, "w") as f:
        json.dump({"results": results}, f, indent=1)
    print(table(results, griffin_rows(args.griffin)))


def griffin_rows(specs):
    """model -> {prompt: (decode ms, prefill ms)} from `griffin bench` files (batch-1 points)."""
    rows = {}
    for spec in specs or []:
        model, path = spec.split("=", 1)
        import h5py
        with h5py.File(path, "r") as f:
            batch = f["points/batch"][()]
            prompt = f["points/prompt_tokens"][()]
            decode = f["metrics/decode_ms_per_token"][()]
            prefill = f["metrics/prefill_ms"][()]
            mode = f.attrs.get("decode_mode", b"")
            mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        rows[model] = {"mode": mode, "points": {int(p): (float(d), float(pre)) for b, p, d, pre in
                                                zip(batch, prompt, decode, prefill) if b == 1}}
    return rows


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def table(results, griffin):
    """One row per model and prompt: griffin, the Hugging Face peer and the floors, ms/token, and
    the ratios peer / griffin (above 1: griffin faster) and griffin / floor."""
    by = {(r["peer"], r["model"]): r for r in results}
    lines = ["| model | prompt | griffin decode | HF decode | HF / griffin | GEMV chain | "
             "weights / ceiling | griffin / chain | griffin prefill | HF prefill | HF / griffin |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    models = sorted({r["model"] for r in results} | set(griffin))
    for model in models:
        chain, hf = by.get(("chain", model), {}), by.get(("hf", model), {})
        for r in (chain, hf):
            if r and r.get("status") != "ok":
                notes.append(f"- {r['peer']} {model}: {r['status']}")
        g = griffin.get(model, {}).get("points", {})
        hf_points = {row["prompt"]: row for row in hf.get("rows", [])}
        for prompt in sorted(set(g) | set(hf_points)):
            gd, gp = g.get(prompt, (None, None))
            h = hf_points.get(prompt, {})
            hd, hp = h.get("decode_ms"), h.get("prefill_ms")
            lines.append(
                f"| {model} | {prompt} | {fmt(gd)} | {fmt(hd)} | {fmt(ratio(hd, gd), 2)} | "
                f"{fmt(chain.get('chain_ms'))} | {fmt(chain.get('ceiling_ms'))} | "
                f"{fmt(ratio(gd, chain.get('chain_ms')), 2)} | {fmt(gp, 1)} | {fmt(hp, 1)} | "
                f"{fmt(ratio(hp, gp), 2)} |")
    versions = sorted({f"transformers {r['transformers']}" for r in results if "transformers" in r} |
                      {f"torch {r['torch']}" for r in results if "torch" in r})
    out = "\n".join(lines)
    out += ("\n\nms/token at batch 1, bf16, random weights; griffin's decode mode: " +
            ", ".join(f"{m} {v['mode']}" for m, v in sorted(griffin.items())) +
            ("; " + ", ".join(versions) if versions else "") + ".")
    if notes:
        out += "\n\n" + "\n".join(notes)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    ints = lambda s: [int(x) for x in s.split(",") if x]
    names = lambda s: [x for x in s.split(",") if x]
    r = sub.add_parser("run")
    r.add_argument("--models", type=names, default=["gemma-2b", "recurrentgemma-2b"],
                   help="MODEL or MODEL:PEER+PEER (e.g. gemma-7b:chain), comma-separated")
    r.add_argument("--peers", type=names, default=PEERS)
    r.add_argument("--prompts", type=ints, default=[2048, 8192])
    r.add_argument("--decode", type=int, default=64)
    r.add_argument("--batch", type=int, default=1)
    r.add_argument("--repeats", type=int, default=50, help="graph replays of the chain")
    r.add_argument("--timeout", type=int, default=900, help="seconds per (peer, model)")
    r.add_argument("--griffin", action="append", help="MODEL=bench.h5 from griffin bench")
    r.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("--peers-json", required=True)
    t.add_argument("--griffin", action="append", help="MODEL=bench.h5 from griffin bench")
    w = sub.add_parser("worker")
    w.add_argument("--peer", choices=PEERS, required=True)
    w.add_argument("--model", choices=list(HF_CONFIGS), required=True)
    w.add_argument("--batch", type=int, default=1)
    w.add_argument("--prompts", type=ints, default=[2048])
    w.add_argument("--decode", type=int, default=64)
    w.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    if args.command == "run":
        run(args)
    elif args.command == "table":
        with open(args.peers_json) as f:
            print(table(json.load(f)["results"], griffin_rows(args.griffin)))
    else:
        worker(args)


if __name__ == "__main__":
    main()
