using Mhc.Models.Layers;
using System.Diagnostics;
using System.Globalization;
using Mhc.Models.Segmentation;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Progress;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Training;
using static SegmentationSample.SegmentationModel;

namespace SegmentationSample;

/// <summary>
/// Builds the M2NIST-style task from real MNIST digits (64x64 canvases, 1-3 non-overlapping digits, 11 classes,
/// train and test canvases from disjoint digits), trains the plain UNet and the Hyper-UNet through ML.NET side by
/// side, evaluates both on the test canvases, saves and reloads the Hyper-UNet, and reports the figures.
/// </summary>
public static class Sample
{
    private static readonly SampleOption[] Extra =
    [
        new("config", "PATH", "run config JSON (default: Segmentation.config.json next to the program)"),
        new("epochs", "N", "training epochs"),
        new("train", "N", "training canvases"),
        new("test", "N", "test canvases"),
        new("width", "N", "channels at full resolution"),
        new("streams", "N", "expansion rate n of HC/mHC"),
        new("threads", "N", "CPU threads for libtorch (0: all)"),
    ];

    /// <summary>Runs the sample and returns the process exit code (0 ok, 2 bad arguments, 3 data missing).</summary>
    public static int Run(string[] args) => SampleRunner.Run(args, "Segmentation", Extra, Configure, Execute);

