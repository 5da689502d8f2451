"""The reference implementation's decoder on the text the decoder-reference suite wrote, for the same steps.

Interop check only, not a dependency. Needs PyTorch (Debian: python3-torch with libopenblas0-openmp) and a checkout of
richardhahahaha/mHC (its mhyperconn.py). Same configuration as its text_train.py: dim 128, 6 layers, 4 heads, rate 4,
dropout 0.1, context 128, batch 64, AdamW 3e-4, weight decay 0.01, constant rate; vocabulary and windows as in
DecoderReferenceSuite.cs.

  /usr/bin/python3 samples/Benchmarks/reference/decoder_reference.py --mhc-repo PATH --text out/decoder-reference
"""
import argparse
import json
import random
import sys
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--mhc-repo", required=True)
p.add_argument("--text", default="out/decoder-reference")
p.add_argument("--steps", type=int, default=300)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--json")
a = p.parse_args()
sys.path.insert(0, a.mhc_repo)
from mhyperconn import HyperConnectionDecodeTransformer  # noqa: E402

torch.set_num_threads(a.threads)
train = open(f"{a.text}/train.txt", encoding="utf-8").read()
validation = open(f"{a.text}/validation.txt", encoding="utf-8").read()
chars = sorted(set(train + validation))
index = {c: i for i, c in enumerate(chars)}
train_ids = torch.tensor([index[c] for c in train])
validation_ids = torch.tensor([index[c] for c in validation])
batch, context, window = 64, 128, 50


def draw_batch(ids, rng):
    starts = [rng.randrange(len(ids) - context - 1) for _ in range(batch)]
    x = torch.stack([ids[s:s + context] for s in starts])
    y = torch.stack([ids[s + 1:s + context + 1] for s in starts])
    return x, y


torch.manual_seed(1)
model = HyperConnectionDecodeTransformer(vocab_size=len(chars), max_len=context, dim=128, n_layers=6, n_heads=4, rate=4, dropout=0.1)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=1e-2)
rng = random.Random(1)
windows, total, start = [], 0.0, time.time()
model.train()
for step in range(1, a.steps + 1):
    x, y = draw_batch(train_ids, rng)
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
    loss.backward()
    optimizer.step()
    total += loss.item()
    if step % window == 0 or step == a.steps:
        windows.append(total / (window if step % window == 0 else step % window))
        print(f"reference step {step}: mean training loss of the window {windows[-1]:.4f} ({time.time() - start:.0f} s)", flush=True)
        total = 0.0
seconds = time.time() - start
model.eval()
rng = random.Random(2)
with torch.no_grad():
    val = sum(F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1)).item() for x, y in (draw_batch(validation_ids, rng) for _ in range(20))) / 20
print(f"reference: validation loss {val:.4f} nats/char after {a.steps} steps, {seconds / a.steps * 1000:.0f} ms/step")
if a.json:
    json.dump({"train_loss_windows": windows, "validation_loss": val, "ms_per_step": seconds / a.steps * 1000}, open(a.json, "w"), indent=1)
