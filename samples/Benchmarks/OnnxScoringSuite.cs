using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Onnx;

namespace Benchmarks;

/// <summary>
/// Scoring speed of the main job's MNIST classifier (Hyper-ResNet width 16, one block per stage in three stages,
/// mHC with n = 4 and per-sample dynamic mixing, 20 Sinkhorn rounds) in one process, interleaved on the same rows:
/// the TorchSharp transformer (batched), ML.NET's ApplyOnnxModel with its default session and with one intra-op
/// thread, and ONNX Runtime called directly per row and in batches (32 rows on one thread, 256 on the default session). The graph's node count (as exported and after
/// ONNX Runtime's optimisations) says where per-row time goes.
/// </summary>
/// <remarks>
/// The network is trained for one short epoch on random images: scoring time depends on the architecture only, not
/// on the weights or the pixel values (no data-dependent control flow), and the suite then needs no data set.
/// </remarks>
public sealed class OnnxScoringSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "onnx-scoring";

    /// <inheritdoc />
    public string Description => "rows/s of the main job's MNIST classifier: TorchSharp transformer vs ApplyOnnxModel (default, 1 thread) vs ONNX Runtime direct, interleaved";

    /// <summary>One image row; public for ML.NET's row binding.</summary>
    public sealed class Row
    {
        /// <summary>28 x 28 pixels in 0..1.</summary>
        [VectorType(784)] public float[] Pixels { get; set; } = [];

        /// <summary>The class, as text.</summary>
        public string Label { get; set; } = "";
    }

    /// <summary>The ONNX input column; public for ML.NET's row binding.</summary>
    public sealed class OnnxRow
    {
        /// <summary>The pixels under the exported model's input name.</summary>
        [ColumnName("features"), VectorType(784)] public float[] Features { get; set; } = [];
    }

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        int rows = run.Quick ? 200 : 2000, repeats = run.Quick ? 3 : 7;
        var random = new Random(1);
        Row NewRow(int i) => new() { Pixels = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray(), Label = (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var train = Enumerable.Range(0, 256).Select(NewRow).ToList();
        var test = Enumerable.Range(0, rows).Select(NewRow).ToList();

        var ml = new MLContext(seed: 1);
        var options = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = "Label", FeatureColumnName = "Pixels", ImageHeight = 28, ImageWidth = 28, Channels = 1,
            StageDepths = [1, 1, 1], BaseWidth = 16, ExpansionRate = 4, MaxEpochs = 1, BatchSize = 64, Seed = 1,
        };
        using var model = (IDisposable)ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.MhcImage(options))
            .Fit(ml.Data.LoadFromEnumerable(train));
        var transformer = (ITransformer)model;
        var dir = Directory.CreateTempSubdirectory("mhc-onnx-scoring-");
        try
        {
            var onnx = ml.Model.ExportToOnnx(transformer, Path.Combine(dir.FullName, "mnist.onnx"));
            Measure(run, ml, transformer, onnx, test, repeats, Path.Combine(dir.FullName, "optimized.onnx"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Measure(BenchmarkRun run, MLContext ml, ITransformer torch, string onnx, List<Row> test, int repeats, string optimizedPath)
    {
        var data = ml.Data.LoadFromEnumerable(test);
        var onnxData = ml.Data.LoadFromEnumerable(test.Select(r => new OnnxRow { Features = r.Pixels }));
        var pixels = test.Select(r => r.Pixels).ToList();
        using var applyDefault = (IDisposable)ml.Transforms.ApplyOnnxModel([MhcOnnxNames.Probabilities], [MhcOnnxNames.Features], onnx).Fit(onnxData);
        using var applyOneThread = (IDisposable)ml.Transforms.ApplyOnnxModel(new OnnxOptions
        {
            ModelFile = onnx, InputColumns = [MhcOnnxNames.Features], OutputColumns = [MhcOnnxNames.Probabilities],
            IntraOpNumThreads = 1, InterOpNumThreads = 1,
        }).Fit(onnxData);
        using var rowSession = new InferenceSession(onnx, OneThread(optimizedPath));
        using var batchSession = new InferenceSession(onnx);
        using var smallBatchSession = new InferenceSession(onnx, OneThread(null));

        void Score(object transformer, IDataView view, string column) => ((ITransformer)transformer).Transform(view).GetColumn<float[]>(column).ToArray();
        var medians = InterleavedTimer.MedianMilliseconds(
        [
            ("torchsharp_transformer", () => Score(torch, data, "Score")),
            ("apply_onnx_model", () => Score(applyDefault, onnxData, MhcOnnxNames.Probabilities)),
            ("apply_onnx_model_1_thread", () => Score(applyOneThread, onnxData, MhcOnnxNames.Probabilities)),
            ("onnx_runtime_per_row_1_thread", () => Direct(rowSession, pixels, 1)),
            ("onnx_runtime_batches_of_32_1_thread", () => Direct(smallBatchSession, pixels, 32)),
            ("onnx_runtime_batches_of_256", () => Direct(batchSession, pixels, 256)),
        ], warmup: 1, repeats);
        foreach (var (name, ms) in medians)
        {
            double perSecond = test.Count / (ms / 1000);
            run.Add($"onnx_scoring_{name}_rows_per_second", perSecond);
            run.Log($"onnx-scoring: {name,-32} {perSecond,8:F0} rows/s ({ms / test.Count * 1000:F0} us/row, median of {repeats})");
        }
        run.Add("onnx_scoring_rows", test.Count);
        var exported = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).Graph.Node;
        var optimized = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimizedPath)).Graph.Node;
        run.Add("onnx_scoring_graph_nodes", exported.Count);
        run.Add("onnx_scoring_optimized_graph_nodes", optimized.Count);
        run.Log($"onnx-scoring: graph nodes {exported.Count} as exported, {optimized.Count} after ONNX Runtime's optimisations; most frequent: " +
            string.Join(", ", optimized.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Take(6).Select(g => $"{g.Key} {g.Count()}")));
    }

    private static SessionOptions OneThread(string? optimizedPath)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (optimizedPath is not null) options.OptimizedModelFilePath = optimizedPath;
        return options;
    }

    private static void Direct(InferenceSession session, List<float[]> rows, int batch)
    {
        using var runOptions = new RunOptions();
        for (int start = 0; start < rows.Count; start += batch)
        {
            int count = Math.Min(batch, rows.Count - start);
            var data = new float[count * 784];
            for (int i = 0; i < count; i++) rows[start + i].CopyTo(data, i * 784);
            using var input = OrtValue.CreateTensorValueFromMemory(data, [count, 784]);
            using var outputs = session.Run(runOptions, [MhcOnnxNames.Features], [input], [MhcOnnxNames.Probabilities]);
        }
    }
}
