using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mhc.Models.Layers;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Progress;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Plots;
using Microsoft.ML.Mhc.Training;
using Spectre.Console;
using static ImageClassificationSample.ImageClassificationModel;

namespace ImageClassificationSample;

/// <summary>
/// Trains an mHC Hyper-ResNet or vision transformer on real MNIST digits (seeded per-class 80/20 split) or Fashion-MNIST (official
/// 60k/10k split) through ML.NET, evaluates it, saves and reloads it, and reports the figures.
/// </summary>
public static class Sample
{
    private static readonly SampleOption[] Extra =
    [
        new("architecture", "X", "resnet (Hyper-ResNet, default) or vit (vision transformer, the reference's MNIST configuration)"),
        new("epochs", "N", "training epochs (default: per data set and architecture)"),
        new("width", "N", "channels of the first Hyper-ResNet stage"),
        new("threads", "N", "CPU threads for libtorch (default: all)"),
        new("streams", "N", "expansion rate n of HC/mHC (default 4; vit: 2)"),
        new("recipe", "X", "vit only: library (default: 60 epochs of warmup + cosine from 1e-3, clipping, label smoothing 0.1, random rotation/zoom/shift) or reference (the reference's constant 3e-4, no augmentation, 20 epochs)"),
        new("rotate", "DEG", "augmentation: random rotation up to +-DEG degrees (with --zoom: one affine warp per image that also does the shift)"),
        new("zoom", "S", "augmentation: random zoom by a factor in [1-S, 1+S]"),
        new("shift", "N", "augmentation: random shift up to N pixels (0: none)"),
        new("smoothing", "S", "label smoothing of the loss, in [0, 1)"),
        new("onnx", "PATH", "after training, export the classifier to ONNX at PATH (and PATH.torch.json, the TorchSharp scores samples/OnnxServing compares with)"),
        new("importance", "N", "after training, permutation feature importance of every pixel on N test images, as a heat map PNG (slow: one scoring pass per pixel)"),
    ];

    /// <summary>Runs the sample and returns the process exit code (0 ok, 2 bad arguments, 3 data missing).</summary>
    public static int Run(string[] args) => SampleRunner.Run(args, "ImageClassification", Extra, Configure, Execute);

    /// <summary>The run configuration that <paramref name="args"/> select, without running anything.</summary>
    public static RunConfig Configure(IReadOnlyList<string> args) => Configure(SampleArgs.Parse(args, Extra));

    private static RunConfig Configure(SampleArgs a)
    {
        var dataset = (a.Dataset ?? MnistDigits.DatasetName).ToLowerInvariant();
        if (dataset != MnistDigits.DatasetName && dataset != FashionMnist.DatasetName)
            throw new ArgumentException($"--dataset must be '{MnistDigits.DatasetName}' or '{FashionMnist.DatasetName}', got '{a.Dataset}'.");
        var architecture = (a.GetValue("architecture") ?? "resnet").ToLowerInvariant() switch
        {
            "resnet" => MhcImageArchitecture.HyperResNet,
            "vit" => MhcImageArchitecture.VisionTransformer,
            var other => throw new ArgumentException($"--architecture must be resnet or vit, got '{other}'."),
        };
        var config = RunConfig.For(dataset, a.Quick, architecture);
        config.Connection = (a.Connection ?? "mhc").ToLowerInvariant() switch
        {
            "residual" => ConnectionKind.Residual,
            "hc" => ConnectionKind.Hc,
            "mhc" => ConnectionKind.Mhc,
            _ => throw new ArgumentException($"--connection must be residual, hc or mhc, got '{a.Connection}'."),
        };
        switch (a.GetValue("recipe")?.ToLowerInvariant())
        {
            // The library's recipe is the vision transformer's default because the reference's training settings stop
            // at 95.7 % on this split; both train the reference's network (README, HyperVisionTransformer.md).
            case null or "library" when architecture == MhcImageArchitecture.VisionTransformer: config.UseLibraryRecipe(); break;
            case null: break;
            case "reference" when architecture == MhcImageArchitecture.VisionTransformer: break;
            case "reference" or "library": throw new ArgumentException("--recipe applies to --architecture vit; the Hyper-ResNet's defaults are already the library's recipe.");
            case var other: throw new ArgumentException($"--recipe must be reference or library, got '{other}'.");
        }
        // Explicit options below override the recipe's.
        if (a.BudgetMinutes is { } budget) config.BudgetMinutes = budget;
        if (a.GetPositiveInt("epochs") is { } epochs) config.MaxEpochs = epochs;
        if (a.GetPositiveInt("width") is { } width)
        {
            if (architecture == MhcImageArchitecture.VisionTransformer) throw new ArgumentException("--width sets the Hyper-ResNet's first stage; the vision transformer has no such width.");
            config.BaseWidth = width;
        }
        if (a.GetPositiveInt("threads") is { } threads) config.Threads = threads;
        if (a.GetPositiveInt("streams") is { } streams) config.ExpansionRate = streams;
        if (GetDouble(a, "rotate") is { } rotate) config.AugmentRotationDegrees = rotate;
        if (GetDouble(a, "zoom") is { } zoom) config.AugmentScale = zoom;
        if (GetDouble(a, "shift") is { } shift) config.AugmentShiftPixels = (int)shift == shift && shift >= 0 ? (int)shift : throw new ArgumentException($"--shift must be a whole number of pixels, got {shift}.");
        if (GetDouble(a, "smoothing") is { } smoothing) config.LabelSmoothing = smoothing;
        return config;
    }

