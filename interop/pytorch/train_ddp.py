"""Trains the twin Hyper-ResNet (mhc_twin) on the MNIST digits with DistributedDataParallel and writes weights that an
ML.NET MhcImage transformer loads (MhcImageClassificationTrainer.FromWeights): the ImageClassifier state_dict
(backbone.* plus input_mean, input_std) as safetensors, and a JSON report (network, run, PyTorch's test accuracy).

    torchrun --redirects 2 --tee 2 --nproc_per_node=2 interop/pytorch/train_ddp.py --out DIR   # 2 processes, gloo
    torchrun --redirects 2 --tee 2 --nproc_per_node=1 interop/pytorch/train_ddp.py --out DIR   # the same in 1 process
    /usr/bin/python3 interop/pytorch/train_ddp.py --out DIR                                    # no torchrun at all

(--redirects 2 --tee 2: Debian 12's torchrun, PyTorch 1.13 on Python 3.11, fails at the default --redirects 0 with
"'NoneType' object has no attribute 'get'"; see the README.)

The global batch is fixed (--batch-size), each of the W processes takes its 1/W share of every batch, and DDP averages
the gradients, so 1 and 2 processes take the same optimiser steps on the same data (up to float summation order and
batch-norm statistics, which each process computes on its own share, as plain DDP does). Across machines the same
script runs under `torchrun --nnodes=N --node_rank=R --master_addr=HOST ...`.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mhc_twin  # noqa: E402
import mnist_digits  # noqa: E402
import safetensors_io  # noqa: E402

WEIGHTS, REPORT = "hyper_resnet.safetensors", "pytorch_run.json"


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the weights and the report")
    p.add_argument("--data", default=None, help="MNIST folder (default $MHC_DATA/mnist)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64, help="global batch, split across the processes")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--base-width", type=int, default=16)
    p.add_argument("--stage-depths", default="1,1", help="blocks per stage, comma-separated")
    p.add_argument("--connection", default=mhc_twin.MHC, choices=[mhc_twin.RESIDUAL, mhc_twin.HC, mhc_twin.MHC])
    p.add_argument("--expansion-rate", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per process")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def network_options(args):
    """The twin's keyword arguments; the report carries them so that the C# side builds the same network."""
    return dict(base_width=args.base_width, stage_depths=[int(s) for s in args.stage_depths.split(",")],
                connection=args.connection, expansion_rate=args.expansion_rate, block="basic")


def accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            correct += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    return correct / len(images)


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the {world} processes")
    train_x, train_y, test_x, test_y = mnist_digits.load(args.data)
    torch.manual_seed(args.seed)
    options = network_options(args)
    # The statistics of the training set, as MhcImageClassificationTrainer computes them (kept as buffers).
    model = mhc_twin.ImageClassifier(mhc_twin.HyperResNet(in_channels=1, num_classes=10, image_size=(28, 28), **options),
                                     [train_x.mean().item()], [train_x.std().item()])
    # DDP broadcasts rank 0's parameters and buffers at construction, so every process starts from the same weights.
    trained = DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.AdamW(trained.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = len(train_x) // args.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.epochs * steps_per_epoch)
    share = args.batch_size // world
    losses = []
    load_before = os.getloadavg()[0]
    cpu_start = time.process_time()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        # The same permutation on every process (seeded by epoch); process r takes its share of each global batch.
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        total = 0.0
        for step in range(steps_per_epoch):
            batch = order[step * args.batch_size + rank * share: step * args.batch_size + (rank + 1) * share]
            loss = F.cross_entropy(trained(train_x[batch]), train_y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        mean_loss = torch.tensor(total / steps_per_epoch)
        if distributed:
            dist.all_reduce(mean_loss)
            mean_loss /= world
        losses.append(mean_loss.item())
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: train loss {losses[-1]:.4f} "
                  f"({time.perf_counter() - start:.1f} s, {world} process(es))", flush=True)
    train_seconds = time.perf_counter() - start
    # CPU seconds of all processes together: what the run cost, whatever else the machine was doing meanwhile.
    cpu_seconds = torch.tensor(time.process_time() - cpu_start, dtype=torch.float64)
    if distributed:
        dist.all_reduce(cpu_seconds)
    if rank == 0:
        acc = accuracy(model, test_x, test_y)
        os.makedirs(args.out, exist_ok=True)
        report = dict(network=options, world_size=world, threads_per_process=args.threads, epochs=args.epochs,
                      global_batch=args.batch_size, lr=args.lr, seed=args.seed, train_seconds=round(train_seconds, 2),
                      train_cpu_seconds=round(cpu_seconds.item(), 2), cpu_count=os.cpu_count(),
                      load_average_before=load_before, load_average_after=os.getloadavg()[0],
                      train_losses=losses, train_count=len(train_x), test_count=len(test_x),
                      test_split=f"digit i of each class file is a test digit when i % {mnist_digits.TEST_EVERY} == 0",
                      pytorch_test_accuracy=acc, weights=WEIGHTS, torch_version=torch.__version__)
        safetensors_io.save_file(model.state_dict(), os.path.join(args.out, WEIGHTS),
                                 {"format": "pt", "producer": "interop/pytorch/train_ddp.py"})
        temp = os.path.join(args.out, "." + REPORT + ".tmp")
        with open(temp, "w") as f:
            json.dump(report, f, indent=2)
        os.replace(temp, os.path.join(args.out, REPORT))
        print(f"PyTorch test accuracy {acc:.4f} on {len(test_x)} digits; {train_seconds:.1f} s training "
              f"({cpu_seconds.item():.1f} CPU s) with {world} process(es) x {args.threads} thread(s); "
              f"wrote {os.path.join(args.out, WEIGHTS)}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
