using Mhc.Models.Constraints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// The history-window skip: x_l = f(x_(l-1)) + g sum_k alpha_k P_k(x_k) over the last k &lt;= H states
/// (oldest first, the newest x_(l-1) last), with alpha = prune(constraint(z / T)) for logits z, temperature T,
/// constraint simplex, identity-preserving simplex, doubly stochastic or none, and prune dropping weights under a
/// threshold; P_k a linear auto-projection where a state's shape differs from f's output, and g an optional
/// learned gate. In training, <see cref="HistoryWindowSkipOptions.Stochastic"/> adds Gumbel noise to z.
/// </summary>
/// <remarks>
/// This is the residual connection widened over depth instead of over streams: where mHC (arXiv 2512.24880,
/// eq. 3) mixes n parallel streams with a doubly stochastic H_res, the history skip mixes the k most recent
/// states with a constrained alpha. Rows of a doubly stochastic matrix and simplex vectors both sum to one,
/// so sum_k alpha_k x_k is a convex combination and cannot amplify the signal however deep the stack.
/// The skip keeps no state: the history is passed in by the caller on every forward pass.
/// </remarks>
public sealed class HistoryWindowSkip : Module<Tensor, IReadOnlyList<Tensor>, Tensor>
{
    private readonly Parameter mix_logits;
    private readonly Parameter? gate_logit;
    private readonly ModuleList<Module<Tensor, Tensor>> projections;
    private readonly IMixingConstraint constraint;
    private readonly long[][] sourceShapes;
    private readonly long[] targetShape;

    /// <summary>Creates the skip of one layer.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="options">Configuration; validated here.</param>
    /// <param name="targetShape">Feature shape of f's output (without batch), e.g. (C, H, W) or (C).</param>
    /// <param name="sourceShapes">Feature shapes of the states this layer mixes, oldest first, newest last;
    /// between 1 and <see cref="HistoryWindowSkipOptions.MaxHistory"/> of them. For maps, only the ratio of
    /// spatial sizes to <paramref name="targetShape"/> is binding.</param>
    /// <exception cref="ArgumentException">Strict mode and a state's shape differs from the target, or the shapes cannot be projected.</exception>
    public HistoryWindowSkip(string name, HistoryWindowSkipOptions options, long[] targetShape, IReadOnlyList<long[]> sourceShapes)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(targetShape);
        ArgumentNullException.ThrowIfNull(sourceShapes);
        options.Validate();
        if (sourceShapes.Count < 1 || sourceShapes.Count > options.MaxHistory)
            throw new ArgumentException($"A history skip mixes between 1 and MaxHistory = {options.MaxHistory} states; got {sourceShapes.Count}.", nameof(sourceShapes));
        Options = options.Clone();
        this.targetShape = (long[])targetShape.Clone();
        this.sourceShapes = sourceShapes.Select(s => (long[])s.Clone()).ToArray();
        int k = sourceShapes.Count;

        projections = new ModuleList<Module<Tensor, Tensor>>();
        for (int j = 0; j < k; j++)
        {
            var s = sourceShapes[j];
            if (s.SequenceEqual(targetShape))
            {
                projections.Add(Identity());
                continue;
            }
            if (!options.AutoProject)
                throw new ArgumentException(
                    $"{name}: history state {j} (of {k}, oldest first) has shape {HistoryWindowSkipProjection.Show(s)} but the layer output is " +
                    $"{HistoryWindowSkipProjection.Show(targetShape)}; strict mode (AutoProject = false) requires equal shapes.", nameof(sourceShapes));
            projections.Add(new HistoryWindowSkipProjection(s, targetShape, $"projection{j}"));
        }

