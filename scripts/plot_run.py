"""Shared by plot_memory.py and plot_latency.py: read a `griffin run` HDF5 file (nothing else)
into per-model curves."""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def load(path):
    """Points and metrics of one run, grouped as {(model, batch): {column: array}}."""
    with h5py.File(path, "r") as f:
        pts = f["points"]
        cols = {
            "model": np.array(text(pts["model"][()])),
            "status": np.array(text(pts["status"][()])),
            "context": pts["context"][()],
            "batch": pts["batch"][()],
            "window": pts["window"][()],
        }
        units = {}
        for name, ds in f["metrics"].items():
            cols[name] = ds[()]
            units[name] = ds.attrs["units"]
            units[name] = units[name].decode() if isinstance(units[name], bytes) else units[name]
        meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    curves = {}
    for key in sorted(set(zip(cols["model"], cols["batch"]))):
        rows = (cols["model"] == key[0]) & (cols["batch"] == key[1])
        order = np.argsort(cols["context"][rows])
        curves[key] = {name: values[rows][order] for name, values in cols.items()}
    return curves, units, meta


def plot(path, out, panels, title):
    """panels: [(metric, y label, scale, log_y)] drawn side by side against context (log x)."""
    curves, units, meta = load(path)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (metric, label, scale, log_y) in zip(axes[0], panels):
        if not any(metric in c for c in curves.values()):
            sys.exit(f"{path}: no /metrics/{metric} (was it measured?)")
        windows = set()
        for (model, batch), c in curves.items():
            ok = c["status"] == "ok"
            name = model if len(set(b for _, b in curves)) == 1 else f"{model} (batch {batch})"
            ax.plot(c["context"][ok], c[metric][ok] * scale, marker="o", label=name)
            failed = c["context"][~ok]
            if failed.size:  # where the model stopped fitting
                ax.axvline(failed.min(), color="grey", linestyle=":", linewidth=1)
            windows.update(int(w) for w in c["window"] if w > 0)
        for w in sorted(windows):
            ax.axvline(w, color="black", linestyle="--", linewidth=1)
            ax.annotate(f"window {w}", (w, 1), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("context (tokens held)")
        ax.set_ylabel(label)
        if log_y:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    decode = f", {meta['decode']} decode" if "decode" in meta else ""
    fig.suptitle(f"{title}: {meta.get('experiment', '')} ({meta.get('device', '')}, "
                 f"{meta.get('dtype', '')}{decode}, commit {str(meta.get('git_commit', ''))[:7]})")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(out)


def save(fig, out, title, meta, detail):
    """Titles the figure with the run's provenance (experiment, `detail`, commit) and writes it."""
    fig.suptitle(f"{title}: {meta.get('experiment', '')} ({detail}, "
                 f"commit {str(meta.get('git_commit', ''))[:7]})")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(out)