    private static double? GetDouble(SampleArgs a, string name) =>
        a.GetValue(name) is not { } text ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value
        : throw new ArgumentException($"--{name} must be a number of zero or more, got '{text}'.");


    // Test images per class in --quick runs (samples/OnnxServing takes the same ones).
    private const int QuickTestPerClass = 15;

    private static (List<ModelInput> Train, List<ModelInput> Test) LoadData(RunConfig config)
    {
        IReadOnlyList<ImageExample> train, test;
        Func<int, string> name;
        if (config.Dataset == MnistDigits.DatasetName)
        {
            (train, test) = MnistDigits.Load().SplitPerClass(seed: 1, trainFraction: 0.8);
            name = l => l.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var fashion = FashionMnist.Load();
            (train, test) = (fashion.Train, fashion.Test);
            name = l => FashionMnist.ClassNames[l];
        }
        if (config.Quick)
        {
            train = PerClass(train, 50);
            test = PerClass(test, QuickTestPerClass);
        }
        static IReadOnlyList<ImageExample> PerClass(IReadOnlyList<ImageExample> all, int n) =>
            all.GroupBy(e => e.Label).SelectMany(g => g.Take(n)).ToList();
        List<ModelInput> Convert(IReadOnlyList<ImageExample> xs) => xs.Select(e => new ModelInput { Pixels = e.Pixels, Label = name(e.Label) }).ToList();
        return (Convert(train), Convert(test));
    }

