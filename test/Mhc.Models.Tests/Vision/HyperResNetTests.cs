using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using Mhc.Models.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Vision;

public class HyperResNetTests
{
    [Theory]
    [InlineData(ConnectionKind.Mhc, ResNetBlockKind.Basic, true)]
    [InlineData(ConnectionKind.Hc, ResNetBlockKind.Basic, false)]
    [InlineData(ConnectionKind.Residual, ResNetBlockKind.Bottleneck, false)]
    public void Forward_ProducesLogits_AndBackwardWorks(ConnectionKind kind, ResNetBlockKind block, bool dynamic)
    {
        T.Init(13);
        using var scope = NewDisposeScope();
        var net = new HyperResNet(new HyperResNetOptions
        {
            InChannels = 1, NumClasses = 3, ImageHeight = 16, ImageWidth = 12, StageDepths = [1, 1], BaseWidth = 4,
            Block = block, Mixing = new() { Connection = kind, DynamicMixing = dynamic },
        });
        var x = randn(2, 1, 16, 12);
        var logits = net.forward(x);
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        logits.sum().backward();
        Assert.Equal(2, net.HyperConnections.Count);
    }

    [Fact]
    public void LargeStem_ForBigImages()
    {
        T.Init(14);
        using var scope = NewDisposeScope();
        var net = new HyperResNet(new HyperResNetOptions { InChannels = 3, NumClasses = 2, ImageHeight = 96, ImageWidth = 96, StageDepths = [1], BaseWidth = 4 });
        Assert.Equal(new long[] { 1, 2 }, net.forward(randn(1, 3, 96, 96)).shape);
    }

    [Fact]
    public void Diagnostics_CompositeGainOfMhcStaysNearOne()
    {
        T.Init(15);
        using var scope = NewDisposeScope();
        var net = new HyperResNet(new HyperResNetOptions { NumClasses = 2, ImageHeight = 8, ImageWidth = 8, StageDepths = [3, 3], BaseWidth = 4 });
        MixingDiagnostics.SetRecording(net.HyperConnections, true);
        net.forward(randn(2, 1, 8, 8));
        var d = MixingDiagnostics.Collect(net.HyperConnections);
        Assert.Equal(6, d.Layers.Count);
        Assert.InRange(d.CompositeForwardGain, 0.99, 1.01);
        Assert.InRange(d.CompositeBackwardGain, 0.9, 1.1);
    }

    [Fact]
    public void WrongInputShape_IsExplained()
    {
        T.Init();
        var net = new HyperResNet(new HyperResNetOptions { InChannels = 3, ImageHeight = 8, ImageWidth = 8, StageDepths = [1], BaseWidth = 4 });
        using var x = randn(2, 1, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => net.forward(x));
        Assert.Contains("(B, 3, H, W)", e.Message);
    }

    [Fact]
    public void SeededConstruction_IsReproducible()
    {
        float[] Build()
        {
            T.Init(42);
            var net = new HyperResNet(new HyperResNetOptions { ImageHeight = 8, ImageWidth = 8, StageDepths = [1], BaseWidth = 4 });
            return net.parameters().SelectMany(p => T.Values(p)).ToArray();
        }
        Assert.Equal(Build(), Build());
    }

    [Fact]
    public void TrunkIsAHyperSequential_WithTheBlockParameterNamesSavedModelsHave()
    {
        using var net = new HyperResNet(new HyperResNetOptions { StageDepths = [1, 1], BaseWidth = 4, Mixing = new() { ExpansionRate = 2 } });
        var names = net.named_parameters().Select(p => p.name).ToList();
        // Weights saved before the trunk was a HyperSequential hold blocks.0..., blocks.1... (a ModuleList of blocks).
        Assert.Contains("blocks.0.bias_res", names);
        Assert.Contains(names, n => n.StartsWith("blocks.1.branch.", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains("layers", StringComparison.Ordinal));
        Assert.Equal(2, net.HyperConnections.Count);
    }
}
