using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>Configuration of one <see cref="HyperConnection"/>.</summary>
public sealed class HyperConnectionOptions
{
    /// <summary>Channels C of each stream (the branch's input width). Required.</summary>
    public int Dim { get; set; }

    /// <summary>Expansion rate n: number of residual streams. Default 4 (paper). Must be 1 for <see cref="ConnectionKind.Residual"/>.</summary>
    public int Streams { get; set; } = 4;

    /// <summary>Connection kind. Default <see cref="ConnectionKind.Mhc"/>.</summary>
    public ConnectionKind Kind { get; set; } = ConnectionKind.Mhc;

    /// <summary>Whether the mixing depends on the input (mHC eq. 5-7); false uses the static biases only. Default true.</summary>
    public bool Dynamic { get; set; } = true;

    /// <summary>
    /// Where the dynamic mapping reads its state. Default <see cref="DynamicGranularity.PerToken"/> (the paper's
    /// per-token mixing); <see cref="DynamicGranularity.PerSample"/> reads the mean state of each sample, which
    /// avoids per-pixel Sinkhorn in convolutional networks at a small loss of locality.
    /// </summary>
    public DynamicGranularity Granularity { get; set; } = DynamicGranularity.PerToken;

    /// <summary>Initialisation of the static mixing biases. Default <see cref="MixingInit.IdentityLike"/>.</summary>
    public MixingInit Init { get; set; } = MixingInit.IdentityLike;

    /// <summary>Layer position; the home stream is <c>LayerIndex mod n</c>, as HC's e_(k mod n). Default 0.</summary>
    public int LayerIndex { get; set; }

    /// <summary>Where channels are in the per-stream features. Default <see cref="StreamFeatureLayout.ChannelsLast"/>.</summary>
    public StreamFeatureLayout Layout { get; set; } = StreamFeatureLayout.ChannelsLast;

    /// <summary>Initial value of the gating factors alpha (paper: 0.01).</summary>
    public double GateInit { get; set; } = 0.01;

    /// <summary>
    /// Standard deviation of the dynamic projection Phi at init. Default 0.02 (the usual transformer
    /// init): with alpha = 0.01 the dynamic part starts three orders of magnitude below the biases, so the
    /// network starts at its static init, yet every parameter has a gradient from step one.
    /// </summary>
    public double DynamicInitStd { get; set; } = 0.02;

    /// <summary>Sinkhorn iterations for the mHC residual mixing (paper: 20).</summary>
    public int SinkhornIterations { get; set; } = 20;

    /// <summary>Sinkhorn variant. Default <see cref="SinkhornVariant.ExpFirst"/> (paper).</summary>
    public SinkhornVariant Sinkhorn { get; set; } = SinkhornVariant.ExpFirst;

    /// <summary>
    /// Strength c of the identity-like H_res bias c(2I - 1). Default 2: the diagonal starts near 0.95,
    /// near the identity yet far enough from saturation for Sinkhorn to pass gradients.
    /// </summary>
    public double IdentityStrength { get; set; } = 2.0;

    /// <summary>
    /// Soft bound L on the H_res logits before Sinkhorn, applied as L tanh(h / L); null: none (the paper's form).
    /// Default 4. Why: with the paper's 20 iterations Sinkhorn only balances the columns while the logits stay
    /// moderate. Measured on random 4x4 logits: at a spread of std 20 the largest column sum stays at 2.0 (the
    /// backward gain the bound is meant to keep at 1), and at std 40 exp() underflows to an all-zero column
    /// and the result is NaN. Trained dynamic logits reach such values. With L = 4 the largest column sum stays
    /// at or below about 1.04 for any input, while entries up to 0.999 remain reachable. The identity-like
    /// init is stored so that the bounded logits equal <see cref="IdentityStrength"/> exactly.
    /// </summary>
    public double? ResidualLogitBound { get; set; } = 4.0;

    /// <summary>Share of H_pre on the home stream under the identity-like init (the rest is spread evenly). Default 0.7.</summary>
    public double HomePreWeight { get; set; } = 0.7;

    /// <summary>RMS-norm epsilon of the dynamic mapping. Default 1e-6.</summary>
    public double NormEpsilon { get; set; } = 1e-6;

    /// <summary>Throws when the options are inconsistent.</summary>
    public void Validate()
    {
        if (Dim < 1) throw new ArgumentOutOfRangeException(nameof(Dim), Dim, "Dim (channels per stream) must be at least 1.");
        if (Streams < 1) throw new ArgumentOutOfRangeException(nameof(Streams), Streams, "Streams (expansion rate) must be at least 1.");
        if (Kind == ConnectionKind.Residual && Streams != 1)
            throw new ArgumentException($"A Residual connection has exactly one stream; got Streams = {Streams}.", nameof(Streams));
        if (ResidualLogitBound is { } bound && !(bound > 0))
            throw new ArgumentOutOfRangeException(nameof(ResidualLogitBound), bound, "Must be positive (or null for no bound).");
        if (Kind == ConnectionKind.Mhc && Init == MixingInit.IdentityLike && ResidualLogitBound is { } l && IdentityStrength >= l)
            throw new ArgumentOutOfRangeException(nameof(IdentityStrength), IdentityStrength,
                $"The identity-like init needs IdentityStrength below ResidualLogitBound ({l}), which bounds the H_res logits.");
        if (SinkhornIterations < 1) throw new ArgumentOutOfRangeException(nameof(SinkhornIterations), SinkhornIterations, "Must be at least 1.");
        if (HomePreWeight <= 0 || HomePreWeight >= 1) throw new ArgumentOutOfRangeException(nameof(HomePreWeight), HomePreWeight, "Must be in (0, 1).");
    }

    /// <summary>A copy for another layer position.</summary>
    public HyperConnectionOptions WithLayer(int layerIndex, int? dim = null)
    {
        var copy = (HyperConnectionOptions)MemberwiseClone();
        copy.LayerIndex = layerIndex;
        if (dim is { } d) copy.Dim = d;
        return copy;
    }
}
