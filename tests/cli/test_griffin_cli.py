#!/usr/bin/env python3
"""End-to-end checks of the `griffin` command against the official implementation's fixture,
reading its HDF5 output with h5py exactly as users' scripts do.

usage: test_griffin_cli.py GRIFFIN_BINARY SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

GRIFFIN, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
from fixture_parity import load_safetensors  # noqa: E402
FIXTURE = os.path.join(SOURCE, "data", "fixtures", "tiny-recurrentgemma")
failures = []


def run(*args):
    return subprocess.run([GRIFFIN, *args], capture_output=True, text=True, timeout=300)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


ref = load_safetensors(os.path.join(FIXTURE, "reference.safetensors"))
ids = ",".join(str(i) for i in ref["input_ids"][0])
with tempfile.TemporaryDirectory() as tmp:
    for decode_from in (None, 0, 7, 20):
        out = os.path.join(tmp, f"logits_{decode_from}.h5")
        args = ["logits", "--checkpoint", FIXTURE, "--ids", ids, "--out", out]
        if decode_from is not None:
            args += ["--decode-from", str(decode_from)]
        r = run(*args)
        check(r.returncode == 0, f"logits --decode-from {decode_from} exits 0 ({r.stderr.strip()})")
        with h5py.File(out, "r") as f:
            logits = f["logits"][:]
            err = np.linalg.norm(logits - ref["logits"][0]) / np.linalg.norm(ref["logits"][0])
            check(logits.shape == (36, 384) and err <= 1e-5,
                  f"logits --decode-from {decode_from}: relative error {err:.2e} <= 1e-5")
            check(f.attrs["schema"] == "griffin-logits" and len(f.attrs["git_commit"]) > 0,
                  "provenance attributes present")
        check(not os.path.exists(out + ".tmp"), "no .tmp left behind")

    dump = os.path.join(tmp, "dump.h5")
    r = run("logits", "--checkpoint", FIXTURE, "--ids", ids, "--out", dump, "--dump-activations")
    with h5py.File(dump, "r") as f:
        acts = f["activations"]
        check(r.returncode == 0 and acts["layers.5.out"].shape == (36, 96)
              and acts["embed"].shape == (36, 96) and len(acts) == 1 + 6 * 3 + 1,
              "--dump-activations writes every named layer")

    prompt = ",".join(str(i) for i in ref["prompt_ids"][0])
    r = run("generate", "--checkpoint", FIXTURE, "--ids", prompt, "--max-new-tokens",
            str(ref["greedy_ids"].shape[1]), "--greedy")
    got = [int(t) for t in r.stdout.strip().splitlines()[-1].split()] if r.returncode == 0 else []
    check(got == list(ref["greedy_ids"][0]), "generate --greedy reproduces the reference's ids")

    bad = os.path.join(tmp, "bad.h5")
    for args, needle in [
        (["logits", "--checkpoint", FIXTURE, "--ids", "2,384", "--out", bad], "token id 384"),
        (["logits", "--checkpoint", FIXTURE, "--ids", "2,x", "--out", bad], "--ids"),
        (["logits", "--checkpoint", "/nonexistent", "--ids", "2", "--out", bad], "/nonexistent"),
        (["logits", "--checkpoint", FIXTURE, "--ids", "2", "--decode-from", "5", "--out", bad],
         "--decode-from 5"),
        (["logits", "--checkpoint", "preset:nope", "--ids", "2", "--out", bad], "unknown model preset"),
        (["logits", "--checkpoint", FIXTURE, "--ids", "2", "--out", bad, "--bogus"], "--bogus"),
        (["generate", "--checkpoint", FIXTURE, "--ids", "2", "--max-new-tokens", "0"], "max-new-tokens"),
    ]:
        r = run(*args)
        check(r.returncode != 0 and needle in (r.stderr + r.stdout),
              f"{' '.join(args[:1] + args[-2:])}: non-zero exit naming '{needle}'")
    check(not os.path.exists(bad), "a failed run leaves no result file")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
