#!/usr/bin/env python3
"""Times every public peer of the project's kernels with griffin_microbench's method and shapes,
and writes one table: griffin against each peer, time ratio per shape and dtype.

  bench_peers.py run --griffin microbench.json --out peers.json --table peers.md
      [--peers NAME,...] [--ops OP,...]
  bench_peers.py table --griffin microbench.json --peers-json peers.json   (redraw the table)
  bench_peers.py prepare --site DIR [--conv-src causal_conv1d-1.6.1.tar.gz]  (compile the CUDA
      peers for sm_90 into DIR, which must be on PYTHONPATH; device-run.sh runs it beside the build)

Method (bench/bench_util.cpp, TimeAndReport): one warm-up call, then 20 repeats, each with the L2
flushed first (a memset of twice the L2 size), timed with CUDA events on the current stream; the
median is reported. Inputs are random and never all-zero: decays in (0.5, 1), Gaussian inputs.
Each peer takes its own layout (accelerated-scan [B, D, T], flash-linear-attention [B, T, D] with
g = log a, causal-conv1d [B, D, T] with the channels contiguous, as griffin holds them); the
inputs are made in that layout before timing, so no transpose is timed.

Every (peer, op) runs in its own process: a peer that crashes (illegal address, compiler error)
or refuses a shape is reported as such and cannot take the others down; after a crash the
remaining shapes run in a fresh process.

Peers (installed with pip --no-deps into a folder on PYTHONPATH, see scripts/fetch-device-deps):
accelerated-scan 0.3.1 (Triton `accelerated_scan.scalar.scan`; CUDA `accelerated_scan.warp`,
compiled at import), flash-linear-attention (fla-core 0.6.0: `chunk_hgrn`,
`fused_recurrent_hgrn`), causal-conv1d 1.6.1 compiled for sm_90 from its source (--conv-src), or
else torch's cuDNN depthwise conv1d, and the table says which ran.
"""
import argparse
import json
import os
import subprocess
import sys
import time

COPY_CEILING_GBPS = 4250.0  # the H200's measured copy ceiling (bench/README.md)
REPEATS = 20

# The shapes the kernels' targets are set at (bench/README.md), (B, T, D); all are in
# griffin_microbench's grid.
SHAPES = [(1, 16384, 2560), (8, 16384, 2560), (64, 2048, 4096), (1, 131072, 4096)]
DTYPES = ["f32", "bf16"]

# op -> (griffin microbenchmark name(s) whose medians add up to the op, bytes per element in units
# of the dtype's size, or 0 where no single byte count applies). Forward + backward of the plain
# scan: the forward's 3 tensors and the backward's 5 (a, x, dL/dy read; dL/da, dL/dx written).
OPS = {
    "scan_fwd": (["LinearScan"], 3),
    "scan_fwd_bwd": (["LinearScan", "LinearScanBackward"], 8),
    "rglru_fwd_bwd": (["RgLruForward", "RgLruBackward"], 0),
    "conv1d_fwd": (["Conv1dForward"], 2),
    "conv1d_bwd": (["Conv1dBackward"], 3),
}

# Ops with no peer of their own, compared with another op's peer times: the RG-LRU (gates
# in-kernel) forward + backward against each peer's plain scan forward + backward.
COMPARED_WITH = {"rglru_fwd_bwd": "scan_fwd_bwd"}

# peer -> ops it provides
PEERS = {
    "accelerated-scan triton": ["scan_fwd", "scan_fwd_bwd"],
    "accelerated-scan warp": ["scan_fwd", "scan_fwd_bwd"],
    "fla chunk_hgrn": ["scan_fwd", "scan_fwd_bwd"],
    "fla fused_recurrent_hgrn": ["scan_fwd", "scan_fwd_bwd"],
    "causal-conv1d": ["conv1d_fwd", "conv1d_bwd"],
}


def shape_key(b, t, d, dtype):
    return f"B{b}_T{t}_D{d}_{dtype}"


# --------------------------------------------------------------------------- worker side


