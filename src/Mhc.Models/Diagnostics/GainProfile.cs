namespace Mhc.Models.Diagnostics;

/// <summary>
/// Gains of a stack as functions of depth, the curves of the mHC paper's fig. 3: per-layer forward and
/// backward gain of H_res^l, and the composite gain of H_res^l ... H_res^1 after each layer l.
/// </summary>
/// <param name="LayerForward">Largest absolute row sum of each layer's H_res.</param>
/// <param name="LayerBackward">Largest absolute column sum of each layer's H_res.</param>
/// <param name="CompositeForward">Largest absolute row sum of the product of the first l + 1 layers' H_res.</param>
/// <param name="CompositeBackward">Largest absolute column sum of the same products.</param>
public sealed record GainProfile(IReadOnlyList<double> LayerForward, IReadOnlyList<double> LayerBackward,
    IReadOnlyList<double> CompositeForward, IReadOnlyList<double> CompositeBackward)
{
    /// <summary>Composite forward gain of the whole stack (1 for an empty stack).</summary>
    public double FinalForward => CompositeForward.Count == 0 ? 1 : CompositeForward[^1];

    /// <summary>Composite backward gain of the whole stack (1 for an empty stack).</summary>
    public double FinalBackward => CompositeBackward.Count == 0 ? 1 : CompositeBackward[^1];

    /// <summary>The profile of recorded diagnostics.</summary>
    public static GainProfile From(MixingDiagnostics diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        return From(diagnostics.Layers.Select(l => l.ResidualMixing));
    }

    /// <summary>The profile of mixing matrices in depth order (layer 1 applied first).</summary>
    public static GainProfile From(IEnumerable<float[,]> layersInOrder)
    {
        ArgumentNullException.ThrowIfNull(layersInOrder);
        var forward = new List<double>();
        var backward = new List<double>();
        var compositeForward = new List<double>();
        var compositeBackward = new List<double>();
        double[,]? acc = null;
        foreach (var h in layersInOrder)
        {
            forward.Add(MixingGain.Forward(h));
            backward.Add(MixingGain.Backward(h));
            acc = Multiply(h, acc);
            compositeForward.Add(MixingGain.Forward(acc));
            compositeBackward.Add(MixingGain.Backward(acc));
        }
        return new GainProfile(forward, backward, compositeForward, compositeBackward);
    }

    // h · acc in double, so the report itself does not overflow where float32 gains would.
    private static double[,] Multiply(float[,] h, double[,]? acc)
    {
        int n = h.GetLength(0);
        if (h.GetLength(1) != n) throw new ArgumentException($"Mixing matrices must be square; got {n} x {h.GetLength(1)}.");
        if (acc is not null && acc.GetLength(0) != n)
            throw new ArgumentException($"All layers must have the same stream count; got {n} after {acc.GetLength(0)}.");
        var next = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += h[i, k] * (acc is null ? (k == j ? 1.0 : 0.0) : acc[k, j]);
                next[i, j] = s;
            }
        return next;
    }
}
