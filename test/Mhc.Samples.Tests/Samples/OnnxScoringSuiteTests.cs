using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The ONNX scoring benchmark in quick mode: every variant is timed, and the graph's node counts (as exported and
/// after ONNX Runtime's optimisations) are reported. It trains a network, so it runs with the other sample runs.
/// </summary>
[Collection(SampleRunCollection.Name)]
public class OnnxScoringSuiteTests
{
    [Fact]
    public void QuickRun_TimesEveryVariant()
    {
        using var dir = new TempDirectory();
        string json = dir.File("bench.json");

        Assert.Equal(0, Benchmarks.Program.Main(["--suite", "onnx-scoring", "--quick", "--json", json]));

        var f = FiguresJson.Read(json);
        foreach (var name in new[] { "torchsharp_transformer", "apply_onnx_model", "apply_onnx_model_1_thread", "onnx_runtime_per_row_1_thread", "onnx_runtime_batches_of_32_1_thread", "onnx_runtime_batches_of_256" })
            Assert.True(f[$"onnx_scoring_{name}_rows_per_second"].GetDouble() > 0, name);
        Assert.Equal(200, f["onnx_scoring_rows"].GetInt32());
        Assert.InRange(f["onnx_scoring_optimized_graph_nodes"].GetInt32(), 1, f["onnx_scoring_graph_nodes"].GetInt32());
    }
}
