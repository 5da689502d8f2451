using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>Configuration of one <see cref="HyperConnection"/>.</summary>
public sealed class HyperConnectionOptions
{
    /// <summary>Channels C of each stream (the branch's input width). Required.</summary>
    public int Dim { get; set; }

    /// <summary>
    /// Connection kind, expansion rate, dynamic mixing (mHC eq. 5-7), bias initialisation and the Sinkhorn
    /// projection of H_res: the record a network's options embed, shared by all its layers. Default
    /// <see cref="MixingSettings"/>'s (mHC, n = 4, dynamic, identity-like).
    /// </summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>Number of residual streams n: 1 for <see cref="ConnectionKind.Residual"/>, else the expansion rate.</summary>
    public int Streams => Mixing.Streams;

    /// <summary>
    /// Where the dynamic mapping reads its state. Default <see cref="DynamicGranularity.PerToken"/> (the paper's
    /// per-token mixing); <see cref="DynamicGranularity.PerSample"/> reads the mean state of each sample, which
    /// avoids per-pixel Sinkhorn in convolutional networks at a small loss of locality.
    /// </summary>
    public DynamicGranularity Granularity { get; set; } = DynamicGranularity.PerToken;

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

    /// <summary>
    /// Strength c of the identity-like H_res bias c(2I - 1). Default 2: the diagonal starts near 0.95,
    /// near the identity yet far enough from saturation for Sinkhorn to pass gradients.
    /// </summary>
    public double IdentityStrength { get; set; } = 2.0;

    /// <summary>Share of H_pre on the home stream under the identity-like init (the rest is spread evenly). Default 0.7.</summary>
    public double HomePreWeight { get; set; } = 0.7;

    /// <summary>RMS-norm epsilon of the dynamic mapping. Default 1e-6.</summary>
    public double NormEpsilon { get; set; } = 1e-6;

    /// <summary>Throws when the options are inconsistent.</summary>
    public void Validate()
    {
        if (Dim < 1) throw new ArgumentOutOfRangeException(nameof(Dim), Dim, "Dim (channels per stream) must be at least 1.");
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Mixing.Connection == ConnectionKind.Mhc && Mixing.Init == MixingInit.IdentityLike && Mixing.ResidualLogitBound is { } l && IdentityStrength >= l)
            throw new ArgumentOutOfRangeException(nameof(IdentityStrength), IdentityStrength,
                $"The identity-like init needs IdentityStrength below ResidualLogitBound ({l}), which bounds the H_res logits.");
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
