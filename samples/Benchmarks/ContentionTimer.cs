using System.Diagnostics;

namespace Benchmarks;

/// <summary>Milliseconds per unit of work with the CPU free and with competing busy processes, measured alternately.</summary>
/// <param name="IdleMs">Median over rounds of the mean time per unit with no competing process.</param>
/// <param name="ContendedMs">The same with the competing processes running.</param>
public sealed record ContentionTiming(double IdleMs, double ContendedMs)
{
    /// <summary>How much slower a unit is under contention.</summary>
    public double Ratio => ContendedMs / IdleMs;
}

/// <summary>
/// Times a unit of work (a training step, a prediction) alternately without and with competing busy processes: in
/// every round each condition runs one block of units, in an order that flips from round to round, so a slow spell
/// of the shared machine hits both conditions. A block's mean per unit keeps the occasional stall in the figure (a
/// stall is what contention costs); the median over rounds drops an outlying round.
/// </summary>
public static class ContentionTimer
{
    /// <summary>Measures <paramref name="unit"/>.</summary>
    /// <param name="unit">One unit of work.</param>
    /// <param name="competitors">Busy processes to run in the contended blocks.</param>
    /// <param name="rounds">Rounds (at least 1).</param>
    /// <param name="unitsPerBlock">Timed units per block (at least 1).</param>
    /// <param name="settle">
    /// Untimed work after the load changes, in both conditions (at least one unit): the scheduler sees the new
    /// children, and the training loop's thread team (<c>LoadAdaptiveThreads</c>, which follows the load within about
    /// half a second) settles, so a block times the steady state of its condition.
    /// </param>
    /// <param name="minimumBlock">The least time a timed block runs (more units than asked for where they are short), so the load is read several times in it.</param>
    public static ContentionTiming Measure(Action unit, int competitors, int rounds, int unitsPerBlock, TimeSpan settle, TimeSpan minimumBlock)
    {
        ArgumentNullException.ThrowIfNull(unit);
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "At least one round.");
        if (unitsPerBlock < 1) throw new ArgumentOutOfRangeException(nameof(unitsPerBlock), unitsPerBlock, "At least one unit per block.");
        var idle = new List<double>(rounds);
        var contended = new List<double>(rounds);
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool busy in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                using var load = busy ? new ContentionLoad(competitors) : null;
                (busy ? contended : idle).Add(Block(unit, unitsPerBlock, settle, minimumBlock));
            }
        }
        return new ContentionTiming(InterleavedTimer.Median(idle), InterleavedTimer.Median(contended));
    }

    private static double Block(Action unit, int units, TimeSpan settle, TimeSpan minimumBlock)
    {
        long warm = Stopwatch.GetTimestamp();
        do unit(); // the first calls after a switch pay for caches, thread wake-ups and the team change
        while (Stopwatch.GetElapsedTime(warm) < settle);
        long start = Stopwatch.GetTimestamp();
        int done = 0;
        while (done < units || Stopwatch.GetElapsedTime(start) < minimumBlock)
        {
            unit();
            done++;
        }
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / done;
    }
}
