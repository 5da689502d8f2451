using Mhc.Models.Diagnostics;

namespace Microsoft.ML.Mhc.Plots;

/// <summary>
/// Mixing gains of one network across depth, as plotted by <see cref="MhcPlots.SaveGainVsDepth"/>: the gain of each
/// layer's H_res and of the composite H_l ... H_1 up to that layer (mHC paper, sec. 3.1 and fig. 3).
/// </summary>
/// <param name="Label">Legend text, e.g. "HC" or "mHC".</param>
/// <param name="LayerGain">Gain of each layer's residual mixing matrix, in depth order.</param>
/// <param name="CompositeGain">Gain of the product of the matrices up to each layer, or null to plot layers only.</param>
public sealed record GainSeries(string Label, IReadOnlyList<double> LayerGain, IReadOnlyList<double>? CompositeGain = null)
{
    /// <summary>
    /// Series from recorded diagnostics: forward gain (largest absolute row sum) or, with
    /// <paramref name="backward"/>, backward gain (largest absolute column sum), per layer and composite.
    /// </summary>
    public static GainSeries FromDiagnostics(string label, MixingDiagnostics diagnostics, bool backward = false)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var layers = diagnostics.Layers.Select(l => backward ? l.BackwardGain : l.ForwardGain).ToList();
        var composite = new List<double>(diagnostics.Layers.Count);
        for (int depth = 1; depth <= diagnostics.Layers.Count; depth++)
        {
            var product = MixingGain.Composite(diagnostics.Layers.Take(depth).Select(l => l.ResidualMixing));
            composite.Add(backward ? MixingGain.Backward(product) : MixingGain.Forward(product));
        }
        return new GainSeries(label, layers, composite);
    }
}
