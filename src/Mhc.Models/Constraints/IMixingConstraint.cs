using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Constraints;

/// <summary>
/// Maps unconstrained mixing logits onto a manifold of mixing matrices or weight vectors. All
/// constraints compute in float32 whatever the input dtype, as the mHC paper prescribes, because
/// the iterated normalisations lose too much precision in bf16/fp16.
/// </summary>
public interface IMixingConstraint
{
    /// <summary>A short name for logs and diagnostics.</summary>
    string Name { get; }

    /// <summary>Projects <paramref name="logits"/>; the result has the same shape, in float32.</summary>
    Tensor Project(Tensor logits);
}

/// <summary>The constraint families the layers can be configured with.</summary>
public enum ConstraintKind
{
    /// <summary>Doubly stochastic matrices (Birkhoff polytope) by Sinkhorn-Knopp: the mHC constraint.</summary>
    DoublyStochastic,
    /// <summary>Non-negative weights summing to one (softmax over the last axis).</summary>
    Simplex,
    /// <summary>A simplex whose home (newest) entry is kept at or above a floor epsilon.</summary>
    IdentityPreservingSimplex,
    /// <summary>No constraint: the logits are used as they are.</summary>
    None,
}
