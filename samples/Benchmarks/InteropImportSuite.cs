using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mhc.Models.Layers;
using Mhc.Samples.Data;
using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Transforms;

namespace Benchmarks;

/// <summary>
/// The reverse of <see cref="InteropExportSuite"/>: a Hyper-ResNet trained in PyTorch by <c>interop/pytorch/train_ddp.py</c>
/// (in the folder given as <c>--out</c>) is loaded into an ML.NET pipeline with
/// <see cref="MhcImageClassificationTrainer.FromWeights"/> and scored with <c>MulticlassClassification.Evaluate</c> on the
/// same test digits PyTorch scored (<see cref="TestEvery"/>); both accuracies are printed.
/// </summary>
public sealed class InteropImportSuite : IBenchmarkSuite
{
    /// <summary>Digit i of each class file is a test digit when i % TestEvery == 0 (as <c>interop/pytorch/mnist_digits.py</c>).</summary>
    public const int TestEvery = 5;

    /// <summary>The report <c>train_ddp.py</c> writes beside the weights.</summary>
    public const string ReportFile = "pytorch_run.json";

    /// <inheritdoc />
    public string Name => "interop-import";

    /// <inheritdoc />
    public string Description => "scores the Hyper-ResNet interop/pytorch/train_ddp.py trained (--out DIR) with ML.NET Evaluate: PyTorch vs ML.NET accuracy";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        // Skipped rather than failed without --out, so that a run of all suites (the default) still completes.
        if (run.OutDirectory is not { } dir || !File.Exists(Path.Combine(dir, ReportFile)))
        {
            run.Log($"interop-import: skipped (no --out DIR holding the {ReportFile} of interop/pytorch/train_ddp.py)");
            return;
        }
        var report = PyTorchRun.Read(Path.Combine(dir, ReportFile));
        var ml = new MLContext(seed: 1);
        var rows = TestDigits(MnistDigits.Load());
        var data = ml.Data.LoadFromEnumerable(rows);
        // Keys by value, so that key k is digit k, the class index the PyTorch network was trained with.
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(data).Transform(data);
        var trainer = new MhcImageClassificationTrainer(ml, report.TrainerOptions());
        using var model = trainer.FromWeights(keyed.Schema, Path.Combine(dir, report.Weights));
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(keyed));

        run.Log($"PyTorch run: {report.WorldSize} process(es), {report.Epochs} epochs, {report.TrainSeconds:F1} s training ({report.TrainCpuSeconds:F1} CPU s)");
        run.Log($"PyTorch accuracy {report.PyTorchTestAccuracy:F4} ({Math.Round(report.PyTorchTestAccuracy * report.TestCount)} of {report.TestCount} test digits)");
        run.Log($"ML.NET  accuracy {metrics.MicroAccuracy:F4} ({Math.Round(metrics.MicroAccuracy * rows.Count)} of {rows.Count} test digits; MulticlassClassification.Evaluate, log-loss {metrics.LogLoss:F4})");
        if (rows.Count != report.TestCount)
            throw new InvalidOperationException($"The PyTorch run scored {report.TestCount} test digits; this split has {rows.Count}. Are both on the same data?");
        run.Add("interop_import_world_size", report.WorldSize);
        run.Add("interop_import_train_seconds", report.TrainSeconds);
        run.Add("interop_import_pytorch_accuracy", report.PyTorchTestAccuracy);
        run.Add("interop_import_mlnet_accuracy", metrics.MicroAccuracy);
        run.Add("interop_import_test_digits", rows.Count);
    }

    /// <summary>The test digits of the fixed split, labels as text.</summary>
    public static List<FirstTryQualitySuite.Digit> TestDigits(MnistDigits digits)
    {
        var test = new List<FirstTryQualitySuite.Digit>();
        foreach (var group in digits.Examples.GroupBy(e => e.Label).OrderBy(g => g.Key))
            test.AddRange(group.Where((_, i) => i % TestEvery == 0)
                .Select(e => new FirstTryQualitySuite.Digit { Pixels = e.Pixels, Label = e.Label.ToString(CultureInfo.InvariantCulture) }));
        return test;
    }

    /// <summary>The fields of <c>pytorch_run.json</c> this suite reads.</summary>
    public sealed record PyTorchRun(NetworkOptions Network, int WorldSize, int Epochs, double TrainSeconds, double? TrainCpuSeconds, int TestCount,
        [property: JsonPropertyName("pytorch_test_accuracy")] double PyTorchTestAccuracy, string Weights)
    {
        private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

        /// <summary>Reads the report; throws naming the file when it lacks the network.</summary>
        public static PyTorchRun Read(string path) =>
            JsonSerializer.Deserialize<PyTorchRun>(File.ReadAllText(path), Json) is { Network: not null, Weights: not null } r
                ? r : throw new InvalidDataException($"{path}: not a train_ddp.py report (no network or weights).");

        /// <summary>Trainer options describing the network PyTorch trained (the twin's keyword arguments).</summary>
        public MhcImageClassificationTrainer.Options TrainerOptions() => new()
        {
            LabelColumnName = "Label",
            FeatureColumnName = "Pixels",
            BaseWidth = Network.BaseWidth,
            StageDepths = Network.StageDepths,
            Mixing = new MixingSettings
            {
                Connection = Network.Connection switch
                {
                    "residual" => ConnectionKind.Residual,
                    "hc" => ConnectionKind.Hc,
                    "mhc" => ConnectionKind.Mhc,
                    var other => throw new InvalidDataException($"network.connection '{other}': expected residual, hc or mhc."),
                },
                ExpansionRate = Network.ExpansionRate,
            },
        };
    }

    /// <summary>The twin network's options as the report spells them.</summary>
    public sealed record NetworkOptions(int BaseWidth, int[] StageDepths, string Connection, int ExpansionRate, string Block);
}
