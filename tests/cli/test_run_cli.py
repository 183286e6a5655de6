#!/usr/bin/env python3
"""End-to-end checks of `griffin run`: a sweep's HDF5 file read with h5py as users' scripts do,
Griffin's state flat past its window and the Transformer's growing, finished results never
overwritten, a run killed mid-sweep resumed without redoing or losing a point, bad configs as one
clear error, and the plot scripts on the file.

usage: test_run_cli.py GRIFFIN_BINARY SOURCE_DIR PYTHON
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

GRIFFIN, SOURCE, PYTHON = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []

CONFIG = """
[experiment]
name = "sweep"
measure = ["memory_per_token", "latency_at_length"]
[run]
device = "cpu"
[models]
griffin = "preset:tiny-griffin"
transformer = "preset:tiny-gemma"
[sweep]
context = {contexts}
[latency]
repeats = 1
warmup = 0
decode_tokens = 4
"""


def griffin(*args, timeout=600):
    return subprocess.run([GRIFFIN, *args], capture_output=True, text=True, timeout=timeout)


def draw(script, path, png):
    """scripts/SCRIPT draws the run file at path into png: (whether it exited cleanly with a real
    image of more than 10 kB, the tail of its stderr when it failed)."""
    p = subprocess.run([PYTHON, os.path.join(SOURCE, "scripts", script), path, png],
                       capture_output=True, text=True, timeout=300)
    drawn = p.returncode == 0 and os.path.getsize(png) > 10000
    return drawn, "" if drawn else ": " + p.stderr[-300:]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def text(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def write(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def check_full_run(tmp):
    cfg = write(tmp, "sweep.toml", CONFIG.format(contexts="[4, 8, 16, 32, 64, 128]"))
    out = os.path.join(tmp, "full")
    r = griffin("run", cfg, "--out", out)
    path = os.path.join(out, "sweep.h5")
    check(r.returncode == 0 and "| griffin | 1 | 128 |" in r.stdout and path in r.stdout,
          "run: summary table and the result path" + ("" if r.returncode == 0 else r.stderr[-500:]))
    with h5py.File(path, "r") as f:
        check(f.attrs["schema"] in ("griffin-results", b"griffin-results")
              and "context = [ 4, 8, 16, 32, 64, 128 ]" in f["meta/config_toml"][()].decode(),
              "run: provenance and the resolved config in the file")
        model = np.array(text(f["points/model"][()]))
        context = f["points/context"][()]
        state = f["metrics/state_bytes_held"][()]
        measured = f["metrics/state_bytes_measured"][()]
        analytic = f["metrics/state_bytes_analytic"][()]
        units = f["metrics/state_bytes_measured"].attrs["units"]
        window = int(f["points/window"][()][model == "griffin"][0])
        decode = f["timings/decode_step_s"][()]
    check(len(model) == 12 and np.all(state == analytic) and units in ("bytes", b"bytes"),
          "run: 12 points, held state bytes equal the analytic ones, units attached")
    # Eager decode grows the Transformer's cache in chunks of 1024 slots: its storages, measured,
    # hold the unused room too (less than a chunk); Griffin's ring and recurrent state hold none.
    slack = measured - analytic
    check(np.all(slack[model == "griffin"] == 0) and np.all(slack >= 0) and
          np.all(slack[model == "transformer"] > 0),
          "run: measured storages equal the analytic count for Griffin, exceed it for a growing cache")
    g = state[(model == "griffin") & (context > window)]
    t = state[model == "transformer"]
    check(len(g) >= 2 and np.all(g == g[0]) and np.all(np.diff(t) > 0),
          f"run: Griffin's state flat past its {window}-token window, the Transformer's growing")
    check(decode.shape == (12, 4) and np.all(decode > 0), "run: raw decode samples kept")
    r = griffin("run", cfg, "--out", out)
    check(r.returncode != 0 and "never overwritten" in r.stderr,
          "run: a finished result is never overwritten")
    for script in ("plot_memory.py", "plot_latency.py"):
        drawn, _ = draw(script, path, os.path.join(tmp, script + ".png"))
        check(drawn, f"{script} draws the run")


def check_point_out_of_memory(tmp):
    # A point that cannot have its memory (a batch of 4e11 rows) is recorded as out of memory with
    # the bytes asked, in the file and the table, and the next point runs.
    cfg = write(tmp, "oom.toml", CONFIG.format(contexts="[8]").replace(
        "[sweep]", "[sweep]\nbatch = [1, 400000000000, 2]").replace(
        'griffin = "preset:tiny-griffin"\n', ""))
    out = os.path.join(tmp, "oom")
    r = griffin("run", cfg, "--out", out)
    ok = r.returncode == 0 and "| transformer | 400000000000 | 8 |" in r.stdout
    if ok:
        with h5py.File(os.path.join(out, "sweep.h5"), "r") as f:
            status = text(f["points/status"][()])
        ok = (len(status) == 3 and status[0] == "ok" and status[2] == "ok"
              and status[1].startswith("out of memory (") and " bytes asked): " in status[1])
        ok = ok and "out of memory (" in r.stdout
    check(ok, "run: a point out of memory is recorded with the bytes asked, the next one runs"
          + ("" if ok else f" (rc {r.returncode}: {r.stdout[-400:]} {r.stderr[-300:]})"))


def check_kill_and_resume(tmp):
    cfg = write(tmp, "slow.toml",
                CONFIG.format(contexts="[16, 32, 64, 128, 256, 512, 1024, 2048, 4096]"))
    out = os.path.join(tmp, "resume")
    journal = os.path.join(out, "sweep.journal.jsonl")
    proc = subprocess.Popen([GRIFFIN, "run", cfg, "--out", out], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once three points are on disk
        if os.path.exists(journal) and sum(1 for _ in open(journal)) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sum(1 for _ in open(journal)) - 1
    check(not os.path.exists(os.path.join(out, "sweep.h5")) and done_before >= 3,
          f"kill: no result file, {done_before} finished points in the journal")
    r = griffin("run", cfg, "--out", out)
    check(r.returncode != 0 and "--resume" in r.stderr, "kill: rerun without --resume refuses")
    r = griffin("run", cfg, "--out", out, "--set", "latency.repeats=2", "--resume")
    check(r.returncode != 0 and "different config" in r.stderr,
          "kill: resume with a different config refuses")
    r = griffin("run", cfg, "--out", out, "--resume")
    measured = [line for line in r.stderr.splitlines() if line.startswith("[run]   model=")]
    check(r.returncode == 0 and f"{done_before} of 18 points already done" in r.stderr
          and len(measured) == 18 - done_before,
          f"resume: {18 - done_before} points measured, none redone")
    with h5py.File(os.path.join(out, "sweep.h5"), "r") as f:
        keys = list(zip(text(f["points/model"][()]), f["points/context"][()]))
    want = [(m, c) for m in ("griffin", "transformer")
            for c in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)]
    check(keys == want and not os.path.exists(journal),
          "resume: every point once, in order, journal removed")


def check_graph_decode(tmp):
    # On the CPU the graph decode runs its fixed-shape step eagerly; the file says which mode ran,
    # and the state holds the decoder's untimed setup steps too (analytic == measured).
    cfg = write(tmp, "graph.toml", CONFIG.format(contexts="[4, 64]"))
    out = os.path.join(tmp, "graph")
    r = griffin("run", cfg, "--out", out, "--set", "run.decode=graph")
    with h5py.File(os.path.join(out, "sweep.h5"), "r") as f:
        state = f["metrics/state_bytes_measured"][()]
        analytic = f["metrics/state_bytes_analytic"][()]
        mode = f.attrs["decode"]
    check(r.returncode == 0 and np.all(state == analytic) and mode in ("graph", b"graph"),
          "run: decode = graph runs, and the held state equals the analytic count"
          + ("" if r.returncode == 0 else r.stderr[-500:]))


RECALL = """
[experiment]
name = "recall"
measure = ["recall"]
[run]
device = "cpu"
[models]
griffin = "preset:tiny-griffin,width=32,lru_width=32,heads=2,head_dim=16,mlp_width=64,layers=2,pattern=RA,window=8"
transformer = "preset:tiny-gemma,width=32,heads=2,head_dim=16,mlp_width=64,layers=2"
[task]
kind = "distance_recall"
vocab = 64
seq_len = 48
pairs = 2
eval_distances = [4, 8, 16]
[sweep]
distance = [4, 16]
[train]
steps = 12
batch = 8
warmup = 2
lr = 0.003
eval_every = 6
eval_batches = 1
checkpoint_every = 4
"""


def check_recall(tmp):
    # Train from scratch per point, then the held-out accuracy, the curves and the state bytes
    # in the file, and the recall plot from the file alone.
    cfg = write(tmp, "recall.toml", RECALL)
    out = os.path.join(tmp, "recall")
    r = griffin("run", cfg, "--out", out)
    path = os.path.join(out, "recall.h5")
    check(r.returncode == 0 and "| griffin | - | 0.003 | distance=4" in r.stdout,
          "recall: trains every point and prints the table"
          + ("" if r.returncode == 0 else r.stderr[-500:]))
    with h5py.File(path, "r") as f:
        acc = f["metrics/accuracy"][()]
        state = f["metrics/state_bytes_at_seq_len"][()]
        model = np.array(text(f["points/model"][()]))
        loss = f["series/train_loss"][()]
        norm = f["series/train_grad_norm"][()]
        lr = f["series/train_lr"][()]
        evals = f["series/eval_accuracy"][()]
        distance = f["points/task_distance"][()]
        at_d = f["series/accuracy_at_distance"][()]
        eval_d = f["series/eval_distance"][()]
    check(len(acc) == 4 and np.all((acc >= 0) & (acc <= 1)) and loss.shape == (4, 12)
          and evals.shape == (4, 2) and list(distance) == [4, 16, 4, 16],
          "recall: accuracy, 12 losses and 2 evals per point, the swept distance")
    check(norm.shape == (4, 12) and np.all(norm > 0) and lr.shape == (4, 12)
          and np.allclose(lr[:, :2], [0.0015, 0.003]) and np.all(lr[:, -1] < lr[:, 2]),
          "recall: per-step gradient norm and learning rate (warm-up, then cosine) in the file")
    check(at_d.shape == (4, 3) and np.all(eval_d == [4, 8, 16]) and np.all((at_d >= 0) & (at_d <= 1)),
          "recall: each trained model evaluated at every eval distance")
    check(np.all(state[model == "griffin"] < state[model == "transformer"]),
          "recall: Griffin's state at the task's length is smaller than the Transformer's")
    drawn, _ = draw("plot_recall.py", path, os.path.join(tmp, "recall.png"))
    check(drawn, "plot_recall.py draws the run")


def check_recall_parallel(tmp):
    # --jobs 3: worker processes train the points; the file holds exactly the serial run's results
    # (same losses, evals and accuracies), and no worker journal or claim is left behind.
    cfg = os.path.join(tmp, "recall.toml")
    out = os.path.join(tmp, "recall-jobs")
    r = griffin("run", cfg, "--out", out, "--jobs", "3")
    same = r.returncode == 0
    if same:
        with h5py.File(os.path.join(tmp, "recall", "recall.h5"), "r") as a, \
                h5py.File(os.path.join(out, "recall.h5"), "r") as b:
            for key in ("metrics/accuracy", "series/train_loss", "series/eval_accuracy",
                        "series/accuracy_at_distance", "points/task_distance"):
                same = same and np.array_equal(a[key][()], b[key][()])
    left = [n for n in os.listdir(out) if ".worker-" in n or ".claim-" in n or "journal" in n]
    check(same and not left and "3 worker processes" in r.stderr,
          "recall --jobs 3: worker processes give the serial run's results, nothing left over"
          + ("" if r.returncode == 0 else r.stderr[-500:]))
    r = griffin("run", os.path.join(SOURCE, "experiments", "quickstart.toml"), "--out",
                os.path.join(tmp, "qs-jobs"), "--jobs", "2")
    check(r.returncode != 0 and "--jobs runs the points of a recall experiment" in r.stderr,
          "run --jobs on a timed experiment is refused with the reason")


MQAR_WIDTHS = """
[experiment]
name = "mqarw"
measure = ["recall"]
[run]
device = "cpu"
[models]
griffin = "preset:tiny-griffin,layers=2,pattern=RA,heads=1,head_dim=96,window=8"
hawk = "preset:tiny-hawk,layers=2,heads=1"
[task]
kind = "mqar"
vocab = 64
seq_len = 32
pairs = 4
random_non_queries = false
[sweep]
overrides = ["width=16,lru_width=16,head_dim=16,mlp_width=32",
             "width=32,lru_width=32,head_dim=32,mlp_width=64"]