        constraint = options.Constraint == ConstraintKind.DoublyStochastic
            ? new SinkhornProjection(options.SinkhornIterations, options.Sinkhorn)
            : MixingConstraints.Create(options.Constraint, identityFloor: options.IdentityFloor);
        mix_logits = new Parameter(InitialLogits(options, k));
        if (options.LearnedGate) gate_logit = new Parameter(zeros(1));
        if (options.UseGating) gate_logit = new Parameter(full(1, options.GateLogitInit, ScalarType.Float32));
        RegisterComponents();
    }

    // Uniform: zero logits give uniform weights under every softmax-based constraint and raw weights start at 1/k,
    // so all constraints start from the same convex combination (the identity-preserving one adds its floor to the
    // newest state by design). Identity: -10 elsewhere leaves e^-10 = 4.5e-5 on the older states (the package's
    // form), so they still get a gradient.
    private static Tensor InitialLogits(HistoryWindowSkipOptions o, int k)
    {
        bool identity = o.Init == HistoryMixingInit.Identity;
        switch (o.Constraint)
        {
            case ConstraintKind.DoublyStochastic:
                return identity ? eye(k) * 10f - 10f : zeros(k, k);
            case ConstraintKind.None:
                if (!identity) return full(k, 1.0f / k, ScalarType.Float32);
                var hot = zeros(k);
                hot[k - 1] = 1f;
                return hot;
            default:
                if (!identity) return zeros(k);
                var logits = full(k, -10f, ScalarType.Float32);
                logits[k - 1] = 0f;
                return logits;
        }
    }

    /// <summary>The configuration this skip was built with.</summary>
    public HistoryWindowSkipOptions Options { get; }

    /// <summary>Number of states k this skip mixes.</summary>
    public int StateCount => sourceShapes.Length;

    /// <summary>The projection applied to each state (oldest first); <c>Identity</c> where shapes already match.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Projections => projections.ToList();

    /// <summary>
    /// The mixing weights alpha (k, float32, oldest first) an evaluation pass applies, as a differentiable tensor:
    /// temperature, constraint and pruning, without Gumbel noise.
    /// </summary>
    public Tensor MixingWeights() => Prune(Constrain(mix_logits));

    /// <summary>The weights the next forward pass applies: with Gumbel noise in training when
    /// <see cref="HistoryWindowSkipOptions.Stochastic"/> is set, <see cref="MixingWeights"/> otherwise.</summary>
    private Tensor ForwardWeights()
    {
        if (!(Options.Stochastic && training)) return MixingWeights();
        // Gumbel(0, 1) noise -log(-log U); the clamp keeps U = 0 (probability 2^-24 in float32) finite.
        using var scope = NewDisposeScope();
        var u = rand(mix_logits.shape, ScalarType.Float32, mix_logits.device).clamp_min(1e-20);
        var gumbel = u.log().neg().log().neg();
        return Prune(Constrain(mix_logits + gumbel)).MoveToOuterDisposeScope();
    }

    private Tensor Constrain(Tensor logits)
    {
        var scaled = Options.Temperature == 1 ? logits : logits / Options.Temperature;
        var w = constraint.Project(scaled);
        // A doubly stochastic k x k matrix mixes the window into itself; the newest row is the mixture that
        // becomes this layer's skip, the other rows only couple it through the column constraint.
        return Options.Constraint == ConstraintKind.DoublyStochastic ? w[-1] : w;
    }

    // Drops weights under the threshold without renormalising (the package's semantics): the mask is a constant,
    // so kept weights keep their gradient and dropped ones get none.
    private Tensor Prune(Tensor w) =>
        Options.PruneThreshold > 0 ? w * w.ge(Options.PruneThreshold).to_type(w.dtype) : w;

    /// <summary>The gate g: 1 when off, 2 sigmoid(gamma) for <see cref="HistoryWindowSkipOptions.LearnedGate"/>,
    /// sigmoid(gamma) for <see cref="HistoryWindowSkipOptions.UseGating"/>.</summary>
    public double Gate
    {
        get
        {
            if (gate_logit is null) return 1;
            using var noGrad = no_grad();
            using var g = GateFactor();
            return g.ToDouble();
        }
    }

    private Tensor GateFactor() => Options.UseGating ? gate_logit!.sigmoid() : gate_logit!.sigmoid() * 2;

    /// <summary>The current alpha as numbers (oldest first), as an evaluation pass applies them.</summary>
    public float[] Weights()
    {
        using var noGrad = no_grad();
        using var w = MixingWeights();
        return w.to(CPU).data<float>().ToArray();
    }

    /// <summary>g sum_k alpha_k P_k(x_k): the skip term alone, shaped like f's output.</summary>
    /// <param name="history">The states, oldest first, newest last; exactly <see cref="StateCount"/> of them.</param>
    public Tensor Mix(IReadOnlyList<Tensor> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count != StateCount)
            throw new ArgumentException($"{GetName()} mixes {StateCount} states; got {history.Count}.", nameof(history));
        var w = ForwardWeights();
        Tensor? sum = null;
        for (int j = 0; j < StateCount; j++)
        {
            var h = history[j];
            CheckState(j, h);
            if (Options.DetachHistory) h = h.detach();
            var p = projections[j].forward(h);
            var term = p * w[j].to_type(p.dtype);
            sum = sum is null ? term : sum + term;
        }
        var mixed = sum!;
        if (gate_logit is not null) mixed = mixed * GateFactor().to_type(mixed.dtype);
        return mixed;
    }

    /// <summary>x_l = f(x_(l-1)) + g sum_k alpha_k P_k(x_k).</summary>
    /// <param name="branchOutput">f(x_(l-1)), shaped (B, *targetShape) (spatial size may differ if ratios hold).</param>
    /// <param name="history">The states, oldest first, newest last.</param>
    public override Tensor forward(Tensor branchOutput, IReadOnlyList<Tensor> history)
    {
        ArgumentNullException.ThrowIfNull(branchOutput);
        var mix = Mix(history);
        if (!mix.shape.SequenceEqual(branchOutput.shape))
            throw new ArgumentException(
                $"{GetName()}: the mixed history has shape {HistoryWindowSkipProjection.Show(mix.shape)} but f's output is " +
                $"{HistoryWindowSkipProjection.Show(branchOutput.shape)}; the states' sizes must keep the ratios the skip was built for.", nameof(branchOutput));
        return branchOutput + mix;
    }

    private void CheckState(int j, Tensor h)
    {
        var expected = sourceShapes[j];
        bool ok = h.dim() == expected.Length + 1 && h.shape[1] == expected[0];
        if (ok && expected.Length != 3)
            ok = h.shape[1..].SequenceEqual(expected);
        if (!ok)
            throw new ArgumentException(
                $"{GetName()}: history state {j} (oldest first) should be (B, {string.Join(", ", expected)}); got {HistoryWindowSkipProjection.Show(h.shape)}.");
    }
}
