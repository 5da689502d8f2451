using System.Globalization;
using Mhc.Samples.Figures;

namespace DepthStudy;

/// <summary>The grid and the training setup of one study run.</summary>
public sealed record StudySettings(
    IReadOnlyList<int> Depths, IReadOnlyList<double> LearningRates, IReadOnlyList<string> Connections,
    int Steps, int BatchSize, int Width, int Streams, int Seed, double TargetLoss, int GainEvery, int Threads,
    int Workers, int EvalExamples, bool Quick, bool PackageClaim, string OutDirectory, string? JsonPath, int? CellIndex)
{
    /// <summary>Options this sample adds to the shared ones.</summary>
    public static readonly SampleOption[] ExtraOptions =
    [
        new("depths", "LIST", "comma-separated block counts (default 16,32,64,128; quick 4,8)"),
        new("lrs", "LIST", "comma-separated peak learning rates (default 0.001,0.003,0.01; quick 0.001,0.01)"),
        new("connections", "LIST", $"comma-separated connections (default {string.Join(",", StudyConnections.Default)}; also " +
            string.Join(", ", StudyConnections.Known.Keys.Except(StudyConnections.Default)) + ")"),
        new("steps", "N", "training steps of every cell (default 300; quick 40)"),
        new("batch", "N", "batch size (default 64; quick 32)"),
        new("width", "N", "features per state / per stream (default 64; quick 32)"),
        new("streams", "N", "expansion rate n of HC and mHC (default 4)"),
        new("seed", "N", "seed of weights, split and batches (default 1)"),
        new("target-loss", "X", "loss (10-step mean) whose first crossing is steps_to_target (default 0.5; quick 1.5)"),
        new("gain-every", "N", "record gains, gradient norms and mixing weights every N steps (default 10; quick 5)"),
        new("threads", "N", "torch intra-op threads per process (default 1: the ops are tiny)"),
        new("workers", "N", "cells run in N processes at once (default 2; quick 1); use the number of idle cores"),
        new("no-package-claim", null, "skip the re-run of the mhc package's own 50-layer convergence benchmark"),
        new("cell", "K", "internal (worker processes): run only cell K of the grid and write its raw result to --json"),
    ];

    /// <summary>Reads settings from parsed arguments.</summary>
    public static StudySettings From(SampleArgs a)
    {
        bool quick = a.Quick;
        var s = new StudySettings(
            Depths: Ints(a, "depths") ?? (quick ? [4, 8] : [16, 32, 64, 128]),
            LearningRates: Doubles(a, "lrs") ?? (quick ? [1e-3, 1e-2] : [1e-3, 3e-3, 1e-2]),
            Connections: Names(a) ?? StudyConnections.Default,
            Steps: a.GetPositiveInt("steps") ?? (quick ? 40 : 300),
            BatchSize: a.GetPositiveInt("batch") ?? (quick ? 32 : 64),
            Width: a.GetPositiveInt("width") ?? (quick ? 32 : 64),
            Streams: a.GetPositiveInt("streams") ?? 4,
            Seed: a.GetPositiveInt("seed") ?? 1,
            TargetLoss: Double(a, "target-loss") ?? (quick ? 1.5 : 0.5),
            GainEvery: a.GetPositiveInt("gain-every") ?? (quick ? 5 : 10),
            Threads: a.GetPositiveInt("threads") ?? 1,
            Workers: a.GetPositiveInt("workers") ?? (quick ? 1 : 2),
            EvalExamples: quick ? 500 : 2000,
            Quick: quick,
            PackageClaim: !a.Has("no-package-claim"),
            OutDirectory: a.OutDirectory ?? Path.Combine("out", "depth-study"),
            JsonPath: a.JsonPath,
            CellIndex: a.GetValue("cell") is { } k
                ? int.TryParse(k, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) && i >= 0 ? i : throw new ArgumentException($"--cell expects a cell index >= 0, got '{k}'.")
                : null);
        if (s.Depths.Any(d => d < 1)) throw new ArgumentException("--depths must list positive block counts.");
        if (s.LearningRates.Any(lr => !(lr > 0) || !double.IsFinite(lr))) throw new ArgumentException("--lrs must list positive learning rates.");
        if (s.Streams < 2) throw new ArgumentException("--streams must be at least 2 (HC and mHC need several streams).");
        if (!(s.TargetLoss > 0)) throw new ArgumentException("--target-loss must be positive.");
        if (s.Steps < 10) throw new ArgumentException("--steps must be at least 10 (the spike count needs a history).");
        if (s.CellIndex is { } cell && (s.JsonPath is null || cell >= s.Cells().Count))
            throw new ArgumentException($"--cell needs --json PATH and an index below the {s.Cells().Count} cells.");
        if (a.Connection is not null || a.Dataset is not null || a.BudgetMinutes is not null)
            throw new ArgumentException("DepthStudy uses --connections (a list) on MNIST digits with a fixed step count; --connection, --dataset and --budget-minutes do not apply.");
        return s;
    }

    /// <summary>The cells of the grid in run order: connection-major, then depth, then learning rate.</summary>
    public IReadOnlyList<CellKey> Cells() =>
        Connections.SelectMany(c => Depths.SelectMany(d => LearningRates.Select(lr => new CellKey(c, d, lr)))).ToList();

    /// <summary>The arguments that make a worker process run cell <paramref name="cell"/> of this study.</summary>
    public IReadOnlyList<string> CellArguments(int cell, string json)
    {
        var args = new List<string>
        {
            "--depths", string.Join(",", Depths), "--lrs", string.Join(",", LearningRates.Select(Invariant)),
            "--connections", string.Join(",", Connections), "--steps", Invariant(Steps), "--batch", Invariant(BatchSize),
            "--width", Invariant(Width), "--streams", Invariant(Streams), "--seed", Invariant(Seed),
            "--target-loss", Invariant(TargetLoss), "--gain-every", Invariant(GainEvery), "--threads", Invariant(Threads),
            "--cell", Invariant(cell), "--json", json, "--out", OutDirectory, "--no-package-claim",
        };
        if (Quick) args.Add("--quick");
        return args;
    }

    private static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Invariant(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static int[]? Ints(SampleArgs a, string name) => a.GetValue(name)?.Split(',').Select(t =>
        int.TryParse(t.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"--{name} expects comma-separated integers, got '{t}'.")).Distinct().ToArray();

    private static double[]? Doubles(SampleArgs a, string name) => a.GetValue(name)?.Split(',').Select(t =>
        double.TryParse(t.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new ArgumentException($"--{name} expects comma-separated numbers, got '{t}'.")).Distinct().ToArray();

    private static double? Double(SampleArgs a, string name) => a.GetValue(name) is { } t
        ? double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"--{name} expects a number, got '{t}'.")
        : null;

    private static string[]? Names(SampleArgs a)
    {
        var names = a.GetValue("connections")?.Split(',').Select(t => t.Trim().ToLowerInvariant()).Distinct().ToArray();
        foreach (var n in names ?? [])
            if (!StudyConnections.Known.ContainsKey(n))
                throw new ArgumentException($"Unknown connection '{n}' in --connections; known: {string.Join(", ", StudyConnections.Known.Keys)}.");
        return names;
    }
}

/// <summary>One cell of the grid.</summary>
public sealed record CellKey(string Connection, int Depth, double LearningRate);
