using System.Globalization;
using Mhc.Models.Layers;
using Mhc.Samples.Networks;

namespace StabilityBenchmark;

/// <summary>Prints the figures side by side as plain text (readable on a terminal and in a log).</summary>
public static class Report
{
    /// <summary>Prints the gain table, the curves at checkpoints and the overheads.</summary>
    public static void Print(BenchmarkFigures f, BenchmarkSettings s)
    {
        var r = f[ConnectionKind.Residual];
        var h = f[ConnectionKind.Hc];
        var m = f[ConnectionKind.Mhc];
        Console.WriteLine();
        Console.WriteLine($"Composite gain of H_res over {s.Depth} layers (forward = max |row sum|, backward = max |column sum|; batch-mean H_res)");
        Row("", "residual", "HC", "mHC");
        Row("init fwd (library init)", G(r.AtInit.Forward), G(h.AtInit.Forward), G(m.AtInit.Forward));
        Row("init bwd (library init)", G(r.AtInit.Backward), G(h.AtInit.Backward), G(m.AtInit.Backward));
        Row($"random H_res=I+{s.MixingNoise.ToString(CultureInfo.InvariantCulture)}G fwd", "-", G(h.RandomInit!.Forward), G(m.RandomInit!.Forward));
        Row("random H_res bwd", "-", G(h.RandomInit.Backward), G(m.RandomInit.Backward));
        Row("random: peak fwd over depth", "-", G(h.RandomInit.PeakCompositeForward), G(m.RandomInit.PeakCompositeForward));
        Row("random: max layer fwd", "-", G(h.RandomInit.MaxLayerForward), G(m.RandomInit.MaxLayerForward));
        Row("random: stream RMS out/in", "-", G(h.RandomInit.SignalGain), G(m.RandomInit.SignalGain));
        Row("trained fwd", G(r.Trained.Forward), G(h.Trained.Forward), G(m.Trained.Forward));
        Row("trained bwd", G(r.Trained.Backward), G(h.Trained.Backward), G(m.Trained.Backward));
        Row("trained: peak fwd over depth", G(r.Trained.PeakCompositeForward), G(h.Trained.PeakCompositeForward), G(m.Trained.PeakCompositeForward));
        Row("trained: max layer fwd", G(r.Trained.MaxLayerForward), G(h.Trained.MaxLayerForward), G(m.Trained.MaxLayerForward));
        Row("stream RMS out/in (init)", G(r.AtInit.SignalGain), G(h.AtInit.SignalGain), G(m.AtInit.SignalGain));
        Row("stream RMS out/in (trained)", G(r.Trained.SignalGain), G(h.Trained.SignalGain), G(m.Trained.SignalGain));

        Console.WriteLine();
        Console.WriteLine($"Training on MNIST digits: loss (mean of the last {Math.Max(1, s.Steps / 20)} steps) and global gradient norm");
        Row("step", "loss res", "loss HC", "loss mHC", "|g| res", "|g| HC", "|g| mHC");
        int every = Math.Max(1, s.Steps / 10);
        int window = Math.Max(1, s.Steps / 20);
        for (int step = every; step <= s.Steps; step += every)
        {
            Row(step.ToString(CultureInfo.InvariantCulture),
                F(Mean(r.Loss, step, window)), F(Mean(h.Loss, step, window)), F(Mean(m.Loss, step, window)),
                F(Mean(r.GradientNorm, step, window)), F(Mean(h.GradientNorm, step, window)), F(Mean(m.GradientNorm, step, window)));
        }

        Console.WriteLine();
        Row("", "residual", "HC", "mHC");
        Row($"final train loss (last {KindResult.FinalWindow(s.Steps)})", F(r.FinalLoss), F(h.FinalLoss), F(m.FinalLoss));
        Row("test loss", F(r.TestLoss), F(h.TestLoss), F(m.TestLoss));
        Row("test accuracy", P(r.TestAccuracy), P(h.TestAccuracy), P(m.TestAccuracy));
        Row("median step (ms)", F(r.StepMilliseconds), F(h.StepMilliseconds), F(m.StepMilliseconds));
        Row("step-time overhead vs residual", "-", P(f.Overhead(ConnectionKind.Hc)), P(f.Overhead(ConnectionKind.Mhc)));
        Row("diverged", r.Diverged.ToString(), h.Diverged.ToString(), m.Diverged.ToString());
        Console.WriteLine($"Wall time {f.Seconds:F1} s. Step times are unfused TorchSharp CPU kernels on this machine (the paper's 6.7 % uses fused GPU kernels).");
    }

    private static double Mean(double[] values, int step, int window) =>
        values.Skip(Math.Max(0, step - window)).Take(Math.Min(window, step)).Average();

    private static void Row(params string[] cells) =>
        Console.WriteLine(string.Concat(cells.Select((c, i) => i == 0 ? c.PadRight(34) : c.PadLeft(11))));

    private static string G(double v) => v.ToString(Math.Abs(v) >= 1e4 ? "E3" : "F3", CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    private static string P(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture) + " %";
}
