using System.Text.Json;
using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

public class HyperVisionTransformerTests
{
    private static HyperVisionTransformerOptions Small(ConnectionKind kind, double maskRatio = 0,
        VisionTransformerHead head = VisionTransformerHead.TokenGrid, PatchPositionEncoding positions = PatchPositionEncoding.Sinusoidal2D) => new()
    {
        InChannels = 1, NumClasses = 3, ImageHeight = 8, ImageWidth = 12, PatchSize = 4,
        Transformer = new() { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0 }, Mixing = new() { Connection = kind }, MaskRatio = maskRatio, Head = head, HeadGridSize = 2, Positions = positions,
    };

    [Theory]
    [InlineData(ConnectionKind.Residual, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D)]
    [InlineData(ConnectionKind.Hc, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D)]
    [InlineData(ConnectionKind.Mhc, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D)]
    [InlineData(ConnectionKind.Mhc, VisionTransformerHead.MeanPool, PatchPositionEncoding.Learned)]
    [InlineData(ConnectionKind.Mhc, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Learned)]
    [InlineData(ConnectionKind.Mhc, VisionTransformerHead.MeanPool, PatchPositionEncoding.Sinusoidal2D)]
    public void Forward_GivesLogits_AndGradientsReachEveryParameter(ConnectionKind kind, VisionTransformerHead head, PatchPositionEncoding positions)
    {
        T.Init(41);
        using var scope = NewDisposeScope();
        var net = new HyperVisionTransformer(Small(kind, head: head, positions: positions));
        var logits = net.forward(randn(2, 1, 8, 12));
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        nn.functional.cross_entropy(logits, tensor(new long[] { 0, 2 })).backward();
        foreach (var (name, p) in net.named_parameters())
        {
            // HC starts its dynamic projection at zero (HC sec. 2.3), so its gates get their first gradient after one step.
            if (kind == ConnectionKind.Hc && name.EndsWith("gates", StringComparison.Ordinal)) continue;
            Assert.True(T.Values(p.grad!).Any(v => v != 0), $"{name} has no gradient");
        }
        Assert.Equal(4, net.HyperConnections.Count);
        Assert.Equal(head == VisionTransformerHead.TokenGrid ? 16 * 2 * 2 : 16, net.Features(randn(2, 1, 8, 12)).shape[1]);
        var whole = Small(kind, head: head, positions: positions);
        whole.HeadGridSize = 0;
        Assert.Equal(head == VisionTransformerHead.TokenGrid ? 16 * 2 * 3 : 16, new HyperVisionTransformer(whole).Features(randn(2, 1, 8, 12)).shape[1]);
        Assert.Equal(positions == PatchPositionEncoding.Learned, net.named_parameters().Any(p => p.name == "position_embedding"));
    }

    [Fact]
    public void Weights_StartAtTheViTScale()
    {
        // The patch convolution kept libtorch's default init (std ~0.14 for 4x4 grey patches) and the tokens
        // drowned their positions; every weight now starts near N(0, 0.02^2) (see HyperVisionTransformer.md).
        T.Init(45);
        using var scope = NewDisposeScope();
        var options = Small(ConnectionKind.Mhc);
        options.Transformer = options.Transformer with { Dim = 64 };
        var net = new HyperVisionTransformer(options);
        foreach (var (name, p) in net.named_parameters().Where(p => p.parameter.dim() >= 2 && !p.name.Contains("phi") && !p.name.Contains("bias")))
            Assert.True(p.std().ToDouble() is > 0.014 and < 0.022, $"{name}: std {p.std().ToDouble():F4}");
        Assert.Equal(0, T.Values(T.Param(net, "patch_embedding.bias")).Max(Math.Abs));
    }
    [Theory]
    [InlineData(VisionTransformerHead.TokenGrid)]
    [InlineData(VisionTransformerHead.MeanPool)]
    public void MaskRatio_DropsPatchesInTrainingOnly(VisionTransformerHead head)
    {
        T.Init(42);
        using var scope = NewDisposeScope();
        var o = Small(ConnectionKind.Mhc, maskRatio: 0.5, head: head);
        Assert.Equal(6, o.Patches);
        Assert.Equal(3, o.KeptPatches);
        var net = new HyperVisionTransformer(o);
        var x = randn(4, 1, 8, 12);
        net.train();
        random.manual_seed(1);
        var t1 = net.forward(x);
        random.manual_seed(2);
        var t2 = net.forward(x);
        Assert.True(T.MaxAbsDiff(t1, t2) > 1e-5, "different patch subsets give different outputs");
        net.eval();
        random.manual_seed(1);
        var e1 = net.forward(x);
        random.manual_seed(2);
        var e2 = net.forward(x);
        Assert.True(T.MaxAbsDiff(e1, e2) < 1e-7, "evaluation uses every patch");
    }