[train]
steps = 4
batch = 4
warmup = 1
eval_every = 2
eval_batches = 1
checkpoint_every = 4
"""


def check_recall_width_sweep(tmp):
    # mqar.toml's shape: models swept over widths by overrides, with zero filler; the plot finds
    # the swept width for its accuracy-against-width panel.
    cfg = write(tmp, "mqarw.toml", MQAR_WIDTHS)
    out = os.path.join(tmp, "mqarw")
    r = griffin("run", cfg, "--out", out)
    path = os.path.join(out, "mqarw.h5")
    ok = r.returncode == 0
    if ok:
        with h5py.File(path, "r") as f:
            filler = f["points/task_random_non_queries"][()]
            params = f["metrics/parameters"][()]
        ok = list(filler) == [0, 0, 0, 0] and params[1] > params[0] and params[3] > params[2]
    check(ok, "recall: models swept over widths by overrides, zero filler recorded per point"
          + ("" if r.returncode == 0 else ": " + r.stderr[-500:]))
    sys.path.insert(0, os.path.join(SOURCE, "scripts"))
    import plot_recall  # noqa: E402  (its module imports matplotlib headless)
    swept = plot_recall.swept_override(["width=16,lru_width=16", "width=32,lru_width=32"])
    drawn, why = draw("plot_recall.py", path, os.path.join(tmp, "mqarw.png"))
    check(swept is not None and swept[0] == "width" and list(swept[1]) == [16, 32]
          and plot_recall.swept_override(["-", "-"]) is None and drawn,
          "plot_recall.py: finds the swept width and draws the run" + why)


def safetensors_params(path):
    """The raw bytes of every param/ tensor of a trainer checkpoint (safetensors: an 8-byte
    header length, a JSON header with data offsets, then the data)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]]
            for k, v in header.items() if k.startswith("param/")}


