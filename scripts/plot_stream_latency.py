#!/usr/bin/env python3
"""Per-token latency of a streamed generation against depth, from `griffin generate --latency-out`
JSON files (one line per file: the median of each 100-token bin, and the raw steps faintly).

usage: plot_stream_latency.py OUT.png LATENCY.json [LATENCY.json ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out, files = argv[1], argv[2:]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for path in files:
        with open(path) as f:
            run = json.load(f)
        steps = np.asarray(run["step_ms"], dtype=float)
        if steps.size == 0:
            sys.exit(f"{path}: no per-token steps")
        tokens = np.arange(2, steps.size + 2)  # step i ends at output token i + 2
        label = (f'{run["model"]} {run["dtype"]} {run["device"]}, '
                 f'state {run["state_bytes"] / 2**20:.1f} MiB')
        ax.plot(tokens, steps, ",", alpha=0.15)
        bins = steps.size // 100
        if bins > 0:
            med = np.median(steps[: bins * 100].reshape(bins, 100), axis=1)
            ax.plot(tokens[: bins * 100].reshape(bins, 100)[:, -1], med, label=label)
    ax.set_xlabel("output token")
    ax.set_ylabel("ms per token (median of 100)")
    ax.set_ylim(bottom=0)
    ax.set_title("Streamed generation: per-token latency against depth")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(out)


if __name__ == "__main__":
    main(sys.argv)
