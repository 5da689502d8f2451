using Mhc.Models.Layers;

namespace Mhc.Models.Diagnostics;

/// <summary>The mixing weights of every history skip of a network at one point of training.</summary>
/// <param name="Step">The step or epoch the snapshot was taken at (the caller's count).</param>
/// <param name="Weights">Per layer, in depth order: alpha over that layer's window, oldest first, newest last.</param>
/// <param name="Gates">Per layer: the gate g (1 when the layer has none).</param>
public sealed record HistoryMixingSnapshot(int Step, IReadOnlyList<float[]> Weights, IReadOnlyList<double> Gates)
{
    /// <summary>Weight of the newest state (the layer's own input) in layer <paramref name="layer"/>.</summary>
    public double NewestWeight(int layer) => Weights[layer][^1];

    /// <summary>Shannon entropy -sum alpha ln alpha of layer <paramref name="layer"/>'s weights, in nats (0 ln 0 = 0):
    /// 0 when one state takes all, ln k when k states share equally.</summary>
    public double Entropy(int layer) => Entropy(Weights[layer]);

    /// <summary>Mean over layers of <see cref="NewestWeight"/>.</summary>
    public double MeanNewestWeight => Weights.Count == 0 ? double.NaN : Enumerable.Range(0, Weights.Count).Average(NewestWeight);

    /// <summary>Mean over layers of <see cref="Entropy(int)"/>.</summary>
    public double MeanEntropy => Weights.Count == 0 ? double.NaN : Enumerable.Range(0, Weights.Count).Average(Entropy);

    /// <summary>Entropy in nats of non-negative weights (normalised by their sum, so pruned weights count as their remainder).</summary>
    public static double Entropy(IReadOnlyList<float> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        double total = weights.Sum(w => (double)w);
        if (!(total > 0)) return double.NaN;
        double h = 0;
        foreach (var w in weights)
        {
            double p = w / total;
            if (p > 0) h -= p * Math.Log(p);
        }
        return h;
    }
}

/// <summary>
/// Records the history skips' mixing weights during training, as the <c>mhc</c> package logs them: the weight of the
/// newest state (how close each layer stays to a plain residual) and the entropy of the mix (how many states it
/// really uses). Call <see cref="Record"/> at the steps or epochs you want (each call reads the weights once,
/// without gradient); <see cref="Format"/> gives the log line.
/// </summary>
public sealed class HistoryMixingLog
{
    private readonly IReadOnlyList<HistoryWindowSkip> skips;
    private readonly List<HistoryMixingSnapshot> snapshots = [];

    /// <summary>Creates a log of <paramref name="skips"/> (in depth order).</summary>
    public HistoryMixingLog(IEnumerable<HistoryWindowSkip> skips)
    {
        ArgumentNullException.ThrowIfNull(skips);
        this.skips = skips.ToList();
    }

    /// <summary>All snapshots so far, in recording order.</summary>
    public IReadOnlyList<HistoryMixingSnapshot> Snapshots => snapshots;

    /// <summary>Reads the current weights (as an evaluation pass applies them) and gates.</summary>
    public HistoryMixingSnapshot Record(int step)
    {
        var snapshot = new HistoryMixingSnapshot(step, skips.Select(s => s.Weights()).ToList(), skips.Select(s => s.Gate).ToList());
        snapshots.Add(snapshot);
        return snapshot;
    }

    /// <summary>One log line: mean (and range over layers) of the newest-state weight and of the entropy.</summary>
    /// <param name="snapshot">A recorded snapshot.</param>
    /// <param name="label">What <see cref="HistoryMixingSnapshot.Step"/> counts, e.g. "epoch" or "step".</param>
    public static string Format(HistoryMixingSnapshot snapshot, string label = "epoch")
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        int layers = snapshot.Weights.Count;
        if (layers == 0) return $"{label} {snapshot.Step}: no history skips";
        var newest = Enumerable.Range(0, layers).Select(snapshot.NewestWeight).ToArray();
        var entropy = Enumerable.Range(0, layers).Select(snapshot.Entropy).ToArray();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{label} {snapshot.Step}: newest-state weight mean {newest.Average():F3} (min {newest.Min():F3}, max {newest.Max():F3}), " +
            $"mixing entropy mean {entropy.Average():F3} nats (min {entropy.Min():F3}, max {entropy.Max():F3}), gate mean {snapshot.Gates.Average():F3}");
    }
}
