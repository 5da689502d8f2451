"""Plain-PyTorch twin of Microsoft.ML.Mhc's HyperConnection, HyperResNet and HyperDecoderTransformer.

Same parameter and buffer names as the C# state_dict, so the weights a C# network saves with
``ModuleWeights.Save(net, "net.pt")`` load here with ``model.load_state_dict(torch.load("net.pt"))`` (strict), and
the same math, so both compute the same logits (checked by check.py). Runs on PyTorch 1.13 (Debian 12's
python3-torch); no other package is needed.

Notation follows mHC (arXiv 2512.24880) and HC (arXiv 2409.19606). Streams are (B, n, *features); row i of
H_res mixes the streams into output stream i: X'[i] = sum_j H_res[i, j] X[j] (DeepSeek's kernels store the
transpose, comb[j, i] = H_res[i, j]).
"""
import math
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F

RESIDUAL, HC, MHC = "residual", "hc", "mhc"
EXP_FIRST, SOFTMAX_FIRST, LOG_DOMAIN = "exp_first", "softmax_first", "log_domain"


def sinkhorn(logits, iterations=20, variant=EXP_FIRST, epsilon=1e-6):
    """mHC eq. (8)-(9): logits (..., n, n) to (approximately) doubly stochastic matrices. Every round normalises
    the columns, then the rows, so the rows sum to one exactly and the columns approximately (as in C#)."""
    x = logits.float()
    if variant == EXP_FIRST:
        # The per-matrix max changes nothing after normalisation but keeps exp() finite.
        m = (x - x.amax(dim=(-2, -1), keepdim=True).detach()).exp()
        for _ in range(iterations):
            m = m / m.sum(-2, keepdim=True)
            m = m / m.sum(-1, keepdim=True)
        return m
    if variant == SOFTMAX_FIRST:
        # DeepSeek's kernel reference in our orientation: softmax over the columns, epsilon in every division.
        m = x.softmax(-2) + epsilon
        m = m / (m.sum(-1, keepdim=True) + epsilon)
        for _ in range(1, iterations):
            m = m / (m.sum(-2, keepdim=True) + epsilon)
            m = m / (m.sum(-1, keepdim=True) + epsilon)
        return m
    if variant == LOG_DOMAIN:
        l = x
        for _ in range(iterations):
            l = l - l.logsumexp(-2, keepdim=True)
            l = l - l.logsumexp(-1, keepdim=True)
        return l.exp()
    raise ValueError(f"unknown Sinkhorn variant {variant!r}")


