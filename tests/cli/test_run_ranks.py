#!/usr/bin/env python3
"""`griffin run` launched by torchrun on the CPU, several processes on one host (README.md,
"Several GPUs and hosts": the same launch line): a sweep over three ranks writes the same HDF5
file as a serial run and leaves no journal behind; a rank killed with SIGKILL mid-sweep, then the
same launch with --resume, completes the sweep with every finished point kept and the serial
run's results; `[train] parallel = "data"` over two ranks trains each point to the weights, losses
and accuracies one process gets with the same global batch (float32, relative 1e-5), resumes
from rank 0's checkpoint after a SIGKILL; launch mistakes are one clear error.

With `cuda` (ctest griffin_run_ranks_cuda, labelled gpu; it skips without a GPU): the same
launch line with one rank on the GPU, NCCL's group of one included, trains as one process does.

usage: test_run_ranks.py GRIFFIN_BINARY SOURCE_DIR PYTHON [cuda]
"""
import json
import os
import re
import shutil
import struct
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

GRIFFIN, SOURCE, PYTHON = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import launch_ranks  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_recall  # noqa: E402
CUDA = sys.argv[4:] == ["cuda"]
TORCHRUN = os.path.join(os.path.dirname(PYTHON), "torchrun")
COMPARE = os.path.join(SOURCE, "scripts", "compare_run_files.py")
failures = []

RECALL = tiny_recall.RECALL


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def launch_line(ranks, *args):
    """README.md's one-host launch line, with `ranks` processes."""
    return launch_ranks.launch_line(TORCHRUN, GRIFFIN, ranks, *args)


def same_file(expected, actual):
    r = subprocess.run([PYTHON, COMPARE, expected, actual], capture_output=True, text=True)
    return r.returncode == 0, r.stdout[-600:]


def leftovers(out):
    return [n for n in os.listdir(out) if "journal" in n or ".claim-" in n]


def check_same_as_serial(tmp, cfg):
    serial = os.path.join(tmp, "serial")
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", serial], capture_output=True, text=True,
                       timeout=900)
    check(r.returncode == 0, "the serial run finishes" + ("" if r.returncode == 0 else r.stderr[-400:]))
    ranks = os.path.join(tmp, "ranks")
    r = subprocess.run(launch_line(3, cfg, "--out", ranks), capture_output=True, text=True,
                       timeout=900)
    same, diff = same_file(os.path.join(serial, "recall.h5"), os.path.join(ranks, "recall.h5"))
    check(r.returncode == 0 and same,
          "three ranks write the serial run's file" + ("" if r.returncode == 0 else r.stderr[-600:])
          + ("" if same else diff))
    check("6 of 6 points left, over 3 ranks (torchrun)" in r.stderr and "| griffin |" in r.stdout,
          "rank 0 says how the sweep is split and prints the summary table once")
    check(r.stdout.count("results: ") == 1 and not leftovers(ranks),
          f"one results line, no journal or claim left behind ({leftovers(ranks)})")
    return os.path.join(serial, "recall.h5")


