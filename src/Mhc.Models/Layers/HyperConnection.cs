using Mhc.Models.Constraints;
using Mhc.Models.Fused;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Wraps a branch F (attention, MLP, conv block) with n residual streams, replacing x + F(x).
/// Streams have shape (B, n, *features); the branch sees (B, *features).
/// </summary>
/// <remarks>
/// mHC (arXiv 2512.24880), per token with state X in R^(n x C):
/// <code>
/// v = flatten(X); r = 1/sqrt(mean(v^2) + eps); m = (Phi v) r                      (eq. 5)
/// h_pre = a_pre m[0:n] + b_pre; h_post = a_post m[n:2n] + b_post; H~ = a_res mat(m[2n:]) + b_res   (eq. 6)
/// H_pre = sigmoid(h_pre); H_post = 2 sigmoid(h_post); H_res = Sinkhorn(H~)          (eq. 7-9)
/// X'[i] = sum_j H_res[i, j] X[j] + H_post[i] F(sum_k H_pre[k] X[k])                (eq. 3)
/// </code>
/// HC (arXiv 2409.19606) uses the same parameters without constraints and with tanh on the dynamic
/// part. Residual is the plain x + F(x) (one stream) for A/B runs. When a projection is given (a stage
/// transition that changes channels or resolution), it is applied to every mixed stream; since it is
/// linear, P(sum_j H X_j) = sum_j H P(X_j), so mixing before or after projecting is the same map.
/// The branch carries its own normalisation ("y = F(norm(u))").
/// </remarks>
public sealed class HyperConnection : Module<Tensor, Tensor>, ITokenRowsLayer
{
    private readonly Module<Tensor, Tensor> branch;
    private readonly Module<Tensor, Tensor>? projection;
    private readonly Parameter? phi;
    private readonly Parameter? gates;
    private readonly Parameter? bias_pre;
    private readonly Parameter? bias_post;
    private readonly Parameter? bias_res;
    private readonly IMixingConstraint? residualConstraint;
    private readonly int n;
    private MixingSpec? tokenSpec;
    private MixingSpec? pooledSpec;

    /// <summary>Creates the connection around <paramref name="branch"/>.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="branch">The sublayer F: (B, *features) to (B, *features').</param>
    /// <param name="options">Connection configuration; validated here.</param>
    /// <param name="projection">Optional linear map applied to each stream when F changes the feature shape.</param>
    public HyperConnection(string name, Module<Tensor, Tensor> branch, HyperConnectionOptions options, Module<Tensor, Tensor>? projection = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(branch);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        this.branch = branch;
        this.projection = projection;
        n = options.Streams;
        if (options.Mixing.Connection != ConnectionKind.Residual)
        {
            using var noGrad = no_grad();
            int home = options.LayerIndex % n;
            var (pre, post, res) = InitialBiases(options, home);
            bias_pre = new Parameter(pre);
            bias_post = new Parameter(post);
            bias_res = new Parameter(res);
            if (options.Mixing.DynamicMixing)
            {
                int inFeatures = n * options.Dim;
                // HC initialises its dynamic weights to zero (HC sec. 2.3); mHC's text only fixes alpha.
                phi = new Parameter(options.Mixing.Connection == ConnectionKind.Hc
                    ? zeros(n * n + 2 * n, inFeatures)
                    : randn(n * n + 2 * n, inFeatures) * options.DynamicInitStd);
                gates = new Parameter(full(3, options.GateInit, ScalarType.Float32));
            }
            if (options.Mixing.Connection == ConnectionKind.Mhc)
                residualConstraint = new SinkhornProjection(options.Mixing.SinkhornIterations, options.Mixing.Sinkhorn);
        }
        RegisterComponents();
    }

    /// <summary>The configuration this connection was built with.</summary>
    public HyperConnectionOptions Options { get; }

    /// <summary>The wrapped branch F.</summary>
    public Module<Tensor, Tensor> Branch => branch;

    /// <summary>When true, each forward pass records the batch-mean mixing matrices (small cost).</summary>
    public bool RecordDiagnostics { get; set; }

    /// <summary>Batch- and token-mean H_res of the last recorded forward pass (n x n), or null.</summary>
    public float[,]? LastResidualMixing { get; private set; }

