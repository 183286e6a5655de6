#!/usr/bin/env python3
"""Decode ms/token at depth and prefill time against context, one line per model, from a
`griffin run` HDF5 file.

usage: plot_latency.py RUN.h5 OUT.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_run import plot  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(__doc__)
plot(sys.argv[1], sys.argv[2],
     [("decode_ms_per_token", "decode ms/token (median)", 1.0, False),
      ("prefill_ms", "prefill ms (median)", 1.0, True)],
     "Latency at length")
