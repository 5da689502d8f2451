using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using Mhc.Samples.Data;

namespace OnnxServingSample;

/// <summary>One MNIST test digit as the exported model reads it.</summary>
public sealed class DigitRow
{
    /// <summary>784 pixels in 0..1, row by row: the ONNX input <c>features</c>.</summary>
    [ColumnName("features"), VectorType(MnistDigits.PixelCount)]
    public float[] Features { get; set; } = new float[MnistDigits.PixelCount];

    /// <summary>The digit as text ("0".."9"), as the training pipeline's label.</summary>
    public string Label { get; set; } = "";
}

/// <summary>Scores the MNIST test digits with the exported model through ApplyOnnxModel and compares with TorchSharp's figures.</summary>
public static class ServingRun
{
    /// <summary>The figures of one run (the keys of <c>--json</c>).</summary>
    public static Dictionary<string, object?> Score(string onnxPath, TorchReference reference)
    {
        var rows = TestDigits(reference);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        // The label's key order is the training pipeline's (order of first occurrence), which is the order of the
        // model's probability slots; keyData pins it.
        var keys = ml.Data.LoadFromEnumerable(reference.ClassNames.Select(n => new KeyRow { Value = n }));
        string[] classes = reference.ClassNames;
        // One intra-op thread: ApplyOnnxModel runs the session once per row, on nodes too small to share between
        // threads; ONNX Runtime's default (a spinning thread per core) was measured a third slower here (Benchmarks,
        // suite onnx-scoring).
        var onnx = new OnnxOptions
        {
            ModelFile = onnxPath, InputColumns = [reference.OnnxInput], OutputColumns = [reference.OnnxOutput],
            IntraOpNumThreads = 1, InterOpNumThreads = 1,
        };
        var pipeline = ml.Transforms.ApplyOnnxModel(onnx)
            .Append(ml.Transforms.CopyColumns("Score", reference.OnnxOutput))
            .Append(ml.Transforms.CustomMapping<ScoreRow, PredictedRow>((s, p) => p.PredictedName = classes[ArgMax(s.Score)], contractName: null))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys))
            .Append(ml.Transforms.Conversion.MapValueToKey("PredictedLabel", "PredictedName", keyData: keys));
        using var model = (IDisposable)pipeline.Fit(data);
        var transformer = (ITransformer)model;

        // Warm up (session creation, first run), then time one full pass.
        transformer.Transform(ml.Data.TakeRows(data, 8)).GetColumn<float[]>("Score").ToArray();
        var clock = Stopwatch.StartNew();
        var scored = transformer.Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        double rowsPerSecond = rows.Count / clock.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        double maxDiff = 0;
        for (int i = 0; i < scores.Length; i++)
            for (int k = 0; k < scores[i].Length; k++)
                maxDiff = Math.Max(maxDiff, Math.Abs(scores[i][k] - reference.TorchScores[i][k]));
        return new Dictionary<string, object?>
        {
            ["onnx_accuracy"] = metrics.MicroAccuracy,
            ["torch_accuracy"] = reference.TorchAccuracy,
            ["max_abs_diff"] = maxDiff,
            ["onnx_rows_per_second"] = rowsPerSecond,
            ["torch_rows_per_second"] = reference.TorchRowsPerSecond,
            ["onnx_batched_rows_per_second"] = BatchedOnnxScoring.RowsPerSecond(onnxPath, reference.OnnxInput, reference.OnnxOutput,
                rows.Select(r => r.Features).ToList(), MnistDigits.PixelCount),
            ["test_count"] = rows.Count,
        };
    }

    /// <summary>The test digits the training run scored, in its order: the per-class split, then (quick runs) the first of each class.</summary>
    private static List<DigitRow> TestDigits(TorchReference reference)
    {
        IReadOnlyList<ImageExample> test = MnistDigits.Load().SplitPerClass(reference.SplitSeed, reference.TrainFraction).Test;
        if (reference.TestPerClass is { } n) test = test.GroupBy(e => e.Label).SelectMany(g => g.Take(n)).ToList();
        if (test.Count != reference.TestCount)
            throw new InvalidDataException($"The MNIST test split has {test.Count} digits here but the training run scored {reference.TestCount}; is the data the same?");
        return test.Select(e => new DigitRow { Features = e.Pixels, Label = e.Label.ToString(CultureInfo.InvariantCulture) }).ToList();
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>Key data row; public for ML.NET's row binding.</summary>
    public sealed class KeyRow { public string Value { get; set; } = ""; }

    /// <summary>Custom mapping input; public for ML.NET's row binding.</summary>
    public sealed class ScoreRow { public float[] Score { get; set; } = []; }

    /// <summary>Custom mapping output; public for ML.NET's row binding.</summary>
    public sealed class PredictedRow { public string PredictedName { get; set; } = ""; }
}
