using System.Diagnostics;

namespace Benchmarks;

/// <summary>
/// Times several variants side by side: warm-up calls first, then rounds in which every variant runs once, in an
/// order that rotates from round to round, and the median per variant. On a shared, noisy machine this keeps
/// ratios between variants meaningful: a slow spell hits all of them in the same round rather than one of them.
/// </summary>
public static class InterleavedTimer
{
    /// <summary>Median milliseconds per call of each variant.</summary>
    /// <param name="variants">Name and action; each call of an action is one timed unit (e.g. one training step).</param>
    /// <param name="warmup">Untimed calls of each variant first.</param>
    /// <param name="repeats">Timed rounds (at least 1).</param>
    public static IReadOnlyDictionary<string, double> MedianMilliseconds(
        IReadOnlyList<(string Name, Action Action)> variants, int warmup, int repeats) =>
        MedianTimes(variants, warmup, repeats).Wall;

    /// <summary>
    /// Median wall milliseconds per call of each variant, and median CPU milliseconds of the calling thread per call
    /// (NaN where <see cref="ThreadCpuClock"/> is not available), from the same interleaved rounds.
    /// </summary>
    /// <param name="variants">Name and action; each call of an action is one timed unit (e.g. one training step).</param>
    /// <param name="warmup">Untimed calls of each variant first.</param>
    /// <param name="repeats">Timed rounds (at least 1).</param>
    public static (IReadOnlyDictionary<string, double> Wall, IReadOnlyDictionary<string, double> Cpu) MedianTimes(
        IReadOnlyList<(string Name, Action Action)> variants, int warmup, int repeats)
    {
        ArgumentNullException.ThrowIfNull(variants);
        if (variants.Count == 0) throw new ArgumentException("At least one variant.", nameof(variants));
        if (warmup < 0) throw new ArgumentOutOfRangeException(nameof(warmup), warmup, "Must be 0 or more.");
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one repeat.");
        foreach (var (_, action) in variants)
            for (int i = 0; i < warmup; i++) action();

        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>(repeats));
        var cpu = variants.ToDictionary(v => v.Name, _ => new List<double>(repeats));
        for (int round = 0; round < repeats; round++)
        {
            for (int k = 0; k < variants.Count; k++)
            {
                var (name, action) = variants[(round + k) % variants.Count];
                double cpuStart = ThreadCpuClock.Milliseconds();
                long start = Stopwatch.GetTimestamp();
                action();
                samples[name].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                cpu[name].Add(ThreadCpuClock.Milliseconds() - cpuStart);
            }
        }
        return (samples.ToDictionary(s => s.Key, s => Median(s.Value)), cpu.ToDictionary(s => s.Key, s => Median(s.Value)));
    }

    /// <summary>The median of <paramref name="values"/> (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        var sorted = values.OrderBy(v => v).ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