def timer(torch):
    """Returns time(fn) -> seconds with the microbenchmark's method."""
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    flush = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")

    def time_once(fn):
        flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        return start.elapsed_time(stop) * 1e-3

    def median_time(fn):
        fn()  # warm-up: compilation, module load, allocator growth
        torch.cuda.synchronize()
        samples = sorted(time_once(fn) for _ in range(REPEATS))
        return samples[len(samples) // 2]

    return median_time


def scan_inputs(torch, b, t, d, dtype, layout):
    """Decays a in (0.5, 1) and Gaussian x, [B, T, D] or [B, D, T], contiguous."""
    shape = (b, t, d) if layout == "btd" else (b, d, t)
    a = (0.5 + 0.5 * torch.rand(shape, device="cuda")).to(dtype)
    x = torch.randn(shape, device="cuda").to(dtype)
    return a, x


def scan_reference(torch, a, x):
    """h_t = a_t h_{t-1} + x_t over dim 1 of [B, T, D], in float64."""
    a, x = a.double(), x.double()
    h = torch.zeros_like(x[:, 0])
    out = []
    for i in range(x.shape[1]):
        h = a[:, i] * h + x[:, i]
        out.append(h)
    return torch.stack(out, 1)


def scan_peer(torch, peer):
    """Returns (prep, fn, layout): fn(*prep(a, x)) -> y is the peer's plain scan. prep makes the
    peer's own operands (fla takes g = log a) and is not timed."""
    keep = lambda a, x: (a, x)  # noqa: E731
    log_first = lambda a, x: (x, torch.log(a.float()).to(a.dtype))  # noqa: E731
    if peer == "accelerated-scan triton":
        from accelerated_scan.scalar import scan
        return keep, scan, "bdt"
    if peer == "accelerated-scan warp":
        from accelerated_scan.warp import scan
        return keep, scan, "bdt"
    if peer == "fla chunk_hgrn":
        from fla.ops.hgrn import chunk_hgrn
        return log_first, lambda x, g: chunk_hgrn(x, g)[0], "btd"
    if peer == "fla fused_recurrent_hgrn":
        from fla.ops.hgrn import fused_recurrent_hgrn
        return log_first, lambda x, g: fused_recurrent_hgrn(x, g)[0], "btd"
    raise ValueError(peer)


def check_scan(torch, peer):
    """The peer computes the scan (fp32, small awkward size): relative error against fp64."""
    prep, fn, layout = scan_peer(torch, peer)
    b, t, d = 2, 1024, 96
    a, x = scan_inputs(torch, b, t, d, torch.float32, "btd")
    want = scan_reference(torch, a, x)
    if layout == "bdt":
        got = fn(*prep(a.transpose(1, 2).contiguous(), x.transpose(1, 2).contiguous()))
        got = got.transpose(1, 2)
    else:
        got = fn(*prep(a, x))
    err = ((got.double() - want).norm() / want.norm()).item()
    if not err < 1e-3:
        raise RuntimeError(f"does not compute the scan: relative error {err:.2e} against fp64")
    return err


def conv_peer(torch, conv_impl):
    """Returns f(x_bdt, w[D, 4], bias[D]) -> y: causal depthwise width-4 conv over T."""
    if conv_impl == "causal-conv1d":
        from causal_conv1d import causal_conv1d_fn
        return lambda x, w, bias: causal_conv1d_fn(x, w, bias)
    import torch.nn.functional as F
    return lambda x, w, bias: F.conv1d(x, w.unsqueeze(1), bias, padding=w.shape[1] - 1,
                                       groups=w.shape[0])[..., :x.shape[2]]


def measure(torch, peer, op, b, t, d, dtype_name, median_time, conv_impl):
    dtype = torch.float32 if dtype_name == "f32" else torch.bfloat16
    if op.startswith("scan"):
        prep, fn, layout = scan_peer(torch, peer)
        operands = prep(*scan_inputs(torch, b, t, d, dtype, layout))
        if op == "scan_fwd":
            with torch.inference_mode():
                return median_time(lambda: fn(*operands))
        for tensor in operands:
            tensor.requires_grad_(True)
        grad = torch.randn_like(operands[0])

        def step():
            for tensor in operands:
                tensor.grad = None
            fn(*operands).backward(grad)

        return median_time(step)
    # Conv1D: the channels contiguous, as griffin holds them ([B, T, D] memory seen as [B, D, T]);
    # cuDNN gets its own contiguous [B, D, T].
    fn = conv_peer(torch, conv_impl)
    if conv_impl == "causal-conv1d":
        x = torch.randn(b, t, d, device="cuda").to(dtype).transpose(1, 2)
    else:
        x = torch.randn(b, d, t, device="cuda").to(dtype)
    w = torch.randn(d, 4, device="cuda").to(dtype)
    bias = torch.randn(d, device="cuda").to(dtype)
    if op == "conv1d_fwd":
        with torch.inference_mode():
            return median_time(lambda: fn(x, w, bias))
    for tensor in (x, w, bias):
        tensor.requires_grad_(True)
    y = fn(x, w, bias)
    grad = torch.randn_like(y)

    def backward():
        x.grad = w.grad = bias.grad = None
        y.backward(grad, retain_graph=True)

    return median_time(backward)


def worker(args):
    """Runs one (peer, op) over the given shapes; one JSON line per shape to --results."""
    import torch
    median_time = timer(torch)
    out = open(args.results, "a")
    conv_impl = None
    if args.op.startswith("conv1d"):
        try:
            import causal_conv1d  # noqa: F401
            conv_impl = "causal-conv1d"
        except Exception as e:  # noqa: BLE001  (any import failure means: not built)
            print(f"causal-conv1d unavailable ({e}); timing torch's cuDNN conv1d", file=sys.stderr)
            conv_impl = "cudnn conv1d"
    else:
        err = check_scan(torch, args.peer)
        print(f"{args.peer}: relative error {err:.1e} against fp64", file=sys.stderr)
    for key in args.shapes.split(","):
        b, t, d, dtype = parse_key(key)
        row = {"peer": args.peer, "op": args.op, "shape": key}
        if conv_impl:
            row["impl"] = conv_impl
        # Marked before running: if this shape kills the process, the parent finds it here.
        print(json.dumps({**row, "status": "started"}), file=out, flush=True)
        try:
            row["median_us"] = measure(torch, args.peer, args.op, b, t, d, dtype, median_time,
                                       conv_impl) * 1e6
            row["status"] = "ok"
        except torch.cuda.OutOfMemoryError:
            row["status"] = "out of memory"
        except Exception as e:  # noqa: BLE001  (a refusal is a result, reported as such)
            # The first line names the reason; peers append advice after it.
            msg = [line for line in str(e).strip().splitlines() if line.strip()]
            reason = msg[0].split("(Could this error")[0].strip() if msg else type(e).__name__
            row["status"] = "refused: " + reason[:120]
            if "CUDA" in str(e) or "illegal" in str(e):
                row["status"] = "crashed: " + reason[:120]
                print(json.dumps(row), file=out, flush=True)
                sys.exit(3)  # the context is gone; the parent continues in a fresh process
            torch.cuda.empty_cache()
        print(json.dumps(row), file=out, flush=True)


def parse_key(key):
    parts = key.split("_")
    return int(parts[0][1:]), int(parts[1][1:]), int(parts[2][1:]), parts[3]


# --------------------------------------------------------------------------- preparation


def prepare(args):
    """Compiles the peers that build from source, for sm_90 only, each under a time limit:
    accelerated-scan's warp kernel (load_inline at import, cached in TORCH_EXTENSIONS_DIR) and
    causal-conv1d's extension from its sdist. A failure is printed; the run reports the peer as
    unavailable."""
    import tarfile
    env = dict(os.environ, TORCH_CUDA_ARCH_LIST="9.0", MAX_JOBS=str(os.cpu_count() or 8))
    t0 = time.time()
    try:
        subprocess.run([sys.executable, "-c", "import accelerated_scan.warp"], env=env,
                       timeout=args.timeout, capture_output=True, check=True)
        print(f"accelerated-scan warp compiled ({time.time() - t0:.0f} s)")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"accelerated-scan warp did not compile: {str(e)[:200]}")
    if not args.conv_src:
        return
    src_root = os.path.join(args.site, "_src")
    with tarfile.open(args.conv_src) as tar:
        tar.extractall(src_root, filter="data")
    src = os.path.join(src_root, os.path.basename(args.conv_src).removesuffix(".tar.gz"))
    flags = ["-O3", "-U__CUDA_NO_HALF_OPERATORS__", "-U__CUDA_NO_HALF_CONVERSIONS__",
             "-U__CUDA_NO_BFLOAT16_OPERATORS__", "-U__CUDA_NO_BFLOAT16_CONVERSIONS__",
             "-U__CUDA_NO_BFLOAT162_OPERATORS__", "-U__CUDA_NO_BFLOAT162_CONVERSIONS__",
             "--expt-relaxed-constexpr", "--expt-extended-lambda", "--use_fast_math",
             "-gencode", "arch=compute_90,code=sm_90"]  # the package's own flags, one target
    sources = [os.path.join(src, "csrc", f) for f in
               ("causal_conv1d.cpp", "causal_conv1d_fwd.cu", "causal_conv1d_bwd.cu",
                "causal_conv1d_update.cu")]
    build = ("from torch.utils.cpp_extension import load\n"
             f"load(name='causal_conv1d_cuda', sources={sources!r}, extra_cflags=['-O3'],\n"
             f"     extra_cuda_cflags={flags!r},\n"
             f"     extra_include_paths=[{os.path.join(src, 'csrc')!r}],\n"
             f"     build_directory={args.site!r})\n")
    t0 = time.time()
    try:
        subprocess.run([sys.executable, "-c", build], env=env, timeout=args.timeout,
                       capture_output=True, check=True, text=True)
        link = os.path.join(args.site, "causal_conv1d")
        if not os.path.lexists(link):  # a second run on a warm machine finds it there
            os.symlink(os.path.join(src, "causal_conv1d"), link)
        print(f"causal-conv1d compiled for sm_90 ({time.time() - t0:.0f} s)")
    except subprocess.CalledProcessError as e:
        print(f"causal-conv1d did not compile: {(e.stderr or '').strip()[-400:]}")
    except subprocess.TimeoutExpired:
        print(f"causal-conv1d did not compile within {args.timeout} s")