def check_recall_kill_and_resume(tmp):
    # SIGKILL inside a point's training; --resume continues from the point's last checkpoint and
    # ends with exactly the weights of an uninterrupted run.
    body = RECALL.replace('name = "recall"', 'name = "rk"').replace("distance = [4, 16]",
                                                                      "distance = [4]")
    body = body.replace("steps = 12", "steps = 400").replace("eval_every = 6", "eval_every = 100")
    body = body.replace("checkpoint_every = 4", "checkpoint_every = 20")
    body = body.replace('transformer = "preset:tiny-gemma,width=32,heads=2,head_dim=16,'
                        'mlp_width=64,layers=2"\n', "")
    cfg = write(tmp, "rk.toml", body)
    straight, killed = os.path.join(tmp, "rk-straight"), os.path.join(tmp, "rk-killed")
    r = griffin("run", cfg, "--out", straight)
    check(r.returncode == 0,
          "recall resume: the uninterrupted run" + ("" if r.returncode == 0 else r.stderr[-300:]))
    ckpt = os.path.join(killed, "rk.train", "point-0", "checkpoint.safetensors")
    proc = subprocess.Popen([GRIFFIN, "run", cfg, "--out", killed], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not os.path.exists(ckpt):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    mid_point = not os.path.exists(os.path.join(killed, "rk.h5"))
    r = griffin("run", cfg, "--out", killed, "--resume")
    a = safetensors_params(os.path.join(straight, "rk.train", "point-0", "checkpoint.safetensors"))
    b = safetensors_params(ckpt)
    check(mid_point and r.returncode == 0 and "resumed at step" in r.stderr and len(a) > 10
          and a == b,
          "recall resume: killed mid-training, resumed from its checkpoint, same final weights")


def check_niah_text(tmp):
    # The shipped text NIAH config on the tiny fixture and a random preset, trimmed: the grid in
    # the file and the heatmap from it (the models score near zero; the pipeline is the point).
    out = os.path.join(tmp, "niah")
    r = subprocess.run([GRIFFIN, "run", "experiments/niah_text.toml", "--out", out,
                        "--set", "sweep.context=[600, 1200]", "--set", "niah.trials=1",
                        "--set", "niah.depths=[0.0, 1.0]"],
                       capture_output=True, text=True, timeout=600, cwd=SOURCE)
    path = os.path.join(out, "niah_text.h5")
    check(r.returncode == 0 and "| tiny-recurrentgemma | 1200 | 1 |" in r.stdout,
          "niah_text: runs on the fixture and a preset" + ("" if r.returncode == 0
                                                           else r.stderr[-500:]))
    with h5py.File(path, "r") as f:
        depth = f["points/task_depth"][()]
        acc = f["metrics/accuracy"][()]
        tokens = f["metrics/prompt_tokens"][()]
    check(len(acc) == 8 and sorted(set(depth)) == [0.0, 1.0] and np.all((acc >= 0) & (acc <= 1))
          and np.all(tokens <= np.array([600, 600, 1200, 1200] * 2)),
          "niah_text: 2 models x 2 lengths x 2 depths, accuracy and prompt lengths")
    drawn, _ = draw("plot_niah.py", path, os.path.join(tmp, "niah.png"))
    check(drawn, "plot_niah.py draws the grid")


def check_bad_input(tmp):
    cfg = write(tmp, "ok.toml", CONFIG.format(contexts="[8]"))
    r = griffin("run", cfg, "--dry-run")
    check(r.returncode == 0 and "2 points" in r.stdout and "model=transformer context=8" in r.stdout,
          "--dry-run prints the resolved config and the points")
    check("latency.decode_tokens = 4" in r.stdout and "run.prefill_chunk = 0" in r.stdout
          and 'run.decode = "eager"' in r.stdout and "memory.budget_gib = 0" in r.stdout,
          "--dry-run prints every setting, defaults included")
    blocker = write(tmp, "a-file", "")
    for args, needle in [
        (["run", write(tmp, "bad1.toml", CONFIG.format(contexts="[8]") + "colour = 1\n")],
         "unknown key 'colour' in [latency]"),
        (["run", write(tmp, "bad2.toml", CONFIG.format(contexts="[\"8\"]"))],
         "sweep.context must be an integer"),
        (["run", write(tmp, "bad3.toml", CONFIG.format(contexts="[8]").replace(
            "tiny-gemma", "tiny-gemma,kv_heads=3"))], "models.transformer"),
        (["run", cfg, "--out", os.path.join(blocker, "sub")], "--out"),
        (["run", cfg, "--set", "run.device=cuda:7"] if not os.path.exists("/dev/nvidia0")
         else ["run", cfg, "--set", "run.device=tpu"], "run.device"),
    ]:
        r = griffin(*args)
        check(r.returncode != 0 and needle in r.stderr and "Traceback" not in r.stderr,
              f"{' '.join(os.path.basename(a) for a in args[1:])}: one error naming '{needle}'")


with tempfile.TemporaryDirectory() as tmp:
    check_full_run(tmp)
    check_point_out_of_memory(tmp)
    check_kill_and_resume(tmp)
    check_graph_decode(tmp)
    check_recall(tmp)
    check_recall_parallel(tmp)
    check_recall_width_sweep(tmp)
    check_recall_kill_and_resume(tmp)
    check_niah_text(tmp)
    check_bad_input(tmp)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
