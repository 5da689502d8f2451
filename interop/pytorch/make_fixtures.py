"""Writes the small twin-made fixtures the C# tests load (test/fixtures/pytorch-twin), so that CI checks the
PyTorch -> C# direction without Python. Each fixture is a tiny seeded network of mhc_twin, its weights moved away from
the initialisation (as InteropExportSuite.Perturb does on the C# side, so that every mixing term shows), and NAME.io
with an input batch and the twin's eval-mode logits. The C# tests build the same networks (the options are written
into each weights file's __metadata__ too) and must reproduce the logits within 1e-5.

    /usr/bin/python3 interop/pytorch/make_fixtures.py --out test/fixtures/pytorch-twin
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mhc_twin  # noqa: E402
import safetensors_io  # noqa: E402

IMAGE = dict(in_channels=1, num_classes=10, image_size=(12, 12), base_width=4, stage_depths=(2, 1))
DECODER = dict(vocab_size=17, context_length=8, dim=16, layers=2, heads=2, mlp_ratio=2)


def perturb(model, generator):
    """Gates near 0.5 (the dynamic part as large as the biases), H_res logits spread by N(0, 1), other parameters
    moved by N(0, 0.1^2), batch-norm statistics away from 0 and 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".gates"):
                p.copy_(0.5 + 0.1 * torch.rand(p.shape, generator=generator))
            elif name.endswith(".bias_res"):
                p.add_(torch.randn(p.shape, generator=generator))
            else:
                p.add_(0.1 * torch.randn(p.shape, generator=generator))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=generator))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=generator))


def fixtures():
    """(name, model, input, options for the metadata); each model built right after seeding."""
    torch.manual_seed(7)
    yield "hyperresnet-mhc", mhc_twin.HyperResNet(**IMAGE), torch.randn(3, 1, 12, 12), dict(IMAGE, connection="mhc")
    torch.manual_seed(8)
    yield "hyperresnet-hc", mhc_twin.HyperResNet(connection=mhc_twin.HC, **IMAGE), torch.randn(3, 1, 12, 12), \
        dict(IMAGE, connection="hc")
    torch.manual_seed(9)
    yield "decoder-mhc", mhc_twin.HyperDecoderTransformer(**DECODER), torch.randint(0, 17, (2, 8)), \
        dict(DECODER, connection="mhc")
    # The network an ML.NET MhcImage transformer scores with (input standardisation + backbone); twenty images: the C#
    # test labels image i < 10 as digit i (so every class occurs) and the others as the twin's argmax, and checks that
    # Evaluate's accuracy is the twin's argmax accuracy on those labels.
    torch.manual_seed(10)
    yield "classifier-mhc", mhc_twin.ImageClassifier(mhc_twin.HyperResNet(**IMAGE), [0.13], [0.31]), \
        torch.rand(20, 1, 12, 12), dict(IMAGE, connection="mhc", input_mean=0.13, input_std=0.31)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, model, inputs, options in fixtures():
        perturb(model, torch.Generator().manual_seed(1))
        model.eval()
        with torch.no_grad():
            logits = model(inputs)
        meta = {"options": json.dumps(options), "producer": "interop/pytorch/make_fixtures.py"}
        safetensors_io.save_file(model.state_dict(), os.path.join(args.out, f"{name}.safetensors"), meta)
        safetensors_io.save_file({"input": inputs, "logits": logits}, os.path.join(args.out, f"{name}.io.safetensors"))
        print(f"{name}: {len(model.state_dict())} tensors, logits {tuple(logits.shape)}")
    # One PyTorch-native file too: torch.save of a state_dict (zip format), which C# loads as .pt.
    torch.save(model.state_dict(), os.path.join(args.out, "classifier-mhc.pt"))


if __name__ == "__main__":
    main()