class HyperConnection(nn.Module):
    """Wraps a branch F with n residual streams (C#: Mhc.Models.Layers.HyperConnection).

    Parameters (names as in C#): phi (n^2 + 2n, nC) and gates (3) for dynamic mixing; bias_pre (n), bias_post (n),
    bias_res (n, n); the submodules branch and, at a stage change, projection (a linear map applied to every stream).
    Residual (n = 1) has none of the mixing parameters and computes P(x) + F(x).
    """

    def __init__(self, branch, dim, connection=MHC, streams=4, dynamic=True, layer_index=0, projection=None,
                 per_token=False, channels_first=True, sinkhorn_variant=EXP_FIRST, sinkhorn_iterations=20,
                 residual_logit_bound=4.0, norm_eps=1e-6, gate_init=0.01, dynamic_init_std=0.02,
                 identity_strength=2.0, home_pre_weight=0.7, paper_init=False):
        super().__init__()
        self.connection = connection
        self.n = 1 if connection == RESIDUAL else streams
        self.dynamic = dynamic
        self.per_token = per_token
        self.channels_first = channels_first
        self.sinkhorn_variant = sinkhorn_variant
        self.sinkhorn_iterations = sinkhorn_iterations
        self.bound = residual_logit_bound
        self.norm_eps = norm_eps
        self.branch = branch
        self.projection = projection
        if connection == RESIDUAL:
            return
        n = self.n
        pre, post, res = self._initial_biases(connection, n, layer_index % n, identity_strength, home_pre_weight,
                                              residual_logit_bound, paper_init)
        self.bias_pre = nn.Parameter(pre)
        self.bias_post = nn.Parameter(post)
        self.bias_res = nn.Parameter(res)
        if dynamic:
            # HC initialises its dynamic weights to zero (HC sec. 2.3); mHC's text only fixes alpha.
            phi = torch.zeros(n * n + 2 * n, n * dim)
            if connection == MHC:
                phi.normal_(0.0, dynamic_init_std)
            self.phi = nn.Parameter(phi)
            self.gates = nn.Parameter(torch.full((3,), gate_init))

    @staticmethod
    def _initial_biases(connection, n, home, strength, home_pre, bound, paper):
        eye = torch.eye(n)
        home_hot = torch.zeros(n)
        home_hot[home] = 1.0
        if connection == HC:
            # HC's own init: the width connection picks the home stream, depth connections are 1, A_r = I.
            return home_hot, torch.ones(n), eye
        if paper:
            return torch.zeros(n), torch.zeros(n), torch.zeros(n, n)
        # Identity-like: sigmoid(b_pre) puts home_pre on the home stream and spreads the rest; 2 sigmoid(0) = 1 for
        # H_post; c(2I - 1) makes Sinkhorn(b_res) diagonal-dominant, stored so that the bounded logit is exactly +-c.
        p = 0.999 if n == 1 else home_pre
        q = 0.0 if n == 1 else (1 - p) / (n - 1)
        logit = lambda v: math.log(v / (1 - v))
        pre = home_hot * logit(p) + (1 - home_hot) * (0.0 if n == 1 else logit(q))
        c = bound * math.atanh(strength / bound) if bound is not None else strength
        return pre, torch.zeros(n), (2 * eye - 1) * c

    def _activate(self, h_pre, h_post, h_res):
        """mHC eq. (7)-(9); HC uses its logits as they are."""
        if self.connection == HC:
            return h_pre, h_post, h_res
        if self.bound is not None:
            # L tanh(h / L) keeps Sinkhorn where its 20 rounds balance the columns (MixingSettings.ResidualLogitBound).
            h_res = torch.tanh(h_res / self.bound) * self.bound
        return torch.sigmoid(h_pre), 2 * torch.sigmoid(h_post), sinkhorn(h_res, self.sinkhorn_iterations,
                                                                          self.sinkhorn_variant)

    def _dynamic_logits(self, v):
        """mHC eq. (5)-(6) on states v (..., nC): m = (Phi v) / rms(v); h = alpha m + b (HC: alpha tanh(m) + b)."""
        n = self.n
        v = v.float()
        r = torch.rsqrt(v.square().mean(-1, keepdim=True) + self.norm_eps)
        m = F.linear(v, self.phi.float()) * r
        m_pre, m_post = m[..., :n], m[..., n:2 * n]
        m_res = m[..., 2 * n:].unflatten(-1, (n, n))
        if self.connection == HC:
            m_pre, m_post, m_res = torch.tanh(m_pre), torch.tanh(m_post), torch.tanh(m_res)
        g = self.gates.float()
        return g[0] * m_pre + self.bias_pre.float(), g[1] * m_post + self.bias_post.float(), \
            g[2] * m_res + self.bias_res.float()

    def forward(self, x):
        if x.dim() < 3 or x.shape[1] != self.n:
            raise ValueError(f"expected streams (B, {self.n}, *features); got {tuple(x.shape)}")
        if self.connection == RESIDUAL:
            s = x[:, 0]
            y = self.branch(s)
            skip = s if self.projection is None else self.projection(s)
            return (skip + y).unsqueeze(1)
        if not self.dynamic:
            pre, post, res = self._activate(self.bias_pre.float(), self.bias_post.float(), self.bias_res.float())
            return self._apply_flat(x, pre.unsqueeze(0), post.unsqueeze(0), res.unsqueeze(0))
        if not self.per_token and x.dim() > 3:
            # Per-sample mixing: one n x C state per sample, the spatial (or sequence) mean of each stream.
            pooled = x.flatten(3).mean(-1) if self.channels_first else x.flatten(2, -2).mean(2)
            return self._apply_flat(x, *self._activate(*self._dynamic_logits(pooled.flatten(1))))
        return self._forward_tokens(x)

    def _apply_flat(self, x, pre, post, res):
        """Coefficients shared by all tokens of a sample: pre/post (1 or B, n), res (1 or B, n, n).
        mHC eq. (3): X' = H_res X + H_post^T F(H_pre X), with the projection P on the carried streams
        (P is linear, so P(H_res X) = H_res P(X))."""
        b, n = x.shape[0], self.n
        flat = x.reshape(b, n, -1)
        u = torch.matmul(pre.to(x.dtype).unsqueeze(-2), flat).view(b, *x.shape[2:])
        y = self.branch(u)
        mixed = torch.matmul(res.to(x.dtype), flat)
        carried = mixed if self.projection is None else self._project(mixed.view(x.shape)).reshape(b, n, -1)
        out = torch.addcmul(carried, post.to(x.dtype).unsqueeze(-1), y.reshape(b, 1, -1))
        return out.view(b, n, *y.shape[1:])

    def _forward_tokens(self, x):
        """Per-token mixing (mHC eq. 3, 5-9 as written): every token's n x C state sets its own coefficients."""
        b, n, d = x.shape[0], self.n, x.dim()
        if self.channels_first:   # (B, n, C, *S) -> (B, *S, n, C)
            perm, c, spatial = [0, *range(3, d), 1, 2], x.shape[2], x.shape[3:]
        else:                     # (B, n, *S, C) -> (B, *S, n, C)
            perm, c, spatial = [0, *range(2, d - 1), 1, d - 1], x.shape[-1], x.shape[2:-1]
        inverse = [perm.index(i) for i in range(d)]
        grid = (b, *spatial, n, c)
        tokens = x.permute(perm).reshape(b, -1, n, c)                                  # (B, S, n, C)
        pre, post, res = self._activate(*self._dynamic_logits(tokens.flatten(2)))
        one = (b, *spatial, 1, c)
        u = torch.matmul(pre.to(x.dtype).unsqueeze(-2), tokens).reshape(one).permute(inverse).squeeze(1)
        y = self.branch(u)
        mixed = torch.matmul(res.to(x.dtype), tokens)                                   # (B, S, n, C)
        if self.projection is None and y.shape == u.shape:
            y_tokens = y.unsqueeze(1).permute(perm).reshape(b, -1, 1, c)
            out = torch.addcmul(mixed, post.to(x.dtype).unsqueeze(-1), y_tokens)
            return out.reshape(grid).permute(inverse)
        # The projection changes the token grid, so per-token H_post no longer lines up with the output; use its
        # per-sample mean there (as C# does).
        carried = self._project(mixed.reshape(grid).permute(inverse))
        post_mean = post.mean(1).to(x.dtype).view(b, n, 1)
        return torch.addcmul(carried.reshape(b, n, -1), post_mean, y.reshape(b, 1, -1)).view(carried.shape)

    def _project(self, streams):
        b, n = streams.shape[0], self.n
        p = self.projection(streams.reshape(b * n, *streams.shape[2:]))
        return p.reshape(b, n, *p.shape[1:])


