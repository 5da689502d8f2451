"""Checks layouts.py: parameters in DeepSeek's / Megatron-LM's layout, mapped to ours, give the twin's
HyperConnection (softmax-first Sinkhorn, no logit bound) the outputs of their layout's equations; unmapped (comb read as
H_res untransposed) they do not. No C# needed.

    /usr/bin/python3 interop/pytorch/check_layouts.py
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layouts  # noqa: E402
import mhc_twin  # noqa: E402


def main(tolerance=1e-5):
    torch.manual_seed(0)
    n, c, tokens, iterations = 4, 8, 16, 10
    branch = nn.Sequential(nn.Linear(c, c), nn.Tanh())
    weight, scale = 0.3 * torch.randn(n * n + 2 * n, n * c), torch.tensor([0.8, 0.6, 0.9])
    base, norm_weight = torch.randn(n * n + 2 * n), 1 + 0.2 * torch.randn(n * c)
    x = torch.randn(tokens, n, c)
    with torch.no_grad():
        expected = layouts.their_layout_step(x, weight * norm_weight, scale, base, branch, iterations)
        hc = mhc_twin.HyperConnection(branch, c, streams=n, channels_first=False, per_token=True,
                                      sinkhorn_variant=mhc_twin.SOFTMAX_FIRST, sinkhorn_iterations=iterations,
                                      residual_logit_bound=None)
        results = {}
        for name, mapped in (("mapped", layouts.to_ours(weight, scale, base, n, norm_weight)),
                             ("unmapped", dict(phi=weight * norm_weight, gates=scale, bias_pre=base[:n],
                                               bias_post=base[n:2 * n], bias_res=base[2 * n:].view(n, n)))):
            hc.load_state_dict({**{k: v for k, v in hc.state_dict().items() if k.startswith("branch.")}, **mapped})
            # The twin reads streams (B, n, *S, C): one sample whose tokens are the sequence.
            out = hc(x.transpose(0, 1).unsqueeze(0)).squeeze(0).transpose(0, 1)
            results[name] = (out - expected).abs().max().item()
        back = layouts.from_ours(*(layouts.to_ours(weight, scale, base, n)[k]
                                   for k in ("phi", "gates", "bias_pre", "bias_post", "bias_res")))
        round_trip = max((a - b).abs().max().item() for a, b in zip(back, (weight, scale, base)))
        # Megatron-LM's names: one HyperConnectionModule under a layer prefix, alphas of shape (1).
        prefix = "decoder.layers.0.self_attention_hyper_connection"
        megatron = {f"{prefix}.mapping_proj.weight": weight, f"{prefix}.bias": base,
                    **{f"{prefix}.alpha_{k}": scale[i:i + 1] for i, k in enumerate(("pre", "post", "res"))}}
        direct = layouts.to_ours(weight, scale, base, n)
        round_trip = max([round_trip] + [(v - direct[k]).abs().max().item()
                                         for k, v in layouts.megatron_to_ours(prefix, megatron).items()])
    ok = results["mapped"] <= tolerance and results["unmapped"] > 100 * tolerance and round_trip == 0
    print(f"their layout vs twin: mapped max |diff| {results['mapped']:.2e}, unmapped {results['unmapped']:.2e}, "
          f"round trip {round_trip:.1e} {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
