#!/usr/bin/env python3
"""Whether two `griffin run` files (docs/DESIGN.md section 2) hold the same results: every dataset
and attribute equal, except what differs between any two runs of the same config: provenance (when,
which commit, the command line, the machine in /meta/env) and measured times (the /timings samples
and the metrics derived from a clock, compared by shape only). Floating-point values must agree to
`--rtol` (default 1e-9: a refactor that leaves the arithmetic alone changes no bit on one machine).

usage: compare_run_files.py EXPECTED.h5 ACTUAL.h5 [--rtol R]
Prints each difference; exit status 0 when there is none, 1 otherwise.
"""
import argparse
import sys

import h5py
import numpy as np

PROVENANCE = {"created_utc", "git_commit", "git_dirty", "command_line", "build_type", "gpu_name",
              "torch_version"}
NOT_COMPARED = {"meta/env"}
# Metrics read from a clock: their values differ on every run.
TIMED = {"decode_ms_p90", "decode_ms_per_token", "decode_tokens_per_s", "prefill_ms",
         "prefill_ms_p90", "prefill_tokens_per_s", "train_device_step_ms", "train_step_ms",
         "train_tokens_per_s"}


def timed(name):
    return name.startswith("timings/") or name.split("/")[-1] in TIMED and name.startswith(
        "metrics/")


def values_differ(a, b, rtol):
    a, b = np.asarray(a), np.asarray(b)  # scalars (a string dataset reads as bytes) too
    if a.shape != b.shape or (a.dtype.kind in "fc") != (b.dtype.kind in "fc"):
        return True
    if a.dtype.kind in "fc":
        return not np.allclose(a, b, rtol=rtol, atol=0.0, equal_nan=True)
    return not np.array_equal(a, b)


def attrs_differ(name, x, y, skip, out):
    for key in sorted(set(x.attrs) | set(y.attrs)):
        if key in skip:
            continue
        if key not in x.attrs or key not in y.attrs:
            out.append(f"{name or '/'}: attribute {key} only in "
                       + ("the expected file" if key in x.attrs else "the actual file"))
        elif values_differ(np.asarray(x.attrs[key]), np.asarray(y.attrs[key]), 0.0):
            out.append(f"{name or '/'}: attribute {key}: {x.attrs[key]!r} != {y.attrs[key]!r}")


def compare(expected, actual, rtol):
    out = []
    with h5py.File(expected, "r") as x, h5py.File(actual, "r") as y:
        attrs_differ("", x, y, PROVENANCE, out)
        names = {}
        for f, side in ((x, 0), (y, 1)):
            f.visititems(lambda n, o, s=side: names.setdefault(n, [None, None]).__setitem__(s, o))
        for name in sorted(names):
            a, b = names[name]
            if name in NOT_COMPARED or any(name.startswith(p + "/") for p in NOT_COMPARED):
                continue
            if a is None or b is None:
                out.append(f"{name}: only in the {'actual' if a is None else 'expected'} file")
                continue
            if isinstance(a, h5py.Group) != isinstance(b, h5py.Group):
                out.append(f"{name}: a group in one file, a dataset in the other")
                continue
            attrs_differ(name, a, b, set(), out)
            if isinstance(a, h5py.Group):
                continue
            if a.shape != b.shape:
                out.append(f"{name}: shape {a.shape} != {b.shape}")
            elif not timed(name) and values_differ(a[()], b[()], rtol):
                out.append(f"{name}: values differ\n  expected {a[()]!r}\n  actual   {b[()]!r}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--rtol", type=float, default=1e-9)
    a = p.parse_args()
    diffs = compare(a.expected, a.actual, a.rtol)
    for d in diffs:
        print(d)
    print(f"{a.actual}: {'the same results as' if not diffs else f'{len(diffs)} difference(s) from'} "
          f"{a.expected}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
