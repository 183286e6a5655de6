"""The sweep the launch tests run on the CPU (tests/cli/test_run_ranks.py, test_scale_out.py)."""

# Six recall points (two models x three distances), each a few seconds of training on the CPU.
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
eval_distances = [4, 16]
[sweep]
distance = [4, 8, 16]
[train]
steps = {steps}
batch = 8
warmup = 2
lr = 0.003
eval_every = {steps}
eval_batches = 1
checkpoint_every = 10
"""
