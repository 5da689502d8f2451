using Mhc.Models.Constraints;

namespace Mhc.Models.Fused;

/// <summary>How a hyper-connection's dynamic state is read from its streams.</summary>
internal enum MixingState
{
    /// <summary>Each row is one token: its state is the row itself, n x C (mHC eq. 5 as written).</summary>
    PerToken,
    /// <summary>Each row is one sample laid out (n, C, S): its state is the mean over S of every stream channel.</summary>
    PooledChannelsFirst,
}

/// <summary>
/// The fixed settings of one hyper-connection's fused mixing (mHC eq. 5-9 or HC's tanh form): streams, the
/// activation family, the logit bound and Sinkhorn settings, the norm epsilon, and how the state is read.
/// </summary>
internal sealed class MixingSpec
{
    public MixingSpec(int streams, bool constrained, double? bound, SinkhornProjection? sinkhorn, double normEpsilon,
        MixingState state, int stateChannels)
    {
        if (constrained && sinkhorn is null) throw new ArgumentNullException(nameof(sinkhorn), "mHC needs its Sinkhorn settings.");
        N = streams;
        Constrained = constrained;
        Bound = bound is { } b ? (float)b : null;
        Sinkhorn = sinkhorn;
        NormEpsilon = (float)normEpsilon;
        State = state;
        StateChannels = stateChannels;
        SinkhornSteps = sinkhorn is null ? 0 : SinkhornKernel.HalfSteps(sinkhorn.Variant, sinkhorn.Iterations);
    }

    /// <summary>Streams n.</summary>
    public int N { get; }

    /// <summary>Coefficients per row: n (pre) + n (post) + n^2 (res).</summary>
    public int Q => N * N + 2 * N;

    /// <summary>mHC (sigmoid gates, Sinkhorn) when true; HC (tanh on the dynamic part, no constraint) when false.</summary>
    public bool Constrained { get; }

    /// <summary>L of the residual logit bound L tanh(h / L), or null.</summary>
    public float? Bound { get; }

    /// <summary>The residual constraint of mHC.</summary>
    public SinkhornProjection? Sinkhorn { get; }

    /// <summary>Sinkhorn half-steps (0 for HC).</summary>
    public int SinkhornSteps { get; }

    /// <summary>RMS-norm epsilon of the dynamic state.</summary>
    public float NormEpsilon { get; }

    /// <summary>How the state is read.</summary>
    public MixingState State { get; }

    /// <summary>Channels C of the state per stream.</summary>
    public int StateChannels { get; }

    /// <summary>Length D of the state vector (n C).</summary>
    public int StateLength => N * StateChannels;
}
