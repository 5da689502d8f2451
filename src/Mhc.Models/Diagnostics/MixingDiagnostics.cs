using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Diagnostics;

/// <summary>Diagnostics of one hyper-connection, from its last recorded forward pass.</summary>
/// <param name="Layer">Depth index.</param>
/// <param name="Name">Module name.</param>
/// <param name="ForwardGain">Largest absolute row sum of H_res.</param>
/// <param name="BackwardGain">Largest absolute column sum of H_res.</param>
/// <param name="MinColumnSum">Smallest column sum of H_res.</param>
/// <param name="DistanceFromIdentity">Frobenius distance of H_res from I.</param>
/// <param name="PreMean">Mean of H_pre entries.</param>
/// <param name="PostMean">Mean of H_post entries.</param>
/// <param name="ResidualMixing">H_res (batch mean).</param>
/// <param name="GradientNorm">L2 norm of the gradients of this connection's parameters (branch included), if any.</param>
public sealed record LayerMixingDiagnostics(int Layer, string Name, double ForwardGain, double BackwardGain, double MinColumnSum,
    double DistanceFromIdentity, double PreMean, double PostMean, float[,] ResidualMixing, double? GradientNorm);

/// <summary>Diagnostics of a whole stack, as the paper reports them.</summary>
/// <param name="Layers">Per-layer figures, in depth order.</param>
/// <param name="CompositeForwardGain">Largest absolute row sum of H_L ... H_1.</param>
/// <param name="CompositeBackwardGain">Largest absolute column sum of H_L ... H_1.</param>
public sealed record MixingDiagnostics(IReadOnlyList<LayerMixingDiagnostics> Layers, double CompositeForwardGain, double CompositeBackwardGain)
{
    /// <summary>Largest per-layer forward gain.</summary>
    public double MaxLayerForwardGain => Layers.Count == 0 ? 1 : Layers.Max(l => l.ForwardGain);

    /// <summary>Largest per-layer backward gain.</summary>
    public double MaxLayerBackwardGain => Layers.Count == 0 ? 1 : Layers.Max(l => l.BackwardGain);

    /// <summary>Turns recording on or off for every connection (recording costs a small device-to-host copy per layer).</summary>
    public static void SetRecording(IEnumerable<HyperConnection> layers, bool on)
    {
        foreach (var l in layers) l.RecordDiagnostics = on;
    }

    /// <summary>
    /// Collects diagnostics from the last recorded forward pass of <paramref name="layers"/> (turn
    /// recording on with <see cref="SetRecording"/> and run a batch first). Connections that recorded
    /// nothing (e.g. Residual) count as identity.
    /// </summary>
    public static MixingDiagnostics Collect(IEnumerable<HyperConnection> layers)
    {
        var list = new List<LayerMixingDiagnostics>();
        int index = 0;
        foreach (var layer in layers)
        {
            var h = layer.LastResidualMixing ?? Identity(layer.Options.Streams);
            double? grad = GradientNorm(layer);
            list.Add(new LayerMixingDiagnostics(index++, layer.GetName(), MixingGain.Forward(h), MixingGain.Backward(h),
                MixingGain.MinColumnSum(h), MixingGain.DistanceFromIdentity(h),
                layer.LastPreMixing?.Average() ?? 1, layer.LastPostMixing?.Average() ?? 1, h, grad));
        }
        var composite = MixingGain.Composite(list.Select(l => l.ResidualMixing));
        return new MixingDiagnostics(list, MixingGain.Forward(composite), MixingGain.Backward(composite));
    }

    private static float[,] Identity(int n)
    {
        var m = new float[n, n];
        for (int i = 0; i < n; i++) m[i, i] = 1;
        return m;
    }

    private static double? GradientNorm(HyperConnection layer)
    {
        double sum = 0;
        bool any = false;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var p in layer.parameters())
        {
            using var g = p.grad;
            if (g is null) continue;
            any = true;
            sum += g.square().sum().ToDouble();
        }
        return any ? Math.Sqrt(sum) : null;
    }
}
