namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// The fixed widths a saved scoring mapping can write. A custom mapping's output vector size is fixed
/// at compile time (its schema is rebuilt from the class on load), so each width has its own mapping
/// class, and <see cref="SavedScoringChain.Trim"/> cuts the output down to the real size.
/// </summary>
internal static class WideVectorWidth
{
    /// <summary>The available widths, smallest first.</summary>
    public static IReadOnlyList<int> Widths { get; } = [16, 256, 4096];

    /// <summary>The smallest width that holds <paramref name="size"/> values.</summary>
    /// <exception cref="NotSupportedException"><paramref name="size"/> exceeds the largest width.</exception>
    public static int For(int size, string what)
    {
        foreach (var w in Widths)
            if (size <= w) return w;
        throw new NotSupportedException($"A saved mHC model can hold at most {Widths[^1]} {what}; this one has {size}.");
    }
}
