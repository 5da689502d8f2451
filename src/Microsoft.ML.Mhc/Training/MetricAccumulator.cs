namespace Microsoft.ML.Mhc.Training;

/// <summary>Running weighted means of named metrics over the batches of one pass.</summary>
internal sealed class MetricAccumulator
{
    private readonly Dictionary<string, (double Sum, double Weight)> sums = new(StringComparer.Ordinal);
    private readonly List<string> order = [];

    /// <summary>Adds <paramref name="sum"/> (a metric summed over <paramref name="weight"/> examples, pixels, tokens...).</summary>
    public void Add(string name, double sum, double weight)
    {
        if (!sums.TryGetValue(name, out var s)) order.Add(name);
        else { sum += s.Sum; weight += s.Weight; }
        sums[name] = (sum, weight);
    }

    /// <summary>The weighted mean of <paramref name="name"/>, or NaN when nothing was added.</summary>
    public double Mean(string name) => sums.TryGetValue(name, out var s) && s.Weight > 0 ? s.Sum / s.Weight : double.NaN;

    /// <summary>All means, in the order the metrics were first added, without <paramref name="except"/>.</summary>
    public IReadOnlyDictionary<string, double> Means(string? except = null)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in order)
            if (name != except) result[name] = Mean(name);
        return result;
    }
}