    private static RunConfig Configure(SampleArgs a)
    {
        RunConfig config;
        if (a.GetValue("config") is { } path) config = RunConfig.Load(path);
        else if (a.Quick) config = RunConfig.QuickConfig();
        else
        {
            var defaultPath = Path.Combine(AppContext.BaseDirectory, "Segmentation.config.json");
            config = File.Exists(defaultPath) ? RunConfig.Load(defaultPath) : new RunConfig();
        }
        if (a.Dataset is { } dataset && !dataset.Equals("m2nist", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--dataset: only 'm2nist' (canvases built from MNIST digits) is available, got '{dataset}'.");
        if (a.Connection is { } connection)
            config.Connections = [connection.ToLowerInvariant() switch
            {
                "plain" or "residual" => ConnectionKind.Residual,
                "hc" => ConnectionKind.Hc,
                "mhc" => ConnectionKind.Mhc,
                _ => throw new ArgumentException($"--connection must be plain, hc or mhc, got '{connection}'."),
            }];
        if (a.BudgetMinutes is { } budget) config.BudgetMinutes = budget;
        if (a.GetPositiveInt("epochs") is { } epochs) config.MaxEpochs = epochs;
        if (a.GetPositiveInt("train") is { } train) config.TrainCanvases = train;
        if (a.GetPositiveInt("test") is { } test) config.TestCanvases = test;
        if (a.GetPositiveInt("width") is { } width) config.BaseWidth = width;
        if (a.GetPositiveInt("streams") is { } streams) config.ExpansionRate = streams;
        if (a.GetValue("threads") is { } t)
            config.Threads = int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int threads) && threads >= 0
                ? threads : throw new ArgumentException($"--threads expects 0 or a positive integer, got '{t}'.");
        if (config.Connections.Length == 0) throw new ArgumentException("The config lists no connection to train.");
        return config;
    }


    private static List<ModelInput> Rows(IReadOnlyList<SegmentationCanvas> canvases) =>
        canvases.Select(c => new ModelInput { Image = c.Image, Mask = c.Mask.Select(m => (uint)m).ToArray() }).ToList();

    private sealed record Result(ConnectionKind Connection, SegmentationMetrics Metrics, double TrainSeconds, int Epochs, uint[][] GridMasks,
        ITransformer Model, MhcSegmentationTransformer Segmenter);

    private static int Execute(SampleArgs a, RunConfig config)
    {
        var outDir = Path.GetFullPath(a.OutDirectory ?? "out");
        Directory.CreateDirectory(outDir);
        var mnist = MnistDigits.Load();
        var (trainCanvases, testCanvases) = M2NistCanvases.GenerateTrainTest(mnist, config.TrainCanvases, config.TestCanvases, config.Seed);
        var trainRows = Rows(trainCanvases);
        var testRows = Rows(testCanvases);
        Console.WriteLine($"mHC segmentation: M2NIST-style canvases from real MNIST digits, {trainRows.Count} train / {testRows.Count} test " +
            $"(disjoint digits), 64x64, {ClassNames.Length} classes; UNet depth {config.Depth}, width {config.BaseWidth}, " +
            $"{config.MaxEpochs} epochs; connections: {string.Join(", ", config.Connections)}");

        var mlContext = new MLContext(seed: config.Seed);
        var train = mlContext.Data.LoadFromEnumerable(trainRows);
        var test = mlContext.Data.LoadFromEnumerable(testRows);
        var gridRows = testRows.Take(config.GridRows).ToList();
        var results = new List<Result>();
        foreach (var connection in config.Connections)
        {
            var clock = Stopwatch.StartNew();
            long steps = (trainRows.Count + config.BatchSize - 1) / config.BatchSize * (long)config.MaxEpochs;
            var model = ConsoleProgress.Run($"training {connection}", steps, sink =>
                Train(mlContext, train, config, connection,
                    log: line => sink.Log($"  [{connection}] {line}"),
                    progress: p => sink.Report(p.CompletedSteps, $"epoch {p.Epoch}/{p.MaxEpochs}, loss {p.Loss:F3}")));
            double seconds = clock.Elapsed.TotalSeconds;
            var segmenter = (MhcSegmentationTransformer)model;
            var scored = model.Transform(test);
            var metrics = mlContext.Segmentation().Evaluate(scored, nameof(ModelInput.Mask), "PredictedMask", ClassNames.Length, ClassNames);
            var grid = model.Transform(mlContext.Data.LoadFromEnumerable(gridRows)).GetColumn<uint[]>("PredictedMask").ToArray();
            results.Add(new Result(connection, metrics, seconds, segmenter.TrainingHistory.Epochs.Count, grid, model, segmenter));
            Console.WriteLine($"{connection}: mIoU {metrics.MeanIoU:F4}, pixel accuracy {metrics.PixelAccuracy:F4}, trained in {seconds:F0} s");
            Console.WriteLine(metrics.ToString());
            if (segmenter.Network.UNet.HistorySkips.Count > 0)
                foreach (var skip in segmenter.Network.UNet.HistorySkips)
                    Console.WriteLine($"  {skip.GetName()}: alpha = [{string.Join(", ", skip.Weights().Select(w => w.ToString("F3", CultureInfo.InvariantCulture)))}], gate {skip.Gate:F3}");
        }

        // Save the primary model (the last trained), load it in a fresh context, and check the masks are identical.
        var primary = results[^1];
        var modelPath = Path.Combine(outDir, $"segmentation-{primary.Connection.ToString().ToLowerInvariant()}.zip");
        SaveModel(mlContext, primary.Model, train.Schema, modelPath);
        var fresh = new MLContext(seed: config.Seed);
        var engine = LoadPredictionEngine(fresh, modelPath);
        int reloadMismatches = 0;
        for (int i = 0; i < gridRows.Count; i++)
            if (!Predict(engine, gridRows[i].Image).SequenceEqual(primary.GridMasks[i])) reloadMismatches++;
        Console.WriteLine($"saved {modelPath}; reloaded in a fresh context: {(reloadMismatches == 0 ? "identical masks" : $"{reloadMismatches} masks differ")}");

        var gridPath = Path.Combine(outDir, "segmentation-grid.png");
        MaskGrid.Write(gridPath, ModelInput.Side, gridRows.Select(r => r.Image).ToList(),
            new List<IReadOnlyList<uint[]>> { gridRows.Select(r => r.Mask).ToList() }.Concat(results.Select(r => (IReadOnlyList<uint[]>)r.GridMasks)).ToList());
        Console.WriteLine($"wrote {gridPath} (columns: input | truth | {string.Join(" | ", results.Select(r => r.Connection))})");

        double peak = PeakMemory.PeakResidentMegabytes();
        var figures = new List<KeyValuePair<string, object?>>
        {
            new("miou", primary.Metrics.MeanIoU),
            new("pixel_accuracy", primary.Metrics.PixelAccuracy),
            new("mean_dice", primary.Metrics.MeanDice),
            new("frequency_weighted_iou", primary.Metrics.FrequencyWeightedIoU),
            new("train_seconds", primary.TrainSeconds),
            new("peak_memory_mb", peak),
            new("connection", primary.Connection.ToString().ToLowerInvariant()),
            new("epochs", primary.Epochs),
            new("train_canvases", trainRows.Count),
            new("test_canvases", testRows.Count),
            new("reload_identical", reloadMismatches == 0),
            new("quick", config.Quick),
            new("threads", TorchSharp.torch.get_num_threads()),
        };
        foreach (var r in results)
        {
            // The figure names predate the shared ConnectionKind, when the residual UNet was called "plain".
            var p = r.Connection == ConnectionKind.Residual ? "plain" : r.Connection.ToString().ToLowerInvariant();
            figures.Add(new($"{p}_miou", r.Metrics.MeanIoU));
            figures.Add(new($"{p}_pixel_accuracy", r.Metrics.PixelAccuracy));
            figures.Add(new($"{p}_train_seconds", r.TrainSeconds));
        }
        if (a.JsonPath is { } json) FiguresJson.Write(json, figures);
        config.Save(Path.Combine(outDir, "segmentation-run.config.json"));
        Console.WriteLine(string.Join(Environment.NewLine, figures.Select(f => $"  {f.Key} = {Format(f.Value)}")));
        foreach (var r in results) r.Segmenter.Dispose();
        return 0;
    }

    private static string Format(object? value) => value switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        null => "null",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
