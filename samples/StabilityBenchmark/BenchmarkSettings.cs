using System.Globalization;
using Mhc.Samples.Figures;

namespace StabilityBenchmark;

/// <summary>Sizes of one benchmark run. Quick mode keeps depth 64 and shortens the training run.</summary>
public sealed record BenchmarkSettings(int Depth, int Width, int Streams, int Steps, int BatchSize, double LearningRate,
    int Seed, double MixingNoise, int Threads, int EvalExamples, int WarmupSteps, bool Quick, string OutDirectory, string? JsonPath)
{
    /// <summary>Options this sample adds to the shared ones.</summary>
    public static readonly SampleOption[] ExtraOptions =
    [
        new("depth", "N", "number of residual blocks (default 64)"),
        new("width", "N", "channels per stream (default 64)"),
        new("streams", "N", "expansion rate n of HC and mHC (default 4)"),
        new("steps", "N", "training steps per model (default 400; quick 30)"),
        new("batch", "N", "batch size (default 128; quick 64)"),
        new("lr", "X", "Adam learning rate (default 1e-3)"),
        new("seed", "N", "seed of weights, split and batches (default 1)"),
        new("mixing-noise", "X", "std of the random H_res probe around I (default 0.1)"),
        new("threads", "N", "torch intra-op threads (default 1: the per-op tensors are tiny, extra threads only add synchronisation)"),
    ];

    /// <summary>Reads settings from parsed arguments.</summary>
    public static BenchmarkSettings From(SampleArgs args)
    {
        bool quick = args.Quick;
        var s = new BenchmarkSettings(
            Depth: Int(args, "depth", 64),
            Width: Int(args, "width", 64),
            Streams: Int(args, "streams", 4),
            Steps: Int(args, "steps", quick ? 30 : 400),
            BatchSize: Int(args, "batch", quick ? 64 : 128),
            LearningRate: Double(args, "lr", 1e-3),
            Seed: Int(args, "seed", 1),
            MixingNoise: Double(args, "mixing-noise", 0.1),
            Threads: Int(args, "threads", 1),
            EvalExamples: quick ? 500 : int.MaxValue,
            WarmupSteps: quick ? 3 : 10,
            Quick: quick,
            OutDirectory: args.OutDirectory ?? "out",
            JsonPath: args.JsonPath);
        if (s.Depth < 1 || s.Width < 1 || s.Streams < 2 || s.Steps < 1 || s.BatchSize < 1 || !(s.LearningRate > 0) || !(s.MixingNoise >= 0) || s.Threads < 1)
            throw new ArgumentException("--depth, --width, --steps, --batch must be >= 1, --streams >= 2, --lr > 0, --mixing-noise >= 0, --threads >= 1.");
        if (s.Steps <= s.WarmupSteps)
            throw new ArgumentException($"--steps must exceed the {s.WarmupSteps} warm-up steps that the timing leaves out; got {s.Steps}.");
        return s;
    }

    private static int Int(SampleArgs a, string name, int fallback)
    {
        var v = a.GetValue(name);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r)
            ? r : throw new ArgumentException($"--{name} expects an integer, got '{v}'.");
    }

    private static double Double(SampleArgs a, string name, double fallback)
    {
        var v = a.GetValue(name);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && double.IsFinite(r)
            ? r : throw new ArgumentException($"--{name} expects a number, got '{v}'.");
    }
}
