using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>Configuration of a <see cref="HistoryWindowSkip"/> (and of every skip of a <see cref="HistoryWindowSkipStack"/>).
/// A plain, JSON-serialisable object.</summary>
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

    /// <summary>Minimum weight of the newest state under <see cref="ConstraintKind.IdentityPreservingSimplex"/>. Default 0.5.</summary>
    public double IdentityFloor { get; set; } = 0.5;

    /// <summary>Sinkhorn iterations under <see cref="ConstraintKind.DoublyStochastic"/> (paper: 20). Default 20.</summary>
    public int SinkhornIterations { get; set; } = 20;

    /// <summary>Sinkhorn variant under <see cref="ConstraintKind.DoublyStochastic"/>. Default <see cref="SinkhornVariant.ExpFirst"/>.</summary>
    public SinkhornVariant Sinkhorn { get; set; } = SinkhornVariant.ExpFirst;

    /// <summary>
    /// When true, the mixed history is scaled by a learned scalar gate g = 2 sigmoid(gamma), gamma = 0 at init
    /// (so g = 1 and the layer starts as without a gate; the 2 sigmoid form is mHC's H_post, eq. 7). Default false.
    /// </summary>
    public bool LearnedGate { get; set; }

    /// <summary>
    /// When true, gradients do not flow back into earlier states through the skip (only through f). Saves
    /// memory in very deep stacks at the cost of the short gradient paths that skips exist for. Default false.
    /// </summary>
    public bool DetachHistory { get; set; }

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
    }

    /// <summary>A shallow copy.</summary>
    public HistoryWindowSkipOptions Clone() => (HistoryWindowSkipOptions)MemberwiseClone();
}
