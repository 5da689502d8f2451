using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Models.Onnx;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>Layers and models the exporter cannot write fail with an error naming the layer and its type (or what the model lacks), and write nothing.</summary>
public sealed class OnnxExportErrorTests
{
    [Fact]
    public void Decoder_ThroughTheSingleInputWriter_PointsToTheDecoderWriter()
    {
        MhcEnvironment.EnsureTorch();
        using var decoder = new global::Mhc.Models.Transformers.HyperDecoderTransformer(new()
        {
            VocabSize = 5,
            ContextLength = 8,
            Transformer = new() { Dim = 8, Layers = 1, Heads = 2 },
        });
        using var stream = new MemoryStream();
        var error = Assert.Throws<NotSupportedException>(() => NetworkOnnxExport.Write(decoder, stream, [8]));
        Assert.Contains(typeof(global::Mhc.Models.Transformers.HyperDecoderTransformer).FullName!, error.Message);
        Assert.Contains(nameof(DecoderOnnxExport), error.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void UnknownLayerInsideATrunk_IsNamedByItsStateDictPath()
    {
        MhcEnvironment.EnsureTorch();
        var stack = new HyperSequential("trunk", 1, [new PerStream("odd", TorchSharp.torch.nn.GELU())]);
        var graph = new OnnxGraphBuilder("test");
        var error = Assert.Throws<NotSupportedException>(() =>
            new ModuleGraphExporter(graph, stack).Export(stack, "", graph.Input("x", 4)));
        Assert.Contains("'0.inner'", error.Message);
        Assert.Contains("GELU", error.Message);
    }

    [Fact]
    public void ExportToFile_LeavesNoFileWhenTheModelCannotBeExported()
    {
        MhcEnvironment.EnsureTorch();
        var dir = Directory.CreateTempSubdirectory("mhc-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "model.onnx");
            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(TestData.Bars(4, seed: 1));
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data);
            Assert.Throws<ArgumentException>(() => ml.Model.ExportToOnnx(model, path));
            Assert.Empty(dir.GetFiles("*", SearchOption.AllDirectories));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
