using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Models.Onnx;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>Architectures the exporter does not know yet fail with an error naming the layer and its type, and write nothing.</summary>
public sealed class OnnxExportErrorTests
{
    [Fact]
    public void VisionTransformerClassifier_ThrowsNamingTheLayerAndType()
    {
        MhcEnvironment.EnsureTorch();
        var options = TestData.TinyOptions();
        options.Architecture = MhcImageArchitecture.VisionTransformer;
        options.PatchSize = 4;
        options.TransformerDim = 16;
        options.TransformerLayers = 1;
        options.TransformerHeads = 2;
        using var network = new ImageClassifierNetwork(MhcImageClassificationTrainer.CreateSpec(options, classes: 3));
        using var stream = new MemoryStream();
        var error = Assert.Throws<NotSupportedException>(() => MhcOnnx.Export(network, stream));
        Assert.Contains("'backbone'", error.Message);
        Assert.Contains(typeof(global::Mhc.Models.Transformers.HyperVisionTransformer).FullName!, error.Message);
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
    public void ExportToFile_LeavesNoFileWhenTheLayerIsUnsupported()
    {
        MhcEnvironment.EnsureTorch();
        var dir = Directory.CreateTempSubdirectory("mhc-onnx-");
        try
        {
            var path = Path.Combine(dir.FullName, "vit.onnx");
            var ml = new MLContext(seed: 1);
            var options = TestData.TinyOptions(epochs: 1);
            options.Architecture = MhcImageArchitecture.VisionTransformer;
            options.PatchSize = 4;
            options.TransformerDim = 16;
            options.TransformerLayers = 1;
            options.TransformerHeads = 2;
            var model = TestData.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(TestData.Bars(4, seed: 1)));
            Assert.Throws<NotSupportedException>(() => ml.Model.ExportToOnnx(model, path));
            Assert.Empty(dir.GetFiles("*", SearchOption.AllDirectories));
            Persistence.SavedNetworks.Release(model);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