    private static int Execute(SampleArgs a, RunConfig config)
    {
        var outDir = Path.GetFullPath(a.OutDirectory ?? "out");
        Directory.CreateDirectory(outDir);
        var (trainRows, testRows) = LoadData(config);
        config.TrainCount = trainRows.Count;
        config.TestCount = testRows.Count;
        bool vit = config.Architecture == MhcImageArchitecture.VisionTransformer;
        var tag = $"{config.Dataset}-{(vit ? "vit-" : "")}{config.Connection.ToString().ToLowerInvariant()}";
        var network = vit
            ? $"vision transformer {config.PatchSize}x{config.PatchSize} patches, dim {config.TransformerDim}, {config.TransformerLayers} blocks x {config.TransformerHeads} heads"
            : $"Hyper-ResNet width {config.BaseWidth} depths [{string.Join(",", config.StageDepths)}]";
        AnsiConsole.MarkupLine($"[bold]mHC image classification[/]: {config.Dataset}, {trainRows.Count} train / {testRows.Count} test, " +
            Markup.Escape($"{network}, {config.Connection} n={config.ExpansionRate}, {config.MaxEpochs} epochs"));

        var mlContext = new MLContext(seed: config.Seed);
        var train = mlContext.Data.LoadFromEnumerable(trainRows);
        var test = mlContext.Data.LoadFromEnumerable(testRows);

        var reports = new List<MhcEpochReport>();
        var rssPerEpoch = new List<double>();
        long stepsPerEpoch = (trainRows.Count + config.BatchSize - 1) / config.BatchSize;
        var clock = Stopwatch.StartNew();
        var model = ConsoleProgress.Run($"training {tag}", stepsPerEpoch * config.MaxEpochs, sink =>
            Train(mlContext, train, config, test,
                progress: p => sink.Report(p.CompletedSteps, $"epoch {p.Epoch}/{p.MaxEpochs}, loss {p.Loss:F3}"),
                log: sink.Log,
                epochs: r =>
                {
                    reports.Add(r);
                    rssPerEpoch.Add(PeakMemory.ResidentMegabytes());
                    sink.Log($"resident memory after epoch {r.Epoch}: {rssPerEpoch[^1]:F0} MiB");
                }));
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var classifier = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();
        double stepSeconds = reports.Sum(r => r.TrainSeconds);
        double trainSamplesPerSecond = reports.Count * (double)trainRows.Count / Math.Max(stepSeconds, 1e-9);

        // In-memory scoring (batched) and the ML.NET metrics.
        clock.Restart();
        var inMemoryScores = model.Transform(test).GetColumn<float[]>("Score").ToArray();
        double scoreInMemory = testRows.Count / clock.Elapsed.TotalSeconds;
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));

        // Save, reload in a fresh context (stock ML.NET transforms only), score again.
        var modelPath = Path.Combine(outDir, "ImageClassification.mlnet.zip");
        SaveModel(mlContext, model, train.Schema, modelPath);
        var freshContext = new MLContext();
        var reloaded = MhcModelFile.Load(freshContext, modelPath, out _);
        var freshTest = freshContext.Data.LoadFromEnumerable(testRows);
        clock.Restart();
        var reloadedScores = reloaded.Transform(freshTest).GetColumn<float[]>("Score").ToArray();
        double scoreReloaded = testRows.Count / clock.Elapsed.TotalSeconds;
        double maxDiff = 0;
        for (int i = 0; i < inMemoryScores.Length; i++)
            for (int k = 0; k < inMemoryScores[i].Length; k++)
                maxDiff = Math.Max(maxDiff, Math.Abs(inMemoryScores[i][k] - reloadedScores[i][k]));

        // Consumption code, as an app would use it.
        MLNetModelPath = modelPath;
        var example = testRows[0];
        var prediction = Predict(new ModelInput { Pixels = example.Pixels });

        string? onnxPath = null;
        if (a.GetValue("onnx") is { } onnx)
        {
            onnxPath = OnnxHandoff.Write(mlContext, model, classifier, onnx, config, config.Quick ? QuickTestPerClass : (int?)null,
                metrics.MicroAccuracy, scoreInMemory, inMemoryScores);
            AnsiConsole.MarkupLine($"ONNX model: {Markup.Escape(onnxPath)} (TorchSharp reference: {Markup.Escape(onnxPath + OnnxHandoff.ReferenceSuffix)})");
        }

        PrintMetrics(metrics, config, trainSeconds, trainSamplesPerSecond, scoreInMemory, scoreReloaded, maxDiff, classifier);
        AnsiConsole.MarkupLine($"consumption: Predict(first test image, label {Markup.Escape(example.Label)}) = [bold]{Markup.Escape(prediction.PredictedLabel)}[/] " +
            $"(p = {prediction.Score.Max():F3})");

        var curvePath = MhcPlots.SaveTrainingCurves(
            reports.Select(r => new TrainingCurvePoint(r.Epoch, r.TrainLoss, r.ValidationLoss,
                r.TrainMetrics.GetValueOrDefault("accuracy"), r.ValidationMetrics.TryGetValue("accuracy", out var v) ? v : null)).ToList(),
            Path.Combine(outDir, $"training-curve-{tag}.png"), "Accuracy", $"mHC image classification: {config.Dataset}, {config.Connection}");
        var importance = a.GetPositiveInt("importance") is { } importanceRows
            ? PixelImportance(mlContext, model, classifier, test, importanceRows, outDir, tag)
            : [];
        var configPath = Path.Combine(outDir, "ImageClassification.mbconfig.json");
        WriteRunConfig(configPath, config, metrics, trainSeconds, reports, modelPath);

        var figures = new Dictionary<string, object?>
        {
            ["dataset"] = config.Dataset,
            ["connection"] = config.Connection.ToString().ToLowerInvariant(),
            ["quick"] = config.Quick,
            ["accuracy"] = metrics.MicroAccuracy,
            ["macro_accuracy"] = metrics.MacroAccuracy,
            ["log_loss"] = metrics.LogLoss,
            ["train_seconds"] = trainSeconds,
            ["train_samples_per_second"] = trainSamplesPerSecond,
            ["score_samples_per_second_in_memory"] = scoreInMemory,
            ["score_samples_per_second_reloaded"] = scoreReloaded,
            ["reload_max_score_diff"] = maxDiff,
            ["peak_memory_mb"] = PeakMemory.PeakResidentMegabytes(),
            ["rss_mb_per_epoch"] = rssPerEpoch,
            // The flat-memory check: growth of the resident set from the end of epoch 2 to the end of the last epoch.
            ["rss_growth_epoch_2_to_last"] = rssPerEpoch.Count >= 2 ? rssPerEpoch[^1] / rssPerEpoch[1] - 1 : (double?)null,
            ["epochs"] = reports.Count,
            ["train_count"] = trainRows.Count,
            ["test_count"] = testRows.Count,
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["parameters"] = classifier.Network.parameters().Sum(p => p.numel()),
            ["base_width"] = vit ? null : config.BaseWidth,
            ["expansion_rate"] = config.ExpansionRate,
            ["final_train_loss"] = reports[^1].TrainLoss,
            ["max_layer_forward_gain"] = classifier.Diagnostics?.MaxLayerForwardGain,
            ["composite_forward_gain"] = classifier.Diagnostics?.CompositeForwardGain,
            ["max_layer_backward_gain"] = classifier.Diagnostics?.MaxLayerBackwardGain,
            ["composite_backward_gain"] = classifier.Diagnostics?.CompositeBackwardGain,
            ["model_path"] = modelPath,
            ["curve_png"] = curvePath,
            ["run_config"] = configPath,
            ["onnx_path"] = onnxPath,
        };
        foreach (var (name, value) in importance) figures[name] = value;
        if (a.JsonPath is { } json)
        {
            FiguresJson.Write(json, figures);
            AnsiConsole.MarkupLine($"figures: {Markup.Escape(Path.GetFullPath(json))}");
        }
        classifier.Dispose();
        return 0;
    }

    /// <summary>
    /// ML.NET's permutation feature importance of every pixel on <paramref name="rows"/> shuffled test images: the
    /// increase of the log-loss when one pixel is permuted across the images (a single pixel rarely flips a prediction,
    /// so the accuracy change is mostly zero), drawn as a heat map.
    /// </summary>
    private static List<(string Name, object? Value)> PixelImportance(MLContext mlContext, ITransformer model,
        MhcImageClassificationTransformer classifier, IDataView test, int rows, string outDir, string tag)
    {
        var clock = Stopwatch.StartNew();
        // The data the classifier sees: the test images after the pipeline's own label mapping.
        var labelMapping = ((IEnumerable<ITransformer>)model).First();
        var sample = mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(test, seed: 1), rows);
        AnsiConsole.MarkupLine($"pixel importance: permuting each of the 784 pixels over {rows} test images...");
        var pfi = mlContext.MulticlassClassification.PermutationFeatureImportance(classifier, labelMapping.Transform(sample));
        var increase = pfi.Select(p => p.LogLoss.Mean).ToArray();
        var path = MhcPlots.SavePixelHeatmap(increase, 28, 28, Path.Combine(outDir, $"pixel-importance-{tag}.png"),
            $"Log-loss increase when a pixel is permuted ({rows} images)");
        int top = Array.IndexOf(increase, increase.Max());
        AnsiConsole.MarkupLine($"pixel importance ({rows} test images, {clock.Elapsed.TotalSeconds:F0} s): most important pixel " +
            $"row {top / 28}, column {top % 28} (log-loss +{increase[top]:F4}); heat map {Markup.Escape(path)}");
        return [("importance_png", path), ("importance_rows", rows), ("importance_seconds", clock.Elapsed.TotalSeconds),
            ("importance_max_log_loss_increase", increase[top])];
    }

    private static void PrintMetrics(MulticlassClassificationMetrics m, RunConfig config, double trainSeconds, double trainRate,
        double scoreInMemory, double scoreReloaded, double maxDiff, MhcImageClassificationTransformer classifier)
    {
        var table = new Table().Title($"ML.NET multiclass metrics ({Markup.Escape(config.Dataset)} test set, {config.TestCount} images)")
            .AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("MicroAccuracy", m.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture));
        Row("MacroAccuracy", m.MacroAccuracy.ToString("P2", CultureInfo.InvariantCulture));
        Row("LogLoss", m.LogLoss.ToString("F4", CultureInfo.InvariantCulture));
        Row("LogLossReduction", m.LogLossReduction.ToString("F4", CultureInfo.InvariantCulture));
        Row("training time", $"{trainSeconds:F1} s ({trainRate:F0} samples/s, {TorchSharp.torch.get_num_threads()} threads)");
        Row("scoring in memory (batched)", $"{scoreInMemory:F0} samples/s");
        Row("scoring after reload (per row)", $"{scoreReloaded:F0} samples/s");
        Row("max |score diff| after reload", maxDiff.ToString("E2", CultureInfo.InvariantCulture));
        if (classifier.Diagnostics is { Layers.Count: > 0 } d)
            Row("H_res gain fwd / bwd (max layer; composite)",
                $"{d.MaxLayerForwardGain:F3} / {d.MaxLayerBackwardGain:F3}; {d.CompositeForwardGain:F3} / {d.CompositeBackwardGain:F3}");
        Row("peak memory", $"{PeakMemory.PeakResidentMegabytes():F0} MiB");
        AnsiConsole.Write(table);
        Console.WriteLine(m.ConfusionMatrix.GetFormattedConfusionTable());
    }

    private static void WriteRunConfig(string path, RunConfig config, MulticlassClassificationMetrics metrics, double seconds,
        IReadOnlyList<MhcEpochReport> reports, string modelPath)
    {
        // Shaped after Model Builder's .mbconfig: scenario, data source, environment, training option, run history.
        var document = new
        {
            Scenario = "ImageClassification",
            DataSource = new { Type = "Dataset", Name = config.Dataset, config.TrainCount, config.TestCount, LabelColumnName = "Label", FeatureColumnName = "Pixels" },
            Environment = new { Type = "LocalCPU", Threads = TorchSharp.torch.get_num_threads() },
            TrainingOption = config,
            RunHistory = new
            {
                Trials = new[]
                {
                    new
                    {
                        TrainerName = "MhcImage",
                        Score = metrics.MicroAccuracy,
                        MetricName = "MicroAccuracy",
                        RuntimeInSeconds = seconds,
                        Epochs = reports.Select(r => new { r.Epoch, r.TrainLoss, r.ValidationLoss, Accuracy = r.ValidationMetrics.GetValueOrDefault("accuracy"), r.SamplesPerSecond }),
                    },
                },
            },
            ModelPath = modelPath,
        };
        var options = new JsonSerializerOptions { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };
        File.WriteAllText(path, JsonSerializer.Serialize(document, options));
    }
}
