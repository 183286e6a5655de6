#!/usr/bin/env python3
"""Writes data/fixtures/tiny-recurrentgemma-deepmind: a tiny RecurrentGemma saved by the official
DeepMind package (recurrentgemma 1.0.1, its PyTorch half) under the package's own tensor names,
and what that package computes for it. The loader's DeepMind naming is tested against this
(tests/model/fixture_parity_test.cpp), not against the test's own inverse of its mapping.

  pip install --no-deps --target SITE recurrentgemma==1.0.1 'absl-py<2' 'einops<1' \
      'jaxtyping<1' 'typeguard<3' sentencepiece
  PYTHONPATH=SITE .venv/bin/python3 scripts/make_deepmind_fixture.py

The shapes are tiny-recurrentgemma's (its config.json is copied); the weights are the package's
own initialisation from seed 0, every tensor then moved by N(0, 0.1) so that no bias or norm is
zero (a mapping that swapped two of them would otherwise go unseen), and the blocks' output
projections scaled by 3 so that the blocks, not the tied embedding, pick the next token: with the
package's initialisation alone the greedy continuation was one token repeated; with these, 26 of
its 28 ids are distinct, and bf16 stays at 2.2e-2 of the fp32 logits (the parity test allows
3e-2). Reference outputs, float32 on the CPU: logits of the same two 36-token sequences as
tiny-recurrentgemma, and 28 greedy tokens after a 16-token prompt decoded through the package's
cache.
"""
import json
import os
import shutil
import struct
import sys
import types

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "data", "fixtures", "tiny-recurrentgemma")
OUT = os.path.join(ROOT, "data", "fixtures", "tiny-recurrentgemma-deepmind")


def import_official():
    """The package's __init__ imports its JAX half too; only the PyTorch half is needed."""
    import importlib.util
    spec = importlib.util.find_spec("recurrentgemma")
    if spec is None:
        sys.exit("make_deepmind_fixture.py: recurrentgemma is not importable (see the docstring)")
    pkg = types.ModuleType("recurrentgemma")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["recurrentgemma"] = pkg
    import recurrentgemma.common as common
    import recurrentgemma.torch.griffin as griffin
    return common, griffin


def save_safetensors(path, tensors):
    """The safetensors format: 8-byte header size, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[a.dtype]
        raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(path + ".tmp", path)


def load_reference_inputs():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from fixture_parity import load_safetensors
    return torch.from_numpy(load_safetensors(os.path.join(SOURCE, "reference.safetensors"))
                            ["input_ids"].astype(np.int64))


def main():
    common, griffin = import_official()
    with open(os.path.join(SOURCE, "config.json")) as f:
        hf = json.load(f)
    kinds = {"recurrent": common.TemporalBlockType.RECURRENT,
             "attention": common.TemporalBlockType.ATTENTION}
    pattern = [kinds[k] for k in hf["block_types"]]
    config = common.GriffinConfig(
        vocab_size=hf["vocab_size"], width=hf["hidden_size"],
        mlp_expanded_width=hf["intermediate_size"] // 2, num_heads=hf["num_attention_heads"],
        block_types=tuple(pattern[i % len(pattern)] for i in range(hf["num_hidden_layers"])),
        embeddings_scale_by_sqrt_dim=True, attention_window_size=hf["attention_window_size"],
        logits_soft_cap=hf["logits_soft_cap"], lru_width=hf["lru_width"],
        scan_type=common.ScanType.LINEAR_NATIVE)
    torch.manual_seed(0)
    model = griffin.Griffin(config, gradient_checkpointing=False, device="cpu",
                            dtype=torch.float32)
    model.eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
            if name.endswith(("linear_out.weight", "proj_final.weight", "ffw_down.weight")):
                p.mul_(3.0)

    ids = load_reference_inputs()                                   # [2, 36]
    pos = torch.arange(ids.shape[1]).expand_as(ids)
    with torch.no_grad():
        logits, _ = model(ids, pos, return_cache=False)
        prompt = ids[:1, :16]
        step_logits, cache = model(prompt, torch.arange(16)[None], return_cache=True)
        greedy, token = [], step_logits[:, -1].argmax(-1)
        for t in range(16, 16 + 28):
            greedy.append(int(token))
            step_logits, cache = model(token[:, None], torch.tensor([[t]]), cache=cache)
            token = step_logits[:, -1].argmax(-1)
    os.makedirs(OUT, exist_ok=True)
    shutil.copy(os.path.join(SOURCE, "config.json"), os.path.join(OUT, "config.json"))
    save_safetensors(os.path.join(OUT, "model.safetensors"),
                     {k: v.detach().numpy() for k, v in model.state_dict().items()})
    save_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "input_ids": ids.numpy(), "logits": logits.float().numpy(),
        "prompt_ids": prompt.numpy(), "greedy_ids": np.array([greedy], dtype=np.int64)})
    print(f"wrote {OUT}: {len(model.state_dict())} tensors; greedy ids {greedy}")


if __name__ == "__main__":
    main()
