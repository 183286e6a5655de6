#!/usr/bin/env python3
"""The recall-training step of the harness, written the way a researcher would in PyTorch: the
peer `griffin run` is timed against (bench/README.md, "Training step against PyTorch").

  train_step_peer.py [--width 128] [--scan fla|accelerated-scan] [--steps 200] [--json out.json]
  train_step_peer.py --nvtx-steps 2 ...   (eager steps inside NVTX ranges "train step", for
                                           Nsight Compute's per-kernel list; no timing)

The model is the harness's Griffin (core/model): embedding scaled by sqrt(width) in bf16, per
layer RMSNorm (1 + scale) -> temporal block -> residual -> RMSNorm -> GeGLU MLP -> residual; the
recurrent block is gelu(linear_y) * linear_out-input of RG-LRU(conv1d(linear_x)) with
block-diagonal gates in float32; the attention block is multi-query local attention (window W:
keys at distance 0..W) with RoPE on half of each head; final RMSNorm, tied embedding, soft-cap 30,
cross-entropy at the task's scored positions only. Training as eval/train: float32 master weights
cast to bf16 every step (RG-LRU parameters stay float32), gradient clipping at 1.0, AdamW (fused,
capturable) with weight decay on matrices only.

The PyTorch way, at its best without a compiler: eager modules, torch's SDPA for the attention
(a boolean band mask), a public scan kernel for the recurrence (flash-linear-attention's
`chunk_hgrn`, h_t = exp(g_t) h_{t-1} + x_t, or accelerated-scan's Triton scan), torch's
grouped conv1d, and the whole step (batch copy-in, forward, backward, clipping, AdamW) replayed
from one CUDA graph. torch.compile is not used: on 2026-12-01 it failed on the H200 with a Triton
compiler error on this model.

Batches are MQAR batches as eval/tasks/mqar.cpp makes them (Zoology's layout: key-value pairs,
then queries at distinct even positions, filler 0), made ahead of time and kept on the GPU; each
step copies one into the graph's input buffers (device to device; the harness makes each batch
on the host while the previous step runs and uploads it from page-locked memory).

Timing: CUDA events around `--steps` graph replays after 10 warm-up replays; ms/step is their
mean, also given as the median of 5 blocks. The eager step is timed the same way.
"""
import argparse
import json
import math
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--mlp-width", type=int, default=0, help="default: 2 x width")
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--pattern", default="RA", help="R: recurrent block, A: local attention")
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--pairs", type=int, default=16)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--scan", choices=["fla", "accelerated-scan"], default="fla")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--eager-steps", type=int, default=50)
    p.add_argument("--nvtx-steps", type=int, default=0)
    p.add_argument("--json", default="")
    return p.parse_args()