    /// <summary>Batch-mean H_pre of the last recorded forward pass, or null.</summary>
    public float[]? LastPreMixing { get; private set; }

    /// <summary>Batch-mean H_post of the last recorded forward pass, or null.</summary>
    public float[]? LastPostMixing { get; private set; }

    private static (Tensor Pre, Tensor Post, Tensor Res) InitialBiases(HyperConnectionOptions o, int home)
    {
        int n = o.Streams;
        var eye = torch.eye(n, dtype: ScalarType.Float32);
        var homeHot = zeros(n, dtype: ScalarType.Float32);
        homeHot[home] = 1f;
        if (o.Mixing.Connection == ConnectionKind.Hc)
            // HC's own init: width connections pick the home stream, depth connections are 1, A_r = I.
            return (homeHot, ones(n, dtype: ScalarType.Float32), eye);
        if (o.Mixing.Init == MixingInit.Paper)
            return (zeros(n), zeros(n), zeros(n, n));
        // Identity-like: sigmoid(b_pre) puts HomePreWeight on the home stream and spreads the rest, so the
        // weights sum to one and u equals x when the streams are equal; 2 sigmoid(0) = 1 for H_post;
        // c(2I - 1) makes Sinkhorn(b_res) diagonal-dominant.
        double p = n == 1 ? 0.999 : o.HomePreWeight;
        double q = n == 1 ? 0 : (1 - p) / (n - 1);
        var pre = homeHot * (float)Logit(p) + (1 - homeHot) * (float)(n == 1 ? 0 : Logit(q));
        // Stored so that the bounded logit (see BoundResidualLogits) is exactly +-c.
        double c = o.Mixing.Connection == ConnectionKind.Mhc && o.Mixing.ResidualLogitBound is { } l ? l * Math.Atanh(o.IdentityStrength / l) : o.IdentityStrength;
        var res = (2 * eye - 1) * (float)c;
        return (pre, zeros(n), res);
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    /// <inheritdoc />
    /// <remarks>
    /// On the CPU with float32 streams and parameters, the dynamic connection runs through the fused kernels
    /// (<see cref="ForwardFused"/>); otherwise, and for static mixing, through tensor operations. Both compute the
    /// same equations; the tests hold them together. Mixing coefficients are float32 whatever the stream dtype.
    /// </remarks>
    public override Tensor forward(Tensor streams)
    {
        if (streams.dim() < 3 || streams.shape[1] != n)
            throw new ArgumentException(
                $"{GetName()} expects streams (B, {n}, *features); got shape [{string.Join(", ", streams.shape)}].", nameof(streams));
        Tensor output;
        if (Options.Mixing.Connection == ConnectionKind.Residual)
            output = ForwardResidual(streams);
        else if (!Options.Mixing.DynamicMixing)
            output = ForwardStatic(streams);
        else
            output = ForwardFused(streams) ?? ForwardDynamic(streams);
        return MixingProfiler.Mark(output, MixingProfiler.Other);
    }

    private Tensor ForwardResidual(Tensor streams)
    {
        var x = streams.select(1, 0);
        var y = RunBranch(x, keepShape: false);
        using var section = MixingProfiler.Section(MixingProfiler.Mixing);
        var skip = projection is null ? x : StridedPointwiseProjection.Forward(projection, x);
        return (MixingProfiler.Mark(skip, MixingProfiler.Mixing) + MixingProfiler.Mark(y, MixingProfiler.Mixing)).unsqueeze(1);
    }

    /// <summary>
    /// The dynamic connection through the fused kernels (<see cref="MixInFunction"/>, <see cref="MixOutFunction"/>),
    /// or null when they do not apply (device, dtype, layout, or a projection not known to be linear).
    /// </summary>
    private Tensor? ForwardFused(Tensor x)
    {
        if (!FusedReady(x)) return null;
        if (Options.Granularity == DynamicGranularity.PerSample && x.dim() > 3)
            return Options.Layout == StreamFeatureLayout.ChannelsFirst && x.shape[2] == Options.Dim && ProjectionIsLinear()
                ? ForwardFusedPooled(x)
                : null;
        return projection is null ? ForwardFusedTokens(x) : null;
    }

    /// <summary>Whether the fused kernels can run: float32 streams and mixing parameters on the CPU.</summary>
    private bool FusedReady(Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32
        && TensorMemory.IsKernelReady(phi!) && TensorMemory.IsKernelReady(gates!) && TensorMemory.IsKernelReady(bias_pre!)
        && TensorMemory.IsKernelReady(bias_post!) && TensorMemory.IsKernelReady(bias_res!);

    // Mixing before or after the projection is the same map only for a linear projection (an affine one would add
    // its bias with weight sum_j H[i, j], and a batch norm would see other statistics).
    private bool ProjectionIsLinear() => projection switch
    {
        null => true,
        Conv2d conv => conv.bias is null,
        Linear linear => linear.bias is null,
        _ => false,
    };

    /// <summary>Per-token mixing (mHC eq. 3, 5-9 as written): every token's n x C state sets its own coefficients.</summary>
    private Tensor ForwardFusedTokens(Tensor x)
    {
        var layout = new TokenLayout(x.shape, Options.Layout);
        Tensor rows;
        long b, s, c;
        using (MixingProfiler.Section(MixingProfiler.Mixing))
        {
            var tokens = layout.ToTokens(x).contiguous();                 // (B, S, n, C)
            (b, s, c) = (tokens.shape[0], tokens.shape[1], tokens.shape[3]);
            rows = tokens.view(b * s, n, c);
        }
        var output = MixRows(rows, u2 => layout.SingleFromTokens(u2.view(b, s, 1, c)), y => layout.SingleToTokens(y).reshape(b * s, c));
        return layout.FromTokens(output.view(b, s, n, c));
    }

    /// <summary>
    /// The connection on streams kept as token rows (B T, n, C), the layout a decoder can hold them in between its
    /// blocks: no layout change at all. The branch sees (B, T, C). Same result as <see cref="forward"/> on the
    /// streams (B, n, T, C) these rows are the tokens of.
    /// </summary>
    /// <param name="rows">Streams, (B T, n, C).</param>
    /// <param name="batch">B.</param>
    internal Tensor ForwardRows(Tensor rows, long batch)
    {
        if (rows.dim() != 3 || rows.shape[1] != n || rows.shape[0] % batch != 0)
            throw new ArgumentException(
                $"{GetName()} expects token rows (B T, {n}, C) for a batch of {batch}; got shape [{string.Join(", ", rows.shape)}].", nameof(rows));
        long tokens = rows.shape[0] / batch, c = rows.shape[2];
        Tensor output;
        if (Options.Mixing.Connection == ConnectionKind.Residual)
        {
            var x = rows.view(batch, tokens, c);
            output = ForwardResidual(x.unsqueeze(1)).view(rows.shape);
        }
        else if (Options.Mixing.DynamicMixing && projection is null && Options.Layout == StreamFeatureLayout.ChannelsLast && FusedReady(rows))
            output = MixRows(rows.contiguous(), u2 => u2.view(batch, tokens, c), y => y.reshape(batch * tokens, c));
        else
        {
            // The tensor path on the same tokens, seen as streams (B, n, T, C).
            var streams = rows.view(batch, tokens, n, c).permute(0, 2, 1, 3);
            output = (Options.Mixing.DynamicMixing ? ForwardDynamic(streams) : ForwardStatic(streams)).permute(0, 2, 1, 3).reshape(rows.shape);
        }
        return MixingProfiler.Mark(output, MixingProfiler.Other);
    }

    Tensor ITokenRowsLayer.ForwardRows(Tensor rows, long batch) => ForwardRows(rows, batch);

    /// <summary>
    /// <see cref="ForwardRows"/> on the token rows that are n copies of <paramref name="x"/> (B T, C): the per-token fused
    /// path reads x itself (see <see cref="SharedStreams"/>; Phi's n blocks are summed, so the state's products are a
    /// quarter at n = 4); every other path runs on <paramref name="expand"/>(x).
    /// </summary>
    internal Tensor ForwardSharedRows(Tensor x, long batch, Func<Tensor, Tensor> expand)
    {
        tokenSpec ??= Spec(MixingState.PerToken);
        bool fused = Options.Layout == StreamFeatureLayout.ChannelsLast && x.dim() == 2 && x.shape[0] % batch == 0
            && FusesSharedStreams(x) && MixInKernel.TokenInput.Fits(tokenSpec);
        if (!fused) return ForwardRows(expand(x), batch);
        long tokens = x.shape[0] / batch, c = x.shape[1];
        var output = MixRows(x.contiguous().view(batch * tokens, 1, c), u2 => u2.view(batch, tokens, c), y => y.reshape(batch * tokens, c));
        return MixingProfiler.Mark(output, MixingProfiler.Other);
    }

    Tensor ITokenRowsLayer.ForwardSharedRows(Tensor x, long batch, Func<Tensor, Tensor> expand) => ForwardSharedRows(x, batch, expand);

    /// <summary>
    /// The fused per-token connection on contiguous rows (R, n, C): read-out, the branch on
    /// <paramref name="toBranch"/>(u) (u is (R, C)), and the write-in of <paramref name="fromBranch"/>(y) (R, C).
    /// </summary>
    private Tensor MixRows(Tensor rows, Func<Tensor, Tensor> toBranch, Func<Tensor, Tensor> fromBranch)
    {
        var link = new MixingLink();
        tokenSpec ??= Spec(MixingState.PerToken);
        var (u2, coefficients, _) = ReadOut(tokenSpec, link, rows);
        var u = toBranch(u2);
        var y = RunBranch(u, keepShape: true);
        using var section = MixingProfiler.Section(MixingProfiler.Mixing);
        var y2 = fromBranch(MixingProfiler.Mark(y, MixingProfiler.Mixing)).contiguous();
        return MixOutFunction.Apply(link, deferred: true, rows, coefficients, y2);
    }

    /// <summary>
    /// The connection on n streams that are n copies of <paramref name="x"/> (B, *features): what <see cref="forward"/>
    /// returns for the expansion of x, the first block of a stack (<see cref="HyperSequential"/>). The per-sample fused
    /// path reads x itself instead of its n copies and returns x's gradient directly (see <see cref="SharedStreams"/>);
    /// every other path runs on the copies.
    /// </summary>
    internal Tensor ForwardShared(Tensor x, Func<Tensor, Tensor> expand)
    {
        bool fused = Options.Granularity == DynamicGranularity.PerSample && Options.Layout == StreamFeatureLayout.ChannelsFirst
            && x.dim() > 2 && FusesSharedStreams(x);
        if (!fused) return forward(expand(x));
        return MixingProfiler.Mark(ForwardFusedPooled(x, shared: true), MixingProfiler.Other);
    }

    /// <summary>
    /// What both shared-stream paths need, whatever the layout: dynamic HC or mHC mixing of several streams, no
    /// projection, x with the connection's channels in dimension 1, and the fused kernels ready for it.
    /// </summary>
    private bool FusesSharedStreams(Tensor x) =>
        Options.Mixing.DynamicMixing && Options.Mixing.Connection != ConnectionKind.Residual && n > 1 && projection is null
        && x.shape[1] == Options.Dim && FusedReady(x);

    /// <summary>
    /// Per-sample mixing: each sample's state is the spatial mean of its streams (channels first). With
    /// <paramref name="shared"/>, <paramref name="x"/> is (B, *features), the one tensor all n streams are copies of.
    /// </summary>
    private Tensor ForwardFusedPooled(Tensor x, bool shared = false)
    {
        var link = new MixingLink();
        long b = x.shape[0];
        var xc = x.contiguous();
        long inputStreams = shared ? 1 : n;
        long m = xc.numel() / (b * inputStreams);
        var x3 = xc.view(b, inputStreams, m);
        var features = shared ? x.shape[1..] : x.shape[2..];
        pooledSpec ??= Spec(MixingState.PooledChannelsFirst);
        // A strided 1x1 shortcut reads a subsample of the streams: the read-out node takes it in its own pass.
        var subsample = !shared && x.dim() == 5 && StridedPointwiseProjection.LinearStride(projection) is { } stride
            && TensorMemory.IsKernelReady(StridedPointwiseProjection.Matrix(projection!))
            ? new StreamSubsample(x.shape[2], x.shape[3], x.shape[4], stride.Height, stride.Width)
            : null;
        var (u2, coefficients, sub) = ReadOut(pooledSpec, link, x3, subsample);
        var u = u2.view([b, .. features]);
        var y = RunBranch(u, keepShape: projection is null);
        using var section = MixingProfiler.Section(MixingProfiler.Mixing);
        y = MixingProfiler.Mark(y, MixingProfiler.Mixing);
        if (projection is null)
        {
            return MixOutFunction.Apply(link, deferred: true, x3, coefficients, y.reshape(b, m).contiguous()).view([b, n, .. features]);
        }
        if (sub is not null && ProjectedMixOutKernel.Pays(sub.shape[2] * sub.shape[3]))
        {
            // The subsample's mixed streams projected and written in with y in one node (ProjectedMixOutKernel).
            int positions = (int)(sub.shape[2] * sub.shape[3]);
            var mixed = ProjectedMixOutFunction.Apply(MixingProfiler.Mark(sub, MixingProfiler.Mixing).view(b, n, -1), coefficients,
                y.reshape(b, -1).contiguous(), StridedPointwiseProjection.Matrix(projection), positions);
            return mixed.view([b, n, .. y.shape[1..]]);
        }
        // A linear projection commutes with the mixing: project every stream, then mix at the output's size.
        var projected = sub is not null
            ? StridedPointwiseProjection.OnSubsample(projection, MixingProfiler.Mark(sub, MixingProfiler.Mixing)).view([b, n, .. y.shape[1..]])
            : Project(MixingProfiler.Mark(xc, MixingProfiler.Mixing)).contiguous();
        long mp = projected.numel() / (b * n);
        var output = MixOutFunction.Apply(link, deferred: false, projected.view(b, n, mp), coefficients, y.reshape(b, mp).contiguous());
        return output.view(projected.shape);
    }

    /// <summary>The fused read-out of contiguous rows (R, n, M): the branch input (R, M) and the coefficients (R, Q).</summary>
    private (Tensor U, Tensor Coefficients, Tensor? Subsample) ReadOut(MixingSpec spec, MixingLink link, Tensor rows, StreamSubsample? subsample = null)
    {
        using var section = MixingProfiler.Section(MixingProfiler.Mixing);
        var (u, coefficients, sub) = MixInFunction.Apply(spec, link, MixingProfiler.Mark(rows, MixingProfiler.Mixing),
            phi!, gates!, bias_pre!, bias_post!, bias_res!, subsample);
        RecordCoefficients(coefficients);
        return (u, coefficients, sub);
    }

    /// <summary>F(u); with <paramref name="keepShape"/>, checks that F keeps the shape (no projection to change it).</summary>
    private Tensor RunBranch(Tensor u, bool keepShape)
    {
        Tensor y;
        using (MixingProfiler.Section(MixingProfiler.Branch))
            y = branch.forward(MixingProfiler.Mark(u, MixingProfiler.Branch));
        if (keepShape && !y.shape.SequenceEqual(u.shape))
            throw new InvalidOperationException(
                $"{GetName()}: the branch maps [{string.Join(", ", u.shape)}] to [{string.Join(", ", y.shape)}]; without a projection it must keep the shape.");
        return y;
    }

    private MixingSpec Spec(MixingState state) => new(n, Options.Mixing.Connection == ConnectionKind.Mhc, Options.Mixing.ResidualLogitBound,
        residualConstraint as SinkhornProjection, Options.NormEpsilon, state, Options.Dim);

    private void RecordCoefficients(Tensor coefficients)
    {
        if (!RecordDiagnostics) return;
        Record(coefficients.narrow(1, 0, n), coefficients.narrow(1, n, n), coefficients.narrow(1, 2 * n, n * n).reshape(-1, n, n));
    }

    /// <summary>Activations of eq. (7)-(9) on float32 logits; HC uses its logits as they are.</summary>
    private (Tensor Pre, Tensor Post, Tensor Res) Activate(Tensor hPre, Tensor hPost, Tensor hRes)
    {
        if (Options.Mixing.Connection == ConnectionKind.Hc) return (hPre, hPost, hRes);
        Tensor pre, post;
        using (MixingProfiler.Section(MixingProfiler.PhiNorm))
        {
            pre = hPre.sigmoid();
            post = hPost.sigmoid() * 2;
        }
        using var section = MixingProfiler.Section(MixingProfiler.Sinkhorn);
        return (pre, post, residualConstraint!.Project(BoundResidualLogits(MixingProfiler.Mark(hRes, MixingProfiler.Sinkhorn))));
    }

    // L tanh(h / L): keeps Sinkhorn within the range where its 20 iterations balance the columns (see
    // MixingSettings.ResidualLogitBound for the measurements).
    private Tensor BoundResidualLogits(Tensor h) =>
        Options.Mixing.ResidualLogitBound is { } l ? (h / l).tanh() * l : h;

    private Tensor ForwardStatic(Tensor x)
    {
        var (pre, post, res) = Activate(Float32(bias_pre!), Float32(bias_post!), Float32(bias_res!));
        Record(pre, post, res);
        return ApplyFlat(x, pre.unsqueeze(0), post.unsqueeze(0), res.unsqueeze(0));
    }

    // The mixing parameters may have been converted with the module (module.to(float64 / bf16)); the coefficients are
    // computed in float32 all the same, as the paper does, and only applied in the streams' dtype.
    private static Tensor Float32(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to_type(ScalarType.Float32);

    /// <summary>The dynamic mapping of eq. (5)-(6) on states v (..., nC), before activation, in float32.</summary>
    private (Tensor Pre, Tensor Post, Tensor Res) DynamicLogits(Tensor v)
    {
        using var section = MixingProfiler.Section(MixingProfiler.PhiNorm);
        v = MixingProfiler.Mark(Float32(v), MixingProfiler.PhiNorm);
        var r = (v.square().mean(new long[] { -1 }, keepdim: true) + Options.NormEpsilon).rsqrt();
        var m = functional.linear(v, Float32(phi!)) * r;
        int last = (int)m.dim() - 1;
        var mPre = m.narrow(last, 0, n);
        var mPost = m.narrow(last, n, n);
        var mRes = m.narrow(last, 2 * n, n * n).unflatten(last, new long[] { n, n });
        if (Options.Mixing.Connection == ConnectionKind.Hc)
        {
            mPre = mPre.tanh(); mPost = mPost.tanh(); mRes = mRes.tanh();
        }
        var g = Float32(gates!);
        return (g[0] * mPre + Float32(bias_pre!), g[1] * mPost + Float32(bias_post!), g[2] * mRes + Float32(bias_res!));
    }

    /// <summary>The dynamic connection as tensor operations (any device and dtype): the reference for the fused path.</summary>
    internal Tensor ForwardDynamic(Tensor x)
    {
        bool perSample = Options.Granularity == DynamicGranularity.PerSample && x.dim() > 3;
        if (perSample)
        {
            // One n x C state per sample: the spatial (or sequence) mean of each stream.
            Tensor pooled;
            using (MixingProfiler.Section(MixingProfiler.PhiNorm))
            {
                var marked = MixingProfiler.Mark(x, MixingProfiler.PhiNorm);
                pooled = Options.Layout == StreamFeatureLayout.ChannelsFirst
                    ? marked.flatten(3).mean(new long[] { -1 })
                    : marked.flatten(2, -2).mean(new long[] { 2 });
            }
            var (hp, hq, hr) = DynamicLogits(pooled.flatten(1));
            var (p, q, r) = Activate(hp, hq, hr);
            Record(p, q, r);
            return ApplyFlat(x, p, q, r);
        }

        var layout = new TokenLayout(x.shape, Options.Layout);
        Tensor tokens;
        using (MixingProfiler.Section(MixingProfiler.Mixing))
            tokens = layout.ToTokens(x);                                    // (B, S, n, C)
        var (lp, lq, lr) = DynamicLogits(tokens.flatten(2));
        var (pre, post, res) = Activate(lp, lq, lr);
        Record(pre, post, res);
        var dtype = x.dtype;
        Tensor u, y;
        using (MixingProfiler.Section(MixingProfiler.Mixing))
            u = layout.SingleFromTokens(matmul(MixingProfiler.Mark(pre, MixingProfiler.Mixing).to_type(dtype).unsqueeze(-2),
                MixingProfiler.Mark(tokens, MixingProfiler.Mixing)));
        y = RunBranch(u, keepShape: false);
        using var mixingSection = MixingProfiler.Section(MixingProfiler.Mixing);
        post = MixingProfiler.Mark(post, MixingProfiler.Mixing);
        y = MixingProfiler.Mark(y, MixingProfiler.Mixing);
        var mixed = matmul(MixingProfiler.Mark(res, MixingProfiler.Mixing).to_type(dtype), MixingProfiler.Mark(tokens, MixingProfiler.Mixing)); // (B, S, n, C)
        if (projection is null && y.shape.SequenceEqual(u.shape))
            return layout.FromTokens(addcmul(mixed, post.to_type(dtype).unsqueeze(-1), layout.SingleToTokens(y), 1));

        // The projection changes the token grid, so per-token H_post of the input grid no longer lines
        // up with the output; use its per-sample mean there.
        var carried = Project(layout.FromTokens(mixed));
        long b = carried.shape[0];
        var postMean = post.mean(new long[] { 1 }).to_type(dtype).view(b, n, 1);
        return addcmul(carried.reshape(b, n, -1), postMean, y.reshape(b, 1, -1), 1).view(carried.shape);
    }

    /// <summary>
    /// Applies coefficients shared by all tokens of a sample, pre/post (1 or B, n), res (1 or B, n, n),
    /// with three batched matrix products on the flattened streams (B, n, M) and no per-token copies.
    /// </summary>
    private Tensor ApplyFlat(Tensor x, Tensor pre, Tensor post, Tensor res)
    {
        var dtype = x.dtype;
        long b = x.shape[0];
        Tensor flat, u, y;
        using (MixingProfiler.Section(MixingProfiler.Mixing))
        {
            flat = x.reshape(b, n, -1);
            u = matmul(MixingProfiler.Mark(pre, MixingProfiler.Mixing).to_type(dtype).unsqueeze(-2), MixingProfiler.Mark(flat, MixingProfiler.Mixing))
                .view(new long[] { b }.Concat(x.shape[2..]).ToArray());
        }
        y = RunBranch(u, keepShape: false);
        using var section = MixingProfiler.Section(MixingProfiler.Mixing);
        post = MixingProfiler.Mark(post, MixingProfiler.Mixing);
        y = MixingProfiler.Mark(y, MixingProfiler.Mixing);
        var mixed = matmul(MixingProfiler.Mark(res, MixingProfiler.Mixing).to_type(dtype), MixingProfiler.Mark(flat, MixingProfiler.Mixing));
        var carried = projection is null ? mixed : Project(mixed.view(x.shape)).reshape(b, n, -1);
        var outShape = new long[] { b, n }.Concat(y.shape[1..]).ToArray();
        return addcmul(carried, post.to_type(dtype).unsqueeze(-1), y.reshape(b, 1, -1), 1).view(outShape);
    }

    private Tensor Project(Tensor mixed)
    {
        if (projection is null) return mixed;
        long b = mixed.shape[0];
        var flat = mixed.reshape(new long[] { b * n }.Concat(mixed.shape[2..]).ToArray());
        var p = StridedPointwiseProjection.Forward(projection, flat);
        return p.reshape(new long[] { b, n }.Concat(p.shape[1..]).ToArray());
    }

    private void Record(Tensor pre, Tensor post, Tensor res)
    {
        if (!RecordDiagnostics) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var r = res.dim() == 2 ? res : res.reshape(-1, n, n).mean(new long[] { 0 });
        var p = pre.dim() == 1 ? pre : pre.reshape(-1, n).mean(new long[] { 0 });
        var q = post.dim() == 1 ? post : post.reshape(-1, n).mean(new long[] { 0 });
        var rr = r.to(CPU).to_type(ScalarType.Float32).data<float>().ToArray();
        var matrix = new float[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                matrix[i, j] = rr[i * n + j];
        LastResidualMixing = matrix;
        LastPreMixing = p.to(CPU).to_type(ScalarType.Float32).data<float>().ToArray();
        LastPostMixing = q.to(CPU).to_type(ScalarType.Float32).data<float>().ToArray();
    }
}
