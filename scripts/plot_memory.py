#!/usr/bin/env python3
"""Decode-state bytes against context, one line per model, from a `griffin run` HDF5 file.

usage: plot_memory.py RUN.h5 OUT.png
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot_run import plot  # noqa: E402

if len(sys.argv) != 3:
    sys.exit(__doc__)
plot(sys.argv[1], sys.argv[2],
     [("state_bytes_measured", "decode state held (MiB, log)", 1 / 2**20, True)],
     "Memory per token")
