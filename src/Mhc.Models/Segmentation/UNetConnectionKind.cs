using Mhc.Models.Constraints;
using Mhc.Models.Layers;

namespace Mhc.Models.Segmentation;

/// <summary>The one switch between a plain UNet and its hyper-connected variants, for A/B runs.</summary>
public enum UNetConnectionKind
{
    /// <summary>
    /// A plain (residual) UNet: each decoder stage concatenates the encoder map of its own resolution and
    /// fuses it with a 3x3 convolution; blocks are ordinary residual blocks (one stream).
    /// </summary>
    Plain,
    /// <summary>
    /// Hyper-Connections (arXiv 2409.19606): blocks carry n unconstrained streams, and each decoder stage adds
    /// an unconstrained (<see cref="ConstraintKind.None"/>) mixture of the last H encoder states.
    /// </summary>
    Hc,
    /// <summary>
    /// mHC (arXiv 2512.24880): blocks carry n streams mixed by doubly stochastic matrices, and each decoder
    /// stage adds a constrained mixture (<see cref="HyperUNetOptions.SkipConstraint"/>) of the last H encoder states.
    /// </summary>
    Mhc,
}

/// <summary>Maps <see cref="UNetConnectionKind"/> onto the block-level <see cref="ConnectionKind"/>.</summary>
public static class UNetConnectionKindExtensions
{
    /// <summary>Plain -> <see cref="ConnectionKind.Residual"/>, Hc -> <see cref="ConnectionKind.Hc"/>, Mhc -> <see cref="ConnectionKind.Mhc"/>.</summary>
    public static ConnectionKind ToBlockConnection(this UNetConnectionKind kind) => kind switch
    {
        UNetConnectionKind.Plain => ConnectionKind.Residual,
        UNetConnectionKind.Hc => ConnectionKind.Hc,
        UNetConnectionKind.Mhc => ConnectionKind.Mhc,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown UNet connection kind."),
    };
}
