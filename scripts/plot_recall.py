#!/usr/bin/env python3
"""Recall results of a `griffin run` HDF5 file (experiment.measure = ["recall"]), from the file
alone. Panels, each drawn when the run has what it needs:
  - accuracy against key-query distance / attention window (windows marked), when the task sweeps
    `distance` or each model was evaluated at fixed distances after training;
  - accuracy against a numeric model override the sweep varies (e.g. width), one line per model;
  - accuracy against decode-state bytes (recall vs memory), one line per model;
  - held-out accuracy during training, one line per point.
One colour per model in every panel.

usage: plot_recall.py RUN.h5 OUT.png
"""
import os
import re
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_run import plt, save, text  # noqa: E402  (matplotlib set up headless there)


def swept_override(overrides):
    """The first `key=number` override whose value differs between points, as (key, values);
    None when the sweep varies no numeric override."""
    parsed = [dict(re.findall(r"(\w+)=([0-9.eE+-]+)", o)) for o in overrides]
    for key in parsed[0] if parsed else []:
        values = [p.get(key) for p in parsed]
        if None not in values and len(set(values)) > 1:
            return key, np.array([float(v) for v in values])
    return None


def distance_panel(a, ok, label, colour, window, distance, acc, at_d):
    # One reference window W for every model (the most common one in the run), so models
    # without a window (global attention, Hawk) share the axis; each window is marked.
    windows = window[ok & (window > 0)]
    ref = int(np.bincount(windows).argmax()) if windows.size else 1
    if at_d is not None:  # one curve per point, from its evaluations at fixed distances
        for i in np.flatnonzero(ok):
            keep = ~np.isnan(at_d[0][i])
            a.plot(at_d[0][i][keep] / ref, at_d[1][i][keep], marker="o", label=label[i],
                   color=colour[label[i]])
    else:  # one point per trained model and distance
        for name in dict.fromkeys(label[ok]):
            rows = ok & (label == name)
            x = distance[rows] / ref
            order = np.argsort(x)
            a.plot(x[order], acc[rows][order], marker="o", label=name, color=colour[name])
    for w in sorted(set(windows.tolist())):
        a.axvline(w / ref, color="k", ls="--", lw=1)
        a.text(w / ref, 0.02, f" window {w}", rotation=90, va="bottom", fontsize=8)
    a.set_xscale("log", base=2)
    a.set_xlabel(f"key-query distance / W (W = {ref} tokens)" if windows.size
                 else "key-query distance (tokens)")


def lines_per_model(a, ok, model, colour, x, y):
    for name in dict.fromkeys(model[ok]):
        rows = ok & (model == name)
        order = np.argsort(x[rows])
        a.plot(x[rows][order], y[rows][order], marker="o", label=name, color=colour[name])


def main(path, out):
    with h5py.File(path, "r") as f:
        model = np.array(text(f["points/model"][()]))
        overrides = np.array(text(f["points/overrides"][()]))
        window = f["points/window"][()]
        status = np.array(text(f["points/status"][()]))
        distance = f["points/task_distance"][()] if "points/task_distance" in f else None
        # Models trained once over a range of distances, then evaluated at each fixed one.
        at_d = (f["series/eval_distance"][()], f["series/accuracy_at_distance"][()]) \
            if "series/accuracy_at_distance" in f else None
        acc = f["metrics/accuracy"][()]
        state = f["metrics/state_bytes_at_seq_len"][()]
        steps = f["series/eval_step"][()] if "series/eval_step" in f else None
        curve = f["series/eval_accuracy"][()] if "series/eval_accuracy" in f else None
        meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    ok = status == "ok"
    label = np.array([m if o in ("", "-") else f"{m} ({o})" for m, o in zip(model, overrides)])
    swept = swept_override(overrides)
    # A colour per label when each label is one model; per model when a sweep splits them.
    keys = model if swept else label
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {k: cycle[i % len(cycle)] for i, k in enumerate(dict.fromkeys(keys))}
    colour.update({l: colour[k] for l, k in zip(label, keys)})

    has_distance = distance is not None or at_d is not None
    panels = 2 + has_distance + (swept is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2))
    ax = iter(axes)
    if has_distance:
        distance_panel(next(ax), ok, label, colour, window, distance, acc, at_d)
    if swept is not None:
        a = next(ax)
        lines_per_model(a, ok, model, colour, swept[1], acc)
        a.set_xscale("log", base=2)
        a.set_xlabel(f"model {swept[0]} (override)")
    a = next(ax)
    lines_per_model(a, ok, keys, colour, state, acc)
    a.set_xscale("log")
    a.set_xlabel("decode state at the task's length (bytes, log)")
    for a in axes[:-1]:
        a.set_ylabel("recall accuracy (held out)")
        a.set_ylim(-0.02, 1.02)
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    a = axes[-1]
    if steps is not None:
        for i in np.flatnonzero(ok):
            keep = ~np.isnan(steps[i])
            a.plot(steps[i][keep], curve[i][keep], lw=1, alpha=0.8, color=colour[label[i]],
                   label=label[i] if swept is None else None)
    a.set_xlabel("training step")
    a.set_ylabel("held-out accuracy (training distribution)")
    a.set_ylim(-0.02, 1.02)
    a.grid(alpha=0.3)
    if swept is None and steps is not None:
        a.legend(fontsize=7)
    save(fig, out, "Recall", meta,
         f"{meta.get('task', '')}, {meta.get('device', '')}, {meta.get('dtype', '')}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