def build(torch, args):
    nn, F = torch.nn, torch.nn.functional
    bf16 = torch.bfloat16
    D, M, W = args.width, args.mlp_width or 2 * args.width, args.window
    hd = D  # one head of the model's width, one key-value head

    if args.scan == "fla":
        from fla.ops.hgrn import chunk_hgrn

        def scan(x, log_a):  # [B, T, D] float32
            return chunk_hgrn(x, log_a)[0]
    else:
        from accelerated_scan.scalar import scan as triton_scan

        def scan(x, log_a):  # accelerated-scan takes [B, D, T] and the decay itself
            return triton_scan(log_a.exp().transpose(1, 2).contiguous(),
                               x.transpose(1, 2).contiguous()).transpose(1, 2)

    def normal(*shape, fan_in):
        return nn.Parameter(torch.randn(*shape) / math.sqrt(fan_in))

    def zeros(*shape):
        return nn.Parameter(torch.zeros(*shape))

    def cast(p):
        return p.to(bf16)

    class RmsNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = zeros(D)

        def forward(self, x):
            x32 = x.float()
            var = x32.pow(2).mean(-1, keepdim=True)
            return (x32 * torch.rsqrt(var + 1e-6) * (1.0 + self.scale)).to(bf16)

    class Linear(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.w = normal(n_out, n_in, fan_in=n_in)
            self.b = zeros(n_out) if bias else None

        def forward(self, x):
            return F.linear(x, cast(self.w), None if self.b is None else cast(self.b))

    class RgLru(nn.Module):  # float32 throughout, as the harness keeps it
        def __init__(self):
            super().__init__()
            self.a_param = nn.Parameter(torch.log(torch.expm1(
                -torch.log(torch.empty(D).uniform_(0.9 ** 2, 0.999 ** 2)) / 16.0)))
            self.gate_x_w, self.gate_x_b = normal(1, D, D, fan_in=D), zeros(1, D)
            self.gate_a_w, self.gate_a_b = normal(1, D, D, fan_in=D), zeros(1, D)
            self.fp32 = True

        def forward(self, c):
            c32 = c.float()
            gx = torch.sigmoid(c32 @ self.gate_x_w[0] + self.gate_x_b[0])
            ga = torch.sigmoid(c32 @ self.gate_a_w[0] + self.gate_a_b[0])
            log_a = -8.0 * ga * F.softplus(self.a_param)
            multiplier = torch.sqrt(1.0 - torch.exp(2.0 * log_a))
            # Every sequence starts at position 0: its first step resets (multiplier 1, no decay
            # of the zero state).
            multiplier = torch.cat([torch.ones_like(multiplier[:, :1]), multiplier[:, 1:]], 1)
            return scan(c32 * gx * multiplier, log_a).to(bf16)

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear_y, self.linear_x, self.linear_out = Linear(D, D), Linear(D, D), Linear(D, D)
            self.conv_w, self.conv_b = normal(D, 1, 4, fan_in=4), zeros(D)
            self.rg_lru = RgLru()

        def forward(self, x, rope):
            y = F.gelu(self.linear_y(x), approximate="tanh")
            u = self.linear_x(x).transpose(1, 2)  # [B, D, T]
            c = F.conv1d(F.pad(u, (3, 0)), cast(self.conv_w), cast(self.conv_b), groups=D)
            return self.linear_out(self.rg_lru(c.transpose(1, 2)) * y)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = Linear(D, hd, False), Linear(D, hd, False), Linear(D, hd, False)
            self.o = Linear(hd, D)

        def forward(self, x, rope):
            B, T, _ = x.shape
            cos, sin, band = rope
            q = apply_rope(self.q(x), cos, sin).view(B, T, 1, hd).transpose(1, 2)
            k = apply_rope(self.k(x), cos, sin).view(B, T, 1, hd).transpose(1, 2)
            v = self.v(x).view(B, T, 1, hd).transpose(1, 2)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=band)
            return self.o(out.transpose(1, 2).reshape(B, T, hd))

    def apply_rope(x, cos, sin):  # RoPE on the first half of the head, base 10000
        half = cos.size(-1)
        x1, x2, rest = x[..., :half], x[..., half:2 * half], x[..., 2 * half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], -1)

    class Block(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.temporal_norm, self.channel_norm = RmsNorm(), RmsNorm()
            self.temporal = Recurrent() if kind == "R" else Attention()
            self.gate, self.up, self.down = Linear(D, M), Linear(D, M), Linear(M, D)

        def forward(self, x, rope):
            x = x + self.temporal(self.temporal_norm(x), rope)
            h = self.channel_norm(x)
            return x + self.down(F.gelu(self.gate(h), approximate="tanh") * self.up(h))

    class Griffin(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = normal(args.vocab, D, fan_in=D)
            self.blocks = nn.ModuleList(Block(k) for k in args.pattern)
            self.final_norm = RmsNorm()
            T = args.seq_len
            inv_freq = 10000.0 ** (-torch.arange(0, hd // 4, dtype=torch.float32) * 2 / (hd // 2))
            angles = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq
            pos = torch.arange(T)
            dist = pos[:, None] - pos[None, :]
            self.register_buffer("cos", angles.cos().to(bf16), persistent=False)
            self.register_buffer("sin", angles.sin().to(bf16), persistent=False)
            self.register_buffer("band", (dist >= 0) & (dist <= W), persistent=False)
            self.embed_scale = float(torch.tensor(math.sqrt(D), dtype=bf16))

        def forward(self, tokens, rows, targets):
            x = F.embedding(tokens, cast(self.embed)) * self.embed_scale
            rope = (self.cos, self.sin, self.band)
            for block in self.blocks:
                x = block(x, rope)
            h = self.final_norm(x.flatten(0, 1).index_select(0, rows))
            logits = F.linear(h, cast(self.embed)).float()
            logits = torch.tanh(logits / 30.0) * 30.0
            return F.cross_entropy(logits, targets)

    return Griffin()


def mqar_batches(torch, args, count, device):
    """`count` MQAR batches on the device: (tokens, scored flat rows, targets)."""
    B, L, N, V = args.batch, args.seq_len, args.pairs, args.vocab
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(count):
        keys = torch.rand(B, V // 2 - 1, generator=g).argsort(1)[:, :N] + 1
        values = torch.rand(B, V - V // 2, generator=g).argsort(1)[:, :N] + V // 2
        gaps = torch.rand(B, (L - 2 * N) // 2, generator=g).argsort(1)[:, :N]
        tokens = torch.zeros(B, L, dtype=torch.long)
        tokens[:, 0:2 * N:2], tokens[:, 1:2 * N:2] = keys, values
        queries = 2 * N + 2 * gaps
        tokens.scatter_(1, queries, keys)
        rows, order = (queries + L * torch.arange(B)[:, None]).flatten().sort()
        out.append((tokens.to(device), rows.to(device), values.flatten()[order].to(device)))
    return out


def main():
    args = parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("train_step_peer: needs a CUDA device")
    device = torch.device("cuda")
    torch.manual_seed(0)
    model = build(torch, args).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "rg_lru" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "rg_lru" not in n)]
    lr = torch.tensor(2e-3, device=device)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8, fused=True, capturable=True)
    params = [p for p in model.parameters()]
    batches = mqar_batches(torch, args, 32, device)
    static = [t.clone() for t in batches[0]]

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model(*static)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
        opt.step()
        return loss.detach()

    def load(i):
        for dst, src in zip(static, batches[i % len(batches)]):
            dst.copy_(src, non_blocking=True)

    if args.nvtx_steps:
        for i in range(args.nvtx_steps + 2):
            load(i)
            # A start/end range (not push/pop): the backward's kernels are launched from
            # autograd's own threads.
            rid = torch.cuda.nvtx.range_start("train step") if i >= 2 else None
            step()
            if rid is not None:
                torch.cuda.nvtx.range_end(rid)
        torch.cuda.synchronize()
        return

    def timed(run_one, steps):
        """Mean ms/step over `steps`, and the median over 5 blocks of steps / 5."""
        block = max(1, steps // 5)
        times = []
        for _ in range(5):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for i in range(block):
                run_one(i)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / block)
        return sum(times) / len(times), sorted(times)[2]

    def eager(i):
        load(i)
        step()

    # Warm up on a side stream (autotuning, cuBLAS workspaces), then capture, as torch's docs do.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(3):
            eager(i)
    torch.cuda.current_stream().wait_stream(side)
    eager_mean, eager_median = timed(eager, args.eager_steps)

    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_loss = step()

    def replay(i):
        load(i)
        graph.replay()

    for i in range(10):
        replay(i)
    t0 = time.perf_counter()
    graph_mean, graph_median = timed(replay, args.steps)
    wall = time.perf_counter() - t0
    result = {
        "peer": f"pytorch {torch.__version__} eager modules + {args.scan} scan, one CUDA graph",
        "width": args.width, "pattern": args.pattern, "batch": args.batch,
        "seq_len": args.seq_len, "parameters": sum(p.numel() for p in params),
        "graph_ms_per_step": graph_mean, "graph_ms_per_step_median_block": graph_median,
        "eager_ms_per_step": eager_mean, "eager_ms_per_step_median_block": eager_median,
        "host_wall_s": wall, "last_loss": float(static_loss),
        "gpu": torch.cuda.get_device_name(),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