    [Theory]
    [InlineData(PatchPositionEncoding.Learned)]
    [InlineData(PatchPositionEncoding.Sinusoidal2D)]
    public void PositionEmbeddings_MakePatchOrderMatter(PatchPositionEncoding positions)
    {
        // Without position embeddings a transformer with mean pooling ignores patch order; with them it must not.
        T.Init(43);
        using var scope = NewDisposeScope();
        var net = new HyperVisionTransformer(Small(ConnectionKind.Mhc, head: VisionTransformerHead.MeanPool, positions: positions));
        net.eval();
        var x = randn(1, 1, 8, 12);
        var shuffled = cat(new[] { x[.., .., .., 4..], x[.., .., .., ..4] }, 3);
        Assert.True(T.MaxAbsDiff(net.Features(x), net.Features(shuffled)) > 1e-4);
        // Sanity of the test itself: the same patches in the same order give the same features.
        Assert.True(T.MaxAbsDiff(net.Features(x), net.Features(x.clone())) < 1e-6);
    }

    [Fact]
    public void MhcDiagnostics_StayNearOne()
    {
        T.Init(44);
        using var scope = NewDisposeScope();
        var net = new HyperVisionTransformer(Small(ConnectionKind.Mhc));
        MixingDiagnostics.SetRecording(net.HyperConnections, true);
        net.forward(randn(2, 1, 8, 12));
        var d = MixingDiagnostics.Collect(net.HyperConnections);
        Assert.InRange(d.CompositeForwardGain, 0.99, 1.01);
    }

    [Fact]
    public void BadInputs_AreExplained()
    {
        T.Init();
        using var scope = NewDisposeScope();
        var net = new HyperVisionTransformer(Small(ConnectionKind.Mhc));
        Assert.Contains("(B, 1, 8, 12)", Assert.Throws<ArgumentException>(() => net.forward(randn(2, 1, 8, 8))).Message);
        var bad = Small(ConnectionKind.Mhc);
        bad.PatchSize = 5;
        Assert.Contains("whole number of 5x5 patches", Assert.Throws<ArgumentException>(() => new HyperVisionTransformer(bad)).Message);
        bad = Small(ConnectionKind.Mhc, maskRatio: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperVisionTransformer(bad));
        bad = Small(ConnectionKind.Mhc);
        bad.Transformer = bad.Transformer with { Dim = 18, Heads = 3 };
        Assert.Contains("divisible by 4", Assert.Throws<ArgumentException>(() => new HyperVisionTransformer(bad)).Message);
        bad.Positions = PatchPositionEncoding.Learned;
        _ = new HyperVisionTransformer(bad);
        bad = Small(ConnectionKind.Mhc);
        bad.HeadGridSize = 3;
        Assert.Contains("2x3 patch grid", Assert.Throws<ArgumentOutOfRangeException>(() => new HyperVisionTransformer(bad)).Message);
        var back = JsonSerializer.Deserialize<HyperVisionTransformerOptions>(JsonSerializer.Serialize(Small(ConnectionKind.Hc, 0.25)))!;
        Assert.Equal(0.25, back.MaskRatio);
        Assert.Equal(ConnectionKind.Hc, back.Mixing.Connection);
    }
}
