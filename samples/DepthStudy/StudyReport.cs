using System.Globalization;

namespace DepthStudy;

/// <summary>Prints the study as plain text: one grid per connection, the gains, and what the grid shows.</summary>
public static class StudyReport
{
    /// <summary>Prints everything to standard output.</summary>
    public static void Print(StudyFigures f)
    {
        var s = f.Settings;
        Console.WriteLine();
        Console.WriteLine($"Final loss (mean of the last {LossMetrics.FinalWindow(s.Steps)} of {s.Steps} steps) / steps to a 10-step mean loss of {Study.G(s.TargetLoss)} / " +
            "spikes (loss > 2x the median of the previous 50 steps); D = diverged (NaN, or final loss above the first step's)");
        foreach (var name in s.Connections)
        {
            Console.WriteLine($"  {name}");
            Row("    depth \\ peak lr", s.LearningRates.Select(Study.G).ToArray());
            foreach (var depth in s.Depths)
                Row($"    {depth}", s.LearningRates.Select(lr => f.Cell(name, depth, lr) is { } c ? CellText(c, s.TargetLoss) : "-").ToArray());
        }
        Console.WriteLine();
        Console.WriteLine("Max composite gain over training (forward / backward; peak over depth of H_l ... H_1, batch-mean H_res, every " +
            $"{s.GainEvery} steps; history: window maps)");
        foreach (var name in s.Connections)
        {
            Row($"  {name}", s.Depths.Select(d => string.Join(" ", s.LearningRates.Select(lr =>
                f.Cell(name, d, lr) is { } c ? $"{G3(c.MaxForwardGain)}/{G3(c.MaxBackwardGain)}" : "-"))).ToArray());
        }
        Console.WriteLine($"  (columns: depth {string.Join(", ", s.Depths)}; within a column the learning rates {string.Join(", ", s.LearningRates.Select(Study.G))})");
        Console.WriteLine();
        if (f.MaxGain("mhc") is { } m) Console.WriteLine($"mhc_max_gain {G3(m)} (target <= 2: {(m <= 2 ? "met" : "NOT met")}), mHC max backward gain {G3(f.MaxBackwardGain("mhc")!.Value)}");
        if (f.MaxGain("hc") is { } h) Console.WriteLine($"hc_max_gain {G3(h)}, HC max backward gain {G3(f.MaxBackwardGain("hc")!.Value)}");
        var wins = f.MhcWins();
        if (wins.Count == 0)
        {
            Console.WriteLine("No grid point where mHC trained while residual or HC diverged or spiked more than mHC.");
        }
        else
        {
            Console.WriteLine("Grid points where mHC trained while residual or HC diverged or spiked more (deepest first):");
            foreach (var w in wins)
                Console.WriteLine($"  depth {w.Depth}, peak lr {Study.G(w.LearningRate)}: mHC {w.MhcSpikes} spikes; {string.Join(", ", w.Beaten)}");
        }
        Console.WriteLine();
        Console.WriteLine($"mhc package claim '2x faster convergence than ResNet on deep MLPs', in this grid at depth {f.ClaimDepth} " +
            "(steps to target, residual / history; > 1 means the history skip is faster):");
        foreach (var (lr, speedup) in f.GridHistorySpeedup())
            Console.WriteLine($"  peak lr {Study.G(lr)}: {(speedup is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a (a target not reached)")}");
        if (f.Claim is { } claim)
        {
            Console.WriteLine($"  the package's own benchmark re-run (depth {claim.Depth}, {claim.Steps} steps): final MSE ResNet {claim.ResNet[^1]:F4}, " +
                $"history detached (package default) {claim.HistoryDetached[^1]:F4}, attached {claim.HistoryAttached[^1]:F4}");
            foreach (var (label, curve) in new[] { ("detached", claim.HistoryDetached), ("attached", claim.HistoryAttached) })
            {
                var (steps, speedup) = claim.Speedup(curve);
                Console.WriteLine($"  history ({label}) reaches ResNet's final MSE {(steps is { } k ? $"at step {k}: {speedup:F2}x faster" : "never")}");
            }
        }
        Console.WriteLine($"Wall time {f.Seconds:F0} s.");
    }

    private static string CellText(CellResult c, double target) =>
        $"{(double.IsFinite(c.FinalLoss) ? c.FinalLoss.ToString("F3", CultureInfo.InvariantCulture) : "NaN")}/" +
        $"{c.StepsToTarget(target)?.ToString(CultureInfo.InvariantCulture) ?? "-"}/{c.Spikes}{(c.Diverged ? " D" : "")}";

    private static string G3(double v) => double.IsFinite(v) ? v.ToString(Math.Abs(v) >= 1e4 ? "E2" : "G3", CultureInfo.InvariantCulture) : "inf";

    private static void Row(string head, string[] cells) =>
        Console.WriteLine(head.PadRight(22) + string.Concat(cells.Select(c => c.PadLeft(20))));
}