# --------------------------------------------------------------------------- parent side


def read_rows(results, start):
    """The rows a worker appended from line `start` on; a line cut by a dying process is skipped."""
    if not os.path.exists(results):
        return []
    rows = []
    for line in list(open(results))[start:]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def run_peer(peer, op, keys, results, timeout):
    """Runs the worker until every shape has a row; a crash costs only the shape it hit."""
    rows = {}
    while len(rows) < len(keys):
        todo = [k for k in keys if k not in rows]
        start_lines = sum(1 for _ in open(results)) if os.path.exists(results) else 0
        cmd = [sys.executable, os.path.abspath(__file__), "worker", "--peer", peer, "--op", op,
               "--shapes", ",".join(todo), "--results", results]
        t0 = time.time()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            tail = (proc.stderr.strip().splitlines() or [""])[-1]
            code = proc.returncode
        except subprocess.TimeoutExpired:
            tail, code = f"timed out after {timeout} s", "timeout"
        new = read_rows(results, start_lines)
        finished = {r["shape"]: r for r in new if r["status"] != "started"}
        rows.update(finished)
        started = [r["shape"] for r in new if r["status"] == "started"]
        hit = next((k for k in started if k not in finished), None)
        if hit is not None:  # the process died inside this shape
            rows[hit] = {"peer": peer, "op": op, "shape": hit,
                         "status": f"crashed (exit {code}): {tail[:160]}"}
        elif not finished:  # died before any shape (import or check failed): all of them
            for k in todo:
                rows[k] = {"peer": peer, "op": op, "shape": k,
                           "status": f"unavailable (exit {code}): {tail[:160]}"}
        print(f"  {peer} {op}: {len(rows)}/{len(keys)} shapes ({time.time() - t0:.0f} s)",
              flush=True)
    return [rows[k] for k in keys]


