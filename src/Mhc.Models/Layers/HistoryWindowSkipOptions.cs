using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>How the mixing logits of a <see cref="HistoryWindowSkip"/> start.</summary>
public enum HistoryMixingInit
{
    /// <summary>All logits zero: every state gets the same weight (the identity-preserving constraint adds its floor to the newest).</summary>
    Uniform,
    /// <summary>
    /// Logits -10 except 0 on the newest state (the diagonal for the doubly stochastic matrix; a one-hot newest
    /// weight without a constraint): the layer starts as the plain residual x_l = f(x_(l-1)) + x_(l-1).
    /// </summary>
    Identity,
}

/// <summary>Configuration of a <see cref="HistoryWindowSkip"/> (and of every skip of a <see cref="HistoryWindowSkipStack"/>).
/// A plain, JSON-serialisable object. Named option sets: <see cref="HistoryWindowSkipPresets"/>.</summary>
public sealed class HistoryWindowSkipOptions
{
    /// <summary>
    /// H: how many of the most recent states a layer may mix, the newest (its own input x_(l-1)) included.
    /// H = 1 with a simplex constraint is the plain residual x_l = f(x_(l-1)) + x_(l-1). Default 4.
    /// </summary>
    public int MaxHistory { get; set; } = 4;

    /// <summary>
    /// Constraint on the mixing weights alpha. <see cref="ConstraintKind.Simplex"/>: softmax;
    /// <see cref="ConstraintKind.IdentityPreservingSimplex"/>: softmax with the newest state kept at or above
    /// <see cref="IdentityFloor"/>, so an identity path always survives; <see cref="ConstraintKind.DoublyStochastic"/>:
    /// a k x k Sinkhorn-projected matrix whose newest row gives alpha; <see cref="ConstraintKind.None"/>: raw
    /// weights (HC-style, unconstrained). Default <see cref="ConstraintKind.IdentityPreservingSimplex"/>, which
    /// keeps a deep stack close to a residual network at step 0.
    /// </summary>
    public ConstraintKind Constraint { get; set; } = ConstraintKind.IdentityPreservingSimplex;

    /// <summary>Minimum weight of the newest state under <see cref="ConstraintKind.IdentityPreservingSimplex"/>
    /// (the <c>mhc</c> package's epsilon). Default 0.5.</summary>
    public double IdentityFloor { get; set; } = 0.5;

    /// <summary>Sinkhorn iterations under <see cref="ConstraintKind.DoublyStochastic"/> (paper: 20). Default 20.</summary>
    public int SinkhornIterations { get; set; } = 20;

    /// <summary>Sinkhorn variant under <see cref="ConstraintKind.DoublyStochastic"/>. Default <see cref="SinkhornVariant.ExpFirst"/>.</summary>
    public SinkhornVariant Sinkhorn { get; set; } = SinkhornVariant.ExpFirst;

    /// <summary>
    /// Temperature T of the mixing: the constraint is applied to logits / T, so T below 1 sharpens the weights
    /// towards one state and T above 1 flattens them (the <c>mhc</c> package's <c>temperature</c>). Must be 1 with
    /// <see cref="ConstraintKind.None"/>, whose raw weights have no logits. Default 1.
    /// </summary>
    public double Temperature { get; set; } = 1.0;

    /// <summary>
    /// When true, training forward passes mix with Gumbel-softmax weights: Gumbel noise -log(-log U) is added to
    /// the logits before the temperature and the constraint, so each batch sees a random re-weighting of the
    /// window and the layer learns not to depend on any single state (the package's <c>stochastic</c>). Evaluation
    /// mixes with the noise-free weights. Unlike the package, which then applies a plain softmax whatever the
    /// constraint, the configured constraint still applies (the identity floor holds in every draw; with
    /// <see cref="ConstraintKind.DoublyStochastic"/> this is Gumbel-Sinkhorn). Not allowed with
    /// <see cref="ConstraintKind.None"/>. Default false.
    /// </summary>
    public bool Stochastic { get; set; }

    /// <summary>
    /// Weights below this value are dropped from the mix after the constraint, without renormalising the rest, so
    /// the skip then carries less than a convex combination (the package's <c>prune_threshold</c>). The dropped
    /// weights get no gradient while they stay below it. In [0, 1). Default 0 (nothing pruned).
    /// </summary>
    public double PruneThreshold { get; set; }

