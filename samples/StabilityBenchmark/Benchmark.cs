using System.Diagnostics;
using System.Globalization;
using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace StabilityBenchmark;

/// <summary>
/// The stability benchmark of issue 3: the same deep random-init stack as residual, HC and mHC;
/// composite gains at init (library inits and a random-mixing probe) and after a short MNIST run; loss
/// and gradient-norm curves; step-time overhead over residual measured in the same run.
/// </summary>
public static class Benchmark
{
    private static readonly ConnectionKind[] Kinds = [ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc];

    /// <summary>Runs the benchmark with command-line <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        SampleArgs parsed;
        try
        {
            parsed = SampleArgs.Parse(args, BenchmarkSettings.ExtraOptions);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
        if (parsed.Help)
        {
            Console.WriteLine(parsed.Usage("StabilityBenchmark"));
            return 0;
        }
        if (parsed.Connection is not null || parsed.Dataset is not null || parsed.BudgetMinutes is not null)
        {
            Console.Error.WriteLine("StabilityBenchmark always compares residual, hc and mhc on MNIST digits; --connection, --dataset and --budget-minutes do not apply.");
            return 2;
        }
        BenchmarkSettings settings;
        try
        {
            settings = BenchmarkSettings.From(parsed);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        MhcEnvironment.EnsureTorch();
        MnistDigits digits;
        try
        {
            digits = MnistDigits.Load();
        }
        catch (Exception ex) when (ex is DataMissingException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine(ex.Message);
            return 3;
        }
        // Thread count is process-wide torch state: restore it so an in-process caller (a test host) is unaffected.
        int threads = torch.get_num_threads();
        torch.set_num_threads(settings.Threads);
        BenchmarkFigures figures;
        try
        {
            figures = Execute(settings, digits);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
        Report.Print(figures, settings);
        string chart = Chart.Save(figures, settings);
        Console.WriteLine($"chart: {chart}");
        if (settings.JsonPath is not null)
        {
            FiguresJson.Write(settings.JsonPath, figures.ToJson(settings, chart));
            Console.WriteLine($"figures: {Path.GetFullPath(settings.JsonPath)}");
        }
        return 0;
    }

    /// <summary>Builds the networks, probes gains, trains, and returns everything measured.</summary>
    public static BenchmarkFigures Execute(BenchmarkSettings s, MnistDigits digits)
    {
        var total = Stopwatch.StartNew();
        var (train, test) = digits.SplitPerClass(s.Seed);
        using var data = NewDisposeScope();
        var (trainX, trainY) = FlatDigits.ToTensors(train);
        var (testX, testY) = FlatDigits.ToTensors(test, s.EvalExamples);
        var probeBatch = testX.narrow(0, 0, Math.Min(256, testX.shape[0]));

        Console.WriteLine($"StabilityBenchmark: depth {s.Depth}, width {s.Width}, n = {s.Streams}, {s.Steps} steps of {s.BatchSize} " +
            $"MNIST digits ({train.Count} train / {testX.shape[0]} test), Adam lr {s.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
            $"{torch.get_num_threads()} torch threads{(s.Quick ? ", quick" : "")}");

        var contenders = Kinds.Select(k => new Contender(Build(k, s), s.LearningRate)).ToList();
        var atInit = contenders.ToDictionary(c => c.Kind, c => GainProbe.Measure(c.Model, probeBatch));

        // The random-mixing probe: fresh HC and mHC stacks with the same raw H_res parameters I + sigma G.
        var random = new Dictionary<ConnectionKind, GainFigures>();
        foreach (var kind in new[] { ConnectionKind.Hc, ConnectionKind.Mhc })
        {
            using var probeScope = NewDisposeScope();
            var probe = Build(kind, s);
            GainProbe.RandomizeResidualMixing(probe, s.MixingNoise, s.Seed + 1000);
            random[kind] = GainProbe.Measure(probe, probeBatch);
            probe.Dispose();
        }

        using (var progress = ProgressDisplay.Create("training residual / HC / mHC in lock-step", s.Steps))
            TrainingRace.Run(contenders, trainX, trainY, s.Steps, s.BatchSize, s.Seed, progress.Report);

        var trained = contenders.ToDictionary(c => c.Kind, c => GainProbe.Measure(c.Model, probeBatch));
        var results = contenders.Select(c =>
        {
            var (loss, accuracy) = DigitsEvaluation.Evaluate(c.Model, testX, testY);
            return new KindResult(c.Kind, atInit[c.Kind], random.GetValueOrDefault(c.Kind), trained[c.Kind],
                c.Loss.ToArray(), c.GradientNorm.ToArray(), Median(c.StepMilliseconds.Skip(s.WarmupSteps)), loss, accuracy, c.Diverged);
        }).ToList();
        foreach (var c in contenders) c.Model.Dispose();
        return new BenchmarkFigures(results, train.Count, (int)testX.shape[0], total.Elapsed.TotalSeconds);
    }

    private static DeepStack Build(ConnectionKind kind, BenchmarkSettings s) =>
        new(DeepStackConnection.For(kind, s.Streams), s.Depth, s.Width, s.Seed, MnistDigits.PixelCount, MnistDigits.ClassCount);

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
