namespace Mhc.Models.Layers;

/// <summary>The kind of connection around a branch; one switch for A/B runs.</summary>
public enum ConnectionKind
{
    /// <summary>The plain residual connection x + F(x) on a single stream.</summary>
    Residual,
    /// <summary>Hyper-Connections (arXiv 2409.19606): n streams, unconstrained tanh-gated mixing.</summary>
    Hc,
    /// <summary>Manifold-Constrained Hyper-Connections (arXiv 2512.24880): doubly stochastic stream mixing.</summary>
    Mhc,
}

/// <summary>How the static mixing parameters (biases) start.</summary>
public enum MixingInit
{
    /// <summary>
    /// Close to a residual network at step 0 (default): H_res near the identity, H_pre favouring the home
    /// stream with its entries summing to one, H_post = 1. Uniform H_res from step 0 was reported harmful.
    /// </summary>
    IdentityLike,
    /// <summary>All biases zero, as the paper's text reads: H_res uniform (1/n), H_pre = 0.5, H_post = 1.</summary>
    Paper,
}

/// <summary>Where the channel axis of the per-stream features sits.</summary>
public enum StreamFeatureLayout
{
    /// <summary>Features (C) or (L, C): channels last, as in transformers.</summary>
    ChannelsLast,
    /// <summary>Features (C, H, W): channels first, as in convolutional networks.</summary>
    ChannelsFirst,
}

/// <summary>How the n streams are reduced to one tensor before the head.</summary>
public enum StreamCollapseMode
{
    /// <summary>Average of the streams (default: identical streams collapse to themselves).</summary>
    Mean,
    /// <summary>Sum of the streams, as the HC paper.</summary>
    Sum,
    /// <summary>Learned per-stream weights, initialised to 1/n.</summary>
    Learned,
}

/// <summary>Which state the dynamic (input-dependent) mixing is computed from.</summary>
public enum DynamicGranularity
{
    /// <summary>Each token or pixel has its own mixing (mHC eq. 5-7 as written).</summary>
    PerToken,
    /// <summary>One mixing per sample, from the mean state over its tokens or pixels.</summary>
    PerSample,
}