    /// <summary>
    /// When true, the mixed history is scaled by a learned scalar gate g = 2 sigmoid(gamma), gamma = 0 at init
    /// (so g = 1 and the layer starts as without a gate; the 2 sigmoid form is mHC's H_post, eq. 7). Cannot be
    /// combined with <see cref="UseGating"/>. Default false.
    /// </summary>
    public bool LearnedGate { get; set; }

    /// <summary>
    /// When true, the mixed history is scaled by the <c>mhc</c> package's gate g = sigmoid(gamma), gamma starting at
    /// <see cref="GateLogitInit"/> (g = 0.881 for the default 2), so the layer can turn its history down but never
    /// above the ungated sum. Cannot be combined with <see cref="LearnedGate"/>. Default false.
    /// </summary>
    public bool UseGating { get; set; }

    /// <summary>Initial gate logit gamma of <see cref="UseGating"/> (package: 2.0). Default 2.</summary>
    public double GateLogitInit { get; set; } = 2.0;

    /// <summary>How the mixing logits start. Default <see cref="HistoryMixingInit.Uniform"/>.</summary>
    public HistoryMixingInit Init { get; set; } = HistoryMixingInit.Uniform;

    /// <summary>
    /// When true, gradients do not flow back into earlier states through the skip (only through f). Saves
    /// memory in very deep stacks at the cost of the short gradient paths that skips exist for. Default false
    /// (the package's <c>MHCConfig</c> defaults to true).
    /// </summary>
    public bool DetachHistory { get; set; }

    /// <summary>
    /// When true, a <see cref="HistoryWindowSkipStack"/> keeps only each block's inputs from the forward pass and
    /// recomputes the block (f_l and its skip) during backward (<see cref="BlockCheckpoint"/>): activation memory
    /// drops to about one block's worth plus the window of states, for about one extra forward pass of compute
    /// (the package's <c>use_checkpointing</c>). Only takes effect while gradients are recorded. Measured on a 64-block
    /// MLP (width 64, hidden 128, batch 256): peak memory 57.9 to 33.0 MB for 1.33x the step time. Default false.
    /// </summary>
    public bool CheckpointBlocks { get; set; }

    /// <summary>
    /// When true (default), a state whose channels or spatial size differ from the layer's output is mapped
    /// by a 1x1 convolution (strided when the state is finer, after nearest upsampling when it is coarser;
    /// a linear map for vector features). When false (strict mode), any mismatch throws.
    /// </summary>
    public bool AutoProject { get; set; } = true;

    /// <summary>Throws when the options are inconsistent.</summary>
    public void Validate()
    {
        if (MaxHistory < 1) throw new ArgumentOutOfRangeException(nameof(MaxHistory), MaxHistory, "MaxHistory (H) must be at least 1.");
        if (IdentityFloor < 0 || IdentityFloor >= 1) throw new ArgumentOutOfRangeException(nameof(IdentityFloor), IdentityFloor, "IdentityFloor must be in [0, 1).");
        if (SinkhornIterations < 1) throw new ArgumentOutOfRangeException(nameof(SinkhornIterations), SinkhornIterations, "At least one Sinkhorn iteration.");
        if (!Enum.IsDefined(Constraint)) throw new ArgumentOutOfRangeException(nameof(Constraint), Constraint, "Unknown constraint kind.");
        if (!Enum.IsDefined(Init)) throw new ArgumentOutOfRangeException(nameof(Init), Init, "Unknown mixing init.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a positive finite number.");
        if (Constraint == ConstraintKind.None && Temperature != 1)
            throw new ArgumentException($"Temperature = {Temperature} needs logits, but Constraint = None mixes with raw weights; use Simplex or leave Temperature at 1.", nameof(Temperature));
        if (Constraint == ConstraintKind.None && Stochastic)
            throw new ArgumentException("Stochastic (Gumbel-softmax) mixing needs logits, but Constraint = None mixes with raw weights.", nameof(Stochastic));
        if (!(PruneThreshold >= 0 && PruneThreshold < 1))
            throw new ArgumentOutOfRangeException(nameof(PruneThreshold), PruneThreshold, "PruneThreshold must be in [0, 1).");
        if (LearnedGate && UseGating)
            throw new ArgumentException("LearnedGate (2 sigmoid, starting at 1) and UseGating (sigmoid, the package's gate) are two forms of one gate; choose one.", nameof(UseGating));
        if (!double.IsFinite(GateLogitInit)) throw new ArgumentOutOfRangeException(nameof(GateLogitInit), GateLogitInit, "GateLogitInit must be finite.");
    }

    /// <summary>A shallow copy.</summary>
    public HistoryWindowSkipOptions Clone() => (HistoryWindowSkipOptions)MemberwiseClone();
}