def griffin_medians(path):
    """{(benchmark name, shape key): median us} of the cuda rows of a griffin_microbench JSON."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data.get("benchmarks", []):
        parts = b["name"].split("/")
        if len(parts) >= 3 and parts[1] == "cuda" and "median_us" in b:
            out[(parts[0], parts[2])] = b["median_us"]
    return out, data.get("context", {})


def griffin_time(medians, op, key):
    names, _ = OPS[op]
    times = [medians.get((n, key)) for n in names]
    return sum(times) if all(v is not None for v in times) else None


def bytes_moved(op, key):
    b, t, d, dtype = parse_key(key)
    per = OPS[op][1]
    return per * b * t * d * (4 if dtype == "f32" else 2) if per else 0


def cell(us, op, key):
    moved = bytes_moved(op, key)
    if not moved:
        return f"{us:.1f}"
    return f"{us:.1f} ({moved / (us * 1e-6) * 1e-9 / COPY_CEILING_GBPS * 100:.1f}%)"


def table(medians, context, rows):
    lines = [f"Peers against griffin, {context.get('gpu', context.get('host_name', '?'))}, "
             f"griffin commit {context.get('git_commit', '?')}; time in us (share of the "
             f"{COPY_CEILING_GBPS / 1000:.2f} TB/s copy ceiling where one byte count applies); "
             "ratio = peer time / griffin time (above 1: griffin is faster)", ""]
    by_op = {}
    for r in rows:
        by_op.setdefault(r["op"], []).append(r)
    for op, source in COMPARED_WITH.items():
        if source in by_op:
            by_op[op] = [dict(r, op=op) for r in by_op[source]]
    for op, op_rows in by_op.items():
        # One column per peer; the header names what ran in its place (the Conv1D's cuDNN).
        peers = list(dict.fromkeys(r["peer"] for r in op_rows))
        ran = {p: next((r["impl"] for r in op_rows if r["peer"] == p and r.get("impl")), None)
               for p in peers}
        what = {"scan_fwd": "linear scan forward",
                "scan_fwd_bwd": "linear scan forward + backward (dL/da, dL/dx)",
                "rglru_fwd_bwd": "forward + backward: griffin's RG-LRU (gates in-kernel) against "
                                 "each peer's plain scan",
                "conv1d_fwd": "Conv1D forward (width 4)",
                "conv1d_bwd": "Conv1D backward (width 4)"}[op]
        lines += [f"### {what}", "",
                  "| shape | griffin | " + " | ".join(
                      f"{p}{f' ({ran[p]})' if ran[p] else ''} | ratio" for p in peers) + " |",
                  "| --- | ---: |" + " ---: | ---: |" * len(peers)]
        keys = list(dict.fromkeys(r["shape"] for r in op_rows))
        for key in keys:
            g = griffin_time(medians, op, key)
            cells = [key.replace("_", " "), cell(g, op, key) if g is not None else "not run"]
            for p in peers:
                r = next((r for r in op_rows if r["shape"] == key and r["peer"] == p), None)
                if r is None:
                    cells += ["", ""]
                elif r["status"] != "ok":
                    cells += [r["status"].replace("|", "/"), ""]
                else:
                    ratio = f"{r['median_us'] / g:.2f}x" if g else ""
                    cells += [cell(r["median_us"], op, key), ratio]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--griffin", required=True, help="griffin_microbench JSON of the same call")
    run.add_argument("--out", required=True, help="peer rows (JSON)")
    run.add_argument("--table", help="markdown table (also printed)")
    run.add_argument("--peers", default=",".join(PEERS), help="comma-separated peer names")
    run.add_argument("--ops", default=",".join(OPS), help="comma-separated ops to time")
    run.add_argument("--timeout", type=int, default=900, help="seconds per worker process")
    prep = sub.add_parser("prepare")
    prep.add_argument("--site", required=True, help="folder on PYTHONPATH for the built peers")
    prep.add_argument("--conv-src", help="causal-conv1d sdist (.tar.gz)")
    prep.add_argument("--timeout", type=int, default=420, help="seconds per compilation")
    tab = sub.add_parser("table")
    tab.add_argument("--griffin", required=True)
    tab.add_argument("--peers-json", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--peer", required=True)
    w.add_argument("--op", required=True)
    w.add_argument("--shapes", required=True)
    w.add_argument("--results", required=True)
    args = ap.parse_args()

    if args.cmd == "worker":
        return worker(args)
    if args.cmd == "prepare":
        return prepare(args)
    medians, context = griffin_medians(args.griffin)
    if args.cmd == "table":
        with open(args.peers_json) as f:
            print(table(medians, context, json.load(f)["rows"]))
        return
    keys = [shape_key(b, t, d, dt) for dt in DTYPES for (b, t, d) in SHAPES]
    results = args.out + ".lines"
    if os.path.exists(results):
        os.remove(results)
    rows = []
    for peer in args.peers.split(","):
        if peer not in PEERS:
            sys.exit(f"bench_peers.py: unknown peer '{peer}' (choices: {', '.join(PEERS)})")
        for op in PEERS[peer]:
            if op in args.ops.split(","):
                rows += run_peer(peer, op, keys, results, args.timeout)
    if os.path.exists(results):  # absent when no worker got as far as a shape
        os.remove(results)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"method": f"CUDA events, L2 flushed before each of {REPEATS} repeats, median",
                   "griffin_context": context, "rows": rows}, f, indent=1)
    os.replace(tmp, args.out)
    text = table(medians, context, rows)
    print(text)
    if args.table:
        with open(args.table, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