def check_kill_and_resume(tmp, cfg, serial_h5):
    out = os.path.join(tmp, "killed")
    p = subprocess.Popen(launch_line(3, cfg, "--out", out), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    finished, killed, deadline = 0, None, time.time() + 600
    for line in p.stderr:
        m = re.match(r"\[run\] (\d+)/6 done", line)
        if m:
            finished = int(m.group(1))
        if finished >= 1 and killed is None:
            ranks = launch_ranks.ranks_of(p.pid)
            if 1 in ranks:
                os.kill(ranks[1], signal.SIGKILL)
                killed = ranks[1]
        if time.time() > deadline:
            break
    p.wait(timeout=120)
    check(killed is not None and p.returncode != 0,
          f"rank 1 killed with SIGKILL after {finished} point(s): the launch fails "
          f"(exit {p.returncode})")
    kept = [n for n in os.listdir(out) if n.endswith(".journal.jsonl")]
    check("recall.journal.jsonl" in kept and not os.path.exists(os.path.join(out, "recall.h5")),
          f"the run's journal is kept and no file written ({kept})")
    journaled = set()  # every point some journal holds: the run's and the ranks' own
    for name in kept:
        with open(os.path.join(out, name)) as f:
            for line in f.read().splitlines()[1:]:
                try:
                    journaled.add(json.loads(line)["index"])
                except ValueError:
                    pass  # a torn last line
    r = subprocess.run(launch_line(3, cfg, "--out", out, "--resume"), capture_output=True,
                       text=True, timeout=900)
    m = re.search(r"\[run\] (\d+) of 6 points left", r.stderr)
    left = int(m.group(1)) if m else 6
    same, diff = same_file(serial_h5, os.path.join(out, "recall.h5"))
    check(r.returncode == 0 and same and left == 6 - len(journaled) and len(journaled) >= finished,
          f"--resume runs only the {left} points no journal held ({len(journaled)} kept, {finished} "
          "of them journaled by rank 0 before the kill), with the serial run's results"
          + ("" if r.returncode == 0 else r.stderr[-600:]) + ("" if same else diff))
    check(not leftovers(out), f"nothing left behind after the resumed run ({leftovers(out)})")


def check_rank0_cannot_start(tmp, cfg):
    # Rank 0 cannot open the run (a finished file is there): every rank stops with its reason.
    out = os.path.join(tmp, "ranks")
    r = subprocess.run(launch_line(2, cfg, "--out", out), capture_output=True, text=True,
                       timeout=600)
    check(r.returncode != 0 and "already exists: finished results are never overwritten" in r.stderr
          and "rank 0 did not start the run" in r.stderr,
          "a run rank 0 cannot start stops every rank with rank 0's reason"
          + ("" if r.returncode != 0 else r.stderr[-400:]))


def checkpoint_params(path):
    """name -> float32 array of a trainer checkpoint's parameters (safetensors, read by hand)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name.startswith("param/") and t["dtype"] == "F32":
            begin, end = t["data_offsets"]
            out[name] = np.frombuffer(data[begin:end], dtype=np.float32).reshape(t["shape"])
    return out


def largest_difference(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-6), initial=0.0))


def same_training(serial_out, ranks_out):
    """Whether two recall runs trained alike: curves, accuracies and final weights within fp32
    rounding of a batch summed in another order. Returns (same, what differs, the largest
    relative difference seen)."""
    diffs, largest = [], 0.0
    with h5py.File(os.path.join(serial_out, "recall.h5"), "r") as a, \
            h5py.File(os.path.join(ranks_out, "recall.h5"), "r") as b:
        for key in ("series/train_loss", "series/train_grad_norm", "series/eval_accuracy",
                    "metrics/eval_loss", "metrics/accuracy", "metrics/steps_done"):
            largest = max(largest, largest_difference(a[key][()], b[key][()]))
            if not np.allclose(a[key][()], b[key][()], rtol=1e-5, atol=1e-6):
                diffs.append(key)
    for point in sorted(os.listdir(os.path.join(serial_out, "recall.train"))):
        x = checkpoint_params(os.path.join(serial_out, "recall.train", point,
                                           "checkpoint.safetensors"))
        y = checkpoint_params(os.path.join(ranks_out, "recall.train", point,
                                           "checkpoint.safetensors"))
        if x.keys() != y.keys() or not x or any(
                not np.allclose(x[k], y[k], rtol=1e-5, atol=1e-6) for k in x):
            diffs.append(f"{point} weights")
        for k in x.keys() & y.keys():
            largest = max(largest, largest_difference(x[k], y[k]))
    return not diffs, diffs, largest


def one_point_reference(tmp, device):
    """One recall point of 30 steps (checkpoints and evals every 5), trained by one process
    without a launcher on `device`: returns (its config, its output folder)."""
    cfg = os.path.join(tmp, "dp.toml")
    with open(cfg, "w") as f:
        f.write(RECALL.format(steps=30).replace("distance = [4, 8, 16]", "distance = [4]")
                .replace("checkpoint_every = 10", "checkpoint_every = 5")
                .replace("eval_every = 30", "eval_every = 5")
                .replace('device = "cpu"', f'device = "{device}"'))
    serial = os.path.join(tmp, "dp-serial")
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", serial], capture_output=True, text=True,
                       timeout=600)
    check(r.returncode == 0, f"the one-process reference trains on {device}"
          + ("" if r.returncode == 0 else r.stderr[-300:]))
    return cfg, serial


def check_data_parallel(tmp):
    cfg, serial = one_point_reference(tmp, "cpu")
    data = ["--set", 'train.parallel="data"']
    check_world_of_one(tmp, cfg, serial, "Gloo")
    out = os.path.join(tmp, "dp-ranks")
    r = subprocess.run(launch_line(2, cfg, "--out", out, *data), capture_output=True, text=True,
                       timeout=600)
    same, diffs, _ = same_training(serial, out)
    check(r.returncode == 0 and same and "on all 2 ranks" in r.stderr,
          f"parallel = data over two ranks trains as one process with the same global batch "
          f"({diffs})" + ("" if r.returncode == 0 else r.stderr[-500:]))
    # Every point's checkpoint is at its last step: a launch finding them trains no step, and
    # every rank still reports rank 0's records of the point.
    os.remove(os.path.join(out, "recall.h5"))
    r = subprocess.run(launch_line(2, cfg, "--out", out, *data), capture_output=True, text=True,
                       timeout=600)
    same, diffs, _ = same_training(serial, out)
    check(r.returncode == 0 and same and "resumed at step 30" in r.stderr,
          f"points whose checkpoints are finished give the same file again ({diffs})"
          + ("" if r.returncode == 0 else r.stderr[-500:]))

    # SIGKILL of rank 1 once rank 0 has a checkpoint, then --resume: rank 0's checkpoint is shared
    # and training goes on to the same weights.
    out = os.path.join(tmp, "dp-killed")
    p = subprocess.Popen(launch_line(2, cfg, "--out", out, *data), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    killed = False
    for line in p.stderr:
        if not killed and re.search(r"step (1[0-9]|2[0-4])/30", line):
            ranks = launch_ranks.ranks_of(p.pid)
            if 1 in ranks:
                os.kill(ranks[1], signal.SIGKILL)
                killed = True
    p.wait(timeout=120)
    r = subprocess.run(launch_line(2, cfg, "--out", out, "--resume", *data), capture_output=True,
                       text=True, timeout=600)
    same, diffs, _ = same_training(serial, out)
    check(killed and p.returncode != 0 and r.returncode == 0 and "resumed at step" in r.stderr
          and same,
          f"killed mid-training, resumed from rank 0's checkpoint to the same weights ({diffs})"
          + ("" if r.returncode == 0 else r.stderr[-500:]))

    r = subprocess.run([GRIFFIN, "run", cfg, "--out", os.path.join(tmp, "dp-alone"), *data],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode != 0 and "trains one model over the ranks of a torchrun or srun launch"
          in r.stderr, "parallel = data without a launcher is refused with the reason")
    r = subprocess.run(launch_line(3, cfg, "--out", os.path.join(tmp, "dp-three"), *data),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode != 0 and "train.batch 8 must be a multiple of the 3 ranks" in r.stderr,
          "a global batch the ranks cannot split evenly is refused")


def check_world_of_one(tmp, cfg, serial, backend):
    """torchrun --nproc-per-node=1 (a scaling run's baseline): the sweep and a data-parallel point
    on a group of one train as the process without a launcher did."""
    for name, extra in (("sweep", []), ("data", ["--set", 'train.parallel="data"'])):
        out = os.path.join(tmp, f"one-{name}")
        r = subprocess.run(launch_line(1, cfg, "--out", out, *extra), capture_output=True,
                           text=True, timeout=600)
        same, diffs, largest = same_training(serial, out)
        said = "over 1 rank (torchrun)" in r.stderr and (
            not extra or f"data-parallel group of 1: gradients all-reduced by {backend}" in r.stderr)
        check(r.returncode == 0 and same and said,
              f"one rank under torchrun ({name}{', ' + backend if extra else ''}) trains as one "
              f"process: largest relative difference {largest:.1e} ({diffs})"
              + ("" if r.returncode == 0 and said else r.stderr[-600:]))


def check_cuda():
    """The GPU's launch of one: a sweep and a data-parallel point on NCCL."""
    if shutil.which("nvidia-smi") is None or subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True).returncode != 0:
        print("skipped: no GPU on this machine (runs on the H200)")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, serial = one_point_reference(tmp, "cuda")
        check_world_of_one(tmp, cfg, serial, "NCCL")


def check_launch_errors(tmp, cfg, serial_h5):
    env = dict(os.environ, RANK="0")
    env.pop("WORLD_SIZE", None)
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", os.path.join(tmp, "e1")],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode != 0 and "WORLD_SIZE is not set" in r.stderr,
          f"RANK without WORLD_SIZE is named ({r.stderr.strip()[-200:]})")
    env = dict(os.environ, RANK="0", WORLD_SIZE="2")
    env.pop("MASTER_ADDR", None)
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", os.path.join(tmp, "e2")],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode != 0 and "MASTER_ADDR is not set" in r.stderr,
          f"a launch of two without MASTER_ADDR is named ({r.stderr.strip()[-200:]})")
    env = dict(os.environ, RANK="2", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="1")
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", os.path.join(tmp, "e3")],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode != 0 and "rank 2 is outside a world of 2" in r.stderr,
          f"a rank outside the world is named ({r.stderr.strip()[-200:]})")
    # An sbatch script's own shell (SLURM_PROCID, SLURM_NTASKS, no srun step) runs one process.
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    env.update(SLURM_PROCID="0", SLURM_NTASKS="16", SLURM_JOB_ID="7")
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", os.path.join(tmp, "batch-shell")],
                       capture_output=True, text=True, env=env, timeout=600)
    check(r.returncode == 0 and " ranks (" not in r.stderr and "results: " in r.stdout,
          "a run in an sbatch script's own shell is one process"
          + ("" if r.returncode == 0 else r.stderr[-300:]))
    # `srun -n 1` without MASTER_ADDR: a launch of one whose store stays in the process.
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env.update(SLURM_PROCID="0", SLURM_STEP_NUM_TASKS="1", SLURM_JOB_ID="7")
    out = os.path.join(tmp, "srun-one")
    r = subprocess.run([GRIFFIN, "run", cfg, "--out", out], capture_output=True, text=True,
                       env=env, timeout=600)
    same, diff = same_file(serial_h5, os.path.join(out, "recall.h5"))
    check(r.returncode == 0 and "over 1 rank (srun)" in r.stderr and same,
          "srun -n 1 without MASTER_ADDR runs the sweep as a launch of one, the serial run's file"
          + ("" if r.returncode == 0 else r.stderr[-300:]) + ("" if same else diff))
    r = subprocess.run(launch_line(2, cfg, "--out", os.path.join(tmp, "e4"), "--jobs", "2"),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode != 0 and "--jobs 2: under torchrun every rank already runs points" in r.stderr,
          "--jobs under torchrun is refused with the reason")


def main():
    if CUDA:
        check_cuda()
        if failures:
            sys.exit(f"{len(failures)} check(s) failed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "recall.toml")
        with open(cfg, "w") as f:
            f.write(RECALL.format(steps=40))
        serial_h5 = check_same_as_serial(tmp, cfg)
        check_kill_and_resume(tmp, cfg, serial_h5)
        check_rank0_cannot_start(tmp, cfg)
        check_data_parallel(tmp)
        check_launch_errors(tmp, cfg, serial_h5)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
