#!/usr/bin/env python3
"""Compare `griffin logits` HDF5 files with a fixture's reference outputs (official implementation).

usage: fixture_parity.py FIXTURE_DIR LOGITS.h5 [LOGITS.h5 ...]
Prints one row per file: how its logits were computed and the relative error against the
reference logits of sequence 0 (||out - ref|| / ||ref||). Exit status 1 if any exceeds 1e-5.
"""
import json
import struct
import sys

import h5py
import numpy as np


def load_safetensors(path):
    """Tensors of a safetensors file as numpy arrays (F32 / I64 only: what fixtures hold)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    types = {"F32": np.float32, "I64": np.int64}
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]],
                             dtype=types[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def relative_error(out, ref):
    return float(np.linalg.norm(out.astype(np.float64) - ref) / np.linalg.norm(ref))


def main(fixture, files):
    ref = load_safetensors(f"{fixture}/reference.safetensors")["logits"][0].astype(np.float64)
    worst = 0.0
    print(f"| file | positions | decode from | relative error vs reference |")
    print(f"| --- | ---: | ---: | ---: |")
    for path in files:
        with h5py.File(path, "r") as f:
            logits = f["logits"][:]
            decode_from = int(f.attrs["decode_from"])
        err = relative_error(logits, ref[:logits.shape[0]])
        worst = max(worst, err)
        print(f"| {path} | {logits.shape[0]} | {decode_from} | {err:.2e} |")
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
