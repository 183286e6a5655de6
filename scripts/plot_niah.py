#!/usr/bin/env python3
"""Needle-in-a-haystack heatmaps of a `griffin run` HDF5 file (experiment.measure =
["niah_text"]), from the file alone: one panel per model, x = context length (tokens), y = needle
depth, colour = exact-match accuracy over the trials (grey: the point could not run).

usage: plot_niah.py RUN.h5 OUT.png
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_run import plt, save, text  # noqa: E402  (matplotlib set up headless there)
import matplotlib  # noqa: E402


def main(path, out):
    with h5py.File(path, "r") as f:
        model = np.array(text(f["points/model"][()]))
        context = f["points/context"][()]
        depth = f["points/task_depth"][()]
        acc = f["metrics/accuracy"][()] if "metrics/accuracy" in f else np.full(len(model), np.nan)
        meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    models = list(dict.fromkeys(model))
    lengths = sorted(set(context.tolist()))
    depths = sorted(set(depth.tolist()))
    fig, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 4), squeeze=False)
    for ax, name in zip(axes[0], models):
        grid = np.full((len(depths), len(lengths)), np.nan)
        for i in np.flatnonzero(model == name):
            grid[depths.index(depth[i]), lengths.index(context[i])] = acc[i]
        cmap = matplotlib.colormaps["RdYlGn"].copy()
        cmap.set_bad("lightgrey")
        im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                       origin="upper")
        ax.set_xticks(range(len(lengths)), [str(x) for x in lengths], rotation=45)
        ax.set_yticks(range(len(depths)), [f"{d:.0%}" for d in depths])
        ax.set_xlabel("context length (tokens)")
        ax.set_ylabel("needle depth")
        ax.set_title(name, fontsize=10)
        fig.colorbar(im, ax=ax, label="accuracy")
    save(fig, out, "Needle in a haystack", meta,
         f"{meta.get('device', '')}, {meta.get('dtype', '')}")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