class StreamCollapse(nn.Module):
    """Reduces (B, n, *features) to (B, *features) before the head: mean, sum, or learned weights ("weights")."""

    def __init__(self, streams, mode="mean"):
        super().__init__()
        self.mode = mode
        if mode == "learned":
            self.weights = nn.Parameter(torch.full((streams,), 1.0 / streams))

    def forward(self, x):
        if self.mode == "sum":
            return x.sum(1)
        if self.mode == "mean":
            return x.mean(1)
        shape = [1] * x.dim()
        shape[1] = x.shape[1]
        return (x * self.weights.to(x.dtype).view(shape)).sum(1)


class HyperSequential(nn.Module):
    """Expands the input to n streams once (HC sec. 2, mHC sec. 3: the embedding repeated n times), threads them
    through the layers, registered as "0", "1", ..., and collapses them once at the end."""

    def __init__(self, streams, layers, collapse="mean"):
        super().__init__()
        self.streams = streams
        self.depth = len(layers)
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        self.collapse = StreamCollapse(streams, collapse)

    def forward(self, x):
        s = x.unsqueeze(1).expand(x.shape[0], self.streams, *x.shape[1:]).contiguous()
        for i in range(self.depth):
            s = getattr(self, str(i))(s)
        return self.collapse(s)


