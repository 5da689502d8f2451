"""Maps the mHC mixing parameters of DeepSeek's TileKernels and of Megatron-LM to this library's names, and back.

Both store one projection for all three mixings and one bias vector, rows ordered [pre (n), post (n), res (n*n)], and
apply the residual mixing transposed: their comb[j, i] (DeepSeek, tile_kernels/torch/mhc.py) and h_res[j, i]
(Megatron-LM, megatron/core/transformer/hyper_connection.py: H_res.T @ residual) are our H_res[i, j]. So the res rows
of the projection and the res part of the bias are permuted (i, j) -> (j, i); everything else keeps its order.

    theirs                                            ours (HyperConnection)
    DeepSeek fn / Megatron mapping_proj.weight        phi        (n^2 + 2n, n C), res rows transposed
      [x DeepSeek norm_weight (n C), if given]          (folded: our RMS normalisation has no gain)
    DeepSeek scale (3) / Megatron alpha_pre,          gates      (3)
      alpha_post, alpha_res (1 each)
    base / bias (n^2 + 2n)                            bias_pre (n), bias_post (n), bias_res (n, n) transposed

What the names do not carry (set it on the twin or the C# options): their Sinkhorn normalises with epsilon and starts
with a softmax (our sinkhorn_variant "softmax_first", SinkhornVariant.SoftmaxFirst) for sinkhorn_repeat /
mhc_sinkhorn_iterations rounds; they have no bound on the H_res logits (residual_logit_bound=None,
ResidualLogitBound = null); H_post = post_mult * sigmoid (ours is 2 sigmoid, so only post_mult = 2 maps); they add an
epsilon (1e-6) to H_pre, which we do not.
"""
import torch


def _swap_res(rows, n):
    """Rows (or entries) [pre, post, res] with the res block's (i, j) order swapped to (j, i); its own inverse."""
    res = rows[2 * n:]
    swapped = res.reshape(n, n, *res.shape[1:]).transpose(0, 1).reshape(res.shape)
    return torch.cat([rows[:2 * n], swapped])


def to_ours(weight, scale, base, n, norm_weight=None):
    """Their projection (n^2 + 2n, n C), scale (3) and base (n^2 + 2n) as our phi, gates, bias_pre, bias_post,
    bias_res. norm_weight (n C), DeepSeek's optional RMSNorm gain, is folded into phi as their kernels do."""
    expected = n * n + 2 * n
    if weight.dim() != 2 or weight.shape[0] != expected:
        raise ValueError(f"projection: expected ({expected}, n*C) for n = {n}; got {tuple(weight.shape)}")
    if base.shape != (expected,):
        raise ValueError(f"base/bias: expected ({expected},); got {tuple(base.shape)}")
    scale = scale.reshape(-1)
    if scale.shape != (3,):
        raise ValueError(f"scale/alphas: expected 3 values (pre, post, res); got {tuple(scale.shape)}")
    if norm_weight is not None:
        weight = weight * norm_weight.reshape(1, -1)
    bias = _swap_res(base, n)
    return {"phi": _swap_res(weight, n).clone(), "gates": scale.clone(), "bias_pre": bias[:n].clone(),
            "bias_post": bias[n:2 * n].clone(), "bias_res": bias[2 * n:].reshape(n, n).clone()}


def from_ours(phi, gates, bias_pre, bias_post, bias_res):
    """Our mixing parameters in their layout: (projection, scale (3), base)."""
    n = bias_pre.shape[0]
    return _swap_res(phi, n).clone(), gates.clone(), _swap_res(torch.cat([bias_pre, bias_post, bias_res.reshape(-1)]), n)


def megatron_to_ours(prefix, state):
    """A Megatron-LM HyperConnectionModule's tensors (PREFIX.mapping_proj.weight, PREFIX.alpha_pre, .alpha_post,
    .alpha_res, .bias) as ours."""
    weight = state[f"{prefix}.mapping_proj.weight"]
    bias = state[f"{prefix}.bias"]
    n = round((-2 + (4 + 4 * bias.numel()) ** 0.5) / 2)
    scale = torch.cat([state[f"{prefix}.alpha_{k}"].reshape(1) for k in ("pre", "post", "res")])
    return to_ours(weight, scale, bias, n)


def their_layout_step(x, weight, scale, base, branch, iterations, eps=1e-6, norm_eps=1e-6):
    """One mHC sublayer computed in their layout from the equations (mHC eq. 3, 5-9 with comb[j, i] applied as
    out_i = sum_j comb[j, i] x_j), written here to test the mapping: x (tokens, n, C) -> (tokens, n, C)."""
    t, n, c = x.shape
    flat = x.reshape(t, n * c)
    mixes = (flat @ weight.t()) * torch.rsqrt(flat.square().mean(-1, keepdim=True) + norm_eps)
    gains = torch.cat([scale[0].expand(n), scale[1].expand(n), scale[2].expand(n * n)])
    h = mixes * gains + base
    pre = torch.sigmoid(h[:, :n]) + eps
    post = 2 * torch.sigmoid(h[:, n:2 * n])
    comb = h[:, 2 * n:].reshape(t, n, n)                        # comb[:, j, i]
    comb = comb.softmax(-1) + eps                                # over i, the output stream
    comb = comb / (comb.sum(-2, keepdim=True) + eps)
    for _ in range(iterations - 1):
        comb = comb / (comb.sum(-1, keepdim=True) + eps)
        comb = comb / (comb.sum(-2, keepdim=True) + eps)
    y = branch((pre.unsqueeze(-1) * x).sum(1))
    return torch.einsum("tji,tjc->tic", comb, x) + post.unsqueeze(-1) * y.unsqueeze(1)
