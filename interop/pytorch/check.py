"""Checks the PyTorch twin against C#: loads the weights the `interop-export` benchmark suite wrote (KIND.pt) into
mhc_twin.HyperResNet or mhc_twin.HyperDecoderTransformer (strict, so every name and shape must match), runs the saved
input batch (images or token ids) in eval mode and compares with the C# logits (KIND.io.pt). Exits 1 when a model is
missing or any |diff| exceeds the tolerance.

    dotnet run -c Release --project samples/Benchmarks -- --suite interop-export --out DIR
    /usr/bin/python3 interop/pytorch/check.py --dir DIR
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mhc_twin  # noqa: E402

# InteropExportSuite.Networks: the defaults but for the size, per connection kind, and mHC static and per pixel.
NETWORKS = {
    "residual": dict(connection=mhc_twin.RESIDUAL),
    "hc": dict(connection=mhc_twin.HC),
    "mhc": dict(connection=mhc_twin.MHC),
    "mhc-static": dict(connection=mhc_twin.MHC, dynamic=False),
    "mhc-pixel": dict(connection=mhc_twin.MHC, per_pixel=True),
}


# InteropExportSuite.Decoders: small causal decoders (SmallDecoder there) per connection kind, mHC static, and mHC with
# tied embeddings and learned stream weights.
DECODERS = {
    "decoder-residual": dict(connection=mhc_twin.RESIDUAL),
    "decoder-hc": dict(connection=mhc_twin.HC),
    "decoder-mhc": dict(connection=mhc_twin.MHC),
    "decoder-mhc-static": dict(connection=mhc_twin.MHC, dynamic=False),
    "decoder-mhc-tied": dict(connection=mhc_twin.MHC, tie_embeddings=True, collapse="learned"),
}


def build(name, options):
    if name in DECODERS:
        return mhc_twin.HyperDecoderTransformer(41, context_length=24, dim=32, layers=2, heads=4, mlp_ratio=2,
                                                **options)
    return mhc_twin.HyperResNet(base_width=16, stage_depths=(1, 1), **options)


# The deterministic part of the initialisation (HC's zero Phi is caught too); mHC's Phi and the convolutions are random.
INIT_NAMES = (".bias_pre", ".bias_post", ".bias_res", ".gates", ".phi")


def check_init(name, model, path):
    """Compares the twin's fresh mixing parameters with the C# network's before perturbation; returns the failures."""
    if not os.path.exists(path):
        print(f"{name}: init MISSING {path}")
        return ["missing"]
    expected = torch.load(path)
    failures, compared = [], 0
    for key, value in model.state_dict().items():
        if not key.endswith(INIT_NAMES) or (key.endswith(".phi") and expected[key].abs().max() > 0):
            continue
        compared += 1
        if value.shape != expected[key].shape or (value - expected[key]).abs().max().item() > 1e-6:
            failures.append(key)
    print(f"{name}: init of {compared} mixing tensors {'ok' if not failures else 'differs in ' + ', '.join(failures)}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="folder written by --suite interop-export")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.manual_seed(0)
    failed = False
    for name, options in {**NETWORKS, **DECODERS}.items():
        weights, io = (os.path.join(args.dir, f"{name}{s}.pt") for s in ("", ".io"))
        if not (os.path.exists(weights) and os.path.exists(io)):
            print(f"{name}: MISSING {weights} or {io}")
            failed = True
            continue
        model = build(name, options)
        init_failures = check_init(name, model, os.path.join(args.dir, f"{name}.init.pt"))
        failed |= bool(init_failures)
        model.load_state_dict(torch.load(weights), strict=True)
        model.eval()
        data = torch.load(io)
        with torch.no_grad():
            logits = model(data["input"])
        diff = (logits - data["logits"]).abs().max().item()
        ok = diff <= args.tolerance
        failed |= not ok
        print(f"{name}: max |diff| = {diff:.3e} over logits {tuple(logits.shape)} "
              f"(|logits| up to {data['logits'].abs().max().item():.3f}) {'ok' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