class ConvUnit(nn.Module):
    """Pre-activation BN, ReLU, 3x3 conv (He et al. 2016b): the stream path stays linear."""

    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_ch)
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)

    def forward(self, x):
        return self.conv(F.relu(self.bn(x)))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_ch, planes, stride=1):
        super().__init__()
        self.unit1 = ConvUnit(in_ch, planes, stride)
        self.unit2 = ConvUnit(planes, planes)

    def forward(self, x):
        return self.unit2(self.unit1(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_ch, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.reduce = nn.Conv2d(in_ch, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.expand = nn.Conv2d(planes, planes * 4, 1, bias=False)

    def forward(self, x):
        h = self.reduce(F.relu(self.bn1(x)))
        h = self.conv(F.relu(self.bn2(h)))
        return self.expand(F.relu(self.bn3(h)))


class HyperResNet(nn.Module):
    """Mhc.Models.Vision.HyperResNet: stem, a HyperSequential trunk of hyper-connected pre-activation blocks (each
    stage after the first halves the resolution and doubles the width, a bias-free 1x1 conv carrying the streams
    across), BN + ReLU, global average pool, dropout, linear head. Defaults are HyperResNetOptions' defaults; the
    keyword arguments of HyperConnection (sinkhorn_variant, residual_logit_bound, ...) pass through."""

    def __init__(self, in_channels=1, num_classes=10, image_size=(28, 28), stage_depths=(2, 2, 2), base_width=32,
                 block="basic", connection=MHC, expansion_rate=4, dynamic=True, per_pixel=False, collapse="mean",
                 dropout=0.0, large_stem=None, **connection_options):
        super().__init__()
        n = 1 if connection == RESIDUAL else expansion_rate
        large = large_stem if large_stem is not None else min(image_size) > 64
        if large:
            self.stem = nn.Sequential(OrderedDict(
                conv=nn.Conv2d(in_channels, base_width, 7, stride=2, padding=3, bias=False),
                bn=nn.BatchNorm2d(base_width), relu=nn.ReLU(), pool=nn.MaxPool2d(3, stride=2, padding=1)))
        else:
            self.stem = nn.Sequential(OrderedDict(conv=nn.Conv2d(in_channels, base_width, 3, padding=1, bias=False)))
        kind = BasicBlock if block == "basic" else Bottleneck
        layers, channels = [], base_width
        for s, depth in enumerate(stage_depths):
            planes = base_width << s
            for b in range(depth):
                stride = 2 if s > 0 and b == 0 else 1
                out_ch = planes * kind.expansion
                projection = nn.Conv2d(channels, out_ch, 1, stride=stride, bias=False) \
                    if stride != 1 or out_ch != channels else None
                layers.append(HyperConnection(kind(channels, planes, stride), channels, connection, n, dynamic,
                                              len(layers), projection, per_token=per_pixel, channels_first=True,
                                              **connection_options))
                channels = out_ch
        self.blocks = HyperSequential(n, layers, collapse)
        self.head_bn = nn.BatchNorm2d(channels)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, num_classes)

    def features(self, images):
        h = F.relu(self.head_bn(self.blocks(self.stem(images))))
        return F.adaptive_avg_pool2d(h, 1).flatten(1)

    def forward(self, images):
        return self.classifier(self.dropout(self.features(images)))


class RmsNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last axis (Zhang and Sennrich 2019), statistics in float32."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + self.eps) * self.weight).to(x.dtype)


class MultiHeadSelfAttention(nn.Module):
    """Fused qkv projection (B, T, C) -> (3, B, H, T, D), scaled dot-product attention (causal for the decoder),
    output projection. PyTorch 1.13 has no F.scaled_dot_product_attention, so the softmax is written out."""

    def __init__(self, dim, heads, dropout=0.0, causal=True):
        super().__init__()
        if dim % heads:
            raise ValueError(f"the width ({dim}) must be a multiple of the head count ({heads})")
        self.heads, self.head_dim, self.causal, self.p = heads, dim // heads, causal, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        if self.causal:
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = F.dropout(scores.softmax(-1), self.p, self.training)
        y = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, c)
        return self.resid_dropout(self.proj(y))


class FeedForward(nn.Module):
    """Linear(C, rC), exact (erf) GELU, Linear(rC, C), dropout."""

    def __init__(self, dim, ratio=4, dropout=0.0):
        super().__init__()
        self.fc = nn.Linear(dim, ratio * dim)
        self.proj = nn.Linear(ratio * dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class HyperTransformerBlock(nn.Module):
    """Pre-norm block on streams (B, n, T, C): two hyper-connections (mHC eq. 3), layers 2i and 2i+1, around
    norm + attention and norm + MLP, each branch a Sequential with children "norm" and "attention"/"mlp"."""

    def __init__(self, layer, dim, heads, mlp_ratio, dropout, causal, connection, streams, dynamic, **options):
        super().__init__()
        common = dict(connection=connection, streams=streams, dynamic=dynamic, per_token=True, channels_first=False,
                      **options)
        self.attention = HyperConnection(
            nn.Sequential(OrderedDict(norm=RmsNorm(dim), attention=MultiHeadSelfAttention(dim, heads, dropout, causal))),
            dim, layer_index=2 * layer, **common)
        self.mlp = HyperConnection(
            nn.Sequential(OrderedDict(norm=RmsNorm(dim), mlp=FeedForward(dim, mlp_ratio, dropout))),
            dim, layer_index=2 * layer + 1, **common)

    def forward(self, streams):
        return self.mlp(self.attention(streams))


class HyperDecoderTransformer(nn.Module):
    """Mhc.Models.Transformers.HyperDecoderTransformer: token + learned position embedding, a HyperSequential trunk of
    causal HyperTransformerBlocks with per-token mixing, final RMS norm and a bias-free head (or the token embedding
    when tie_embeddings). Token ids (B, T) int64 -> next-token logits (B, T, V). Defaults are the C# defaults
    (TransformerSettings, MixingSettings); connection keyword arguments pass through to HyperConnection."""

    def __init__(self, vocab_size, context_length=256, dim=256, layers=6, heads=8, mlp_ratio=4, dropout=0.1,
                 connection=MHC, expansion_rate=4, dynamic=True, collapse="mean", tie_embeddings=False,
                 **connection_options):
        super().__init__()
        n = 1 if connection == RESIDUAL else expansion_rate
        self.context_length = context_length
        self.token_embedding = nn.Embedding(vocab_size, dim)
        self.position_embedding = nn.Embedding(context_length, dim)
        self.embedding_dropout = nn.Dropout(dropout)
        self.blocks = HyperSequential(n, [HyperTransformerBlock(i, dim, heads, mlp_ratio, dropout, True, connection, n,
                                                                dynamic, **connection_options)
                                          for i in range(layers)], collapse)
        self.final_norm = RmsNorm(dim)
        self.head = None if tie_embeddings else nn.Linear(dim, vocab_size, bias=False)

    def forward(self, tokens):
        t = tokens.shape[1]
        if t > self.context_length:
            raise ValueError(f"the context holds {self.context_length} tokens; got {t}")
        positions = torch.arange(t, device=tokens.device)
        x = self.embedding_dropout(self.token_embedding(tokens) + self.position_embedding(positions))
        h = self.final_norm(self.blocks(x))
        return self.head(h) if self.head is not None else F.linear(h, self.token_embedding.weight)


class ImageClassifier(nn.Module):
    """Microsoft.ML.Mhc's ImageClassifierNetwork, the network an ML.NET MhcImage transformer scores with: per-channel
    standardisation by the buffers input_mean and input_std (1, C, 1, 1), then the backbone. Its state_dict is what
    MhcImageClassificationTrainer.FromWeights loads."""

    def __init__(self, backbone, mean, std):
        super().__init__()
        self.backbone = backbone
        c = len(mean)
        self.register_buffer("input_mean", torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1))
        self.register_buffer("input_std", torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1))

    def forward(self, images):
        return self.backbone((images - self.input_mean) / self.input_std)
