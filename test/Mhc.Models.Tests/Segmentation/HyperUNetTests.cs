using System.Text.Json;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Segmentation;

public class HyperUNetTests
{
    private static HyperUNetOptions Small(ConnectionKind kind, int depth = 2, int classes = 3) => new()
    {
        InChannels = 1, NumClasses = classes, Depth = depth, BaseWidth = 4, Mixing = new() { Connection = kind, ExpansionRate = 2 }, MaxHistory = 3,
    };

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Mhc)]
    public void Forward_GivesPerPixelLogits_ForNonSquareInputs(ConnectionKind kind)
    {
        T.Init(21);
        using var scope = NewDisposeScope();
        var net = new HyperUNet(Small(kind));
        Assert.Equal(new long[] { 2, 3, 8, 12 }, net.forward(randn(2, 1, 8, 12)).shape);
        Assert.Equal(new long[] { 1, 3, 16, 4 }, net.forward(randn(1, 1, 16, 4)).shape);
    }

    [Fact]
    public void SizeNotAMultipleOfTwoToTheDepth_IsExplained()
    {
        T.Init();
        var net = new HyperUNet(Small(ConnectionKind.Mhc, depth: 3));
        using var x = randn(1, 1, 16, 12);
        var e = Assert.Throws<ArgumentException>(() => net.forward(x));
        Assert.Contains("multiples of 8", e.Message);
        Assert.Contains("16x12", e.Message);
    }

    [Fact]
    public void WrongChannelsOrRank_IsExplained()
    {
        T.Init();
        var net = new HyperUNet(Small(ConnectionKind.Residual));
        using var rgb = randn(1, 3, 8, 8);
        Assert.Contains("(B, 1, H, W)", Assert.Throws<ArgumentException>(() => net.forward(rgb)).Message);
        using var flat = randn(1, 64);
        Assert.Contains("[1, 64]", Assert.Throws<ArgumentException>(() => net.forward(flat)).Message);
    }

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Mhc)]
    [InlineData(ConnectionKind.Hc)]
    public void Backward_ReachesEveryParameter(ConnectionKind kind)
    {
        T.Init(22);
        using var scope = NewDisposeScope();
        var net = new HyperUNet(Small(kind, depth: 3));
        var logits = net.forward(randn(2, 1, 16, 16));
        var target = randint(0, 3, [2, 16, 16]);
        functional.cross_entropy(logits, target).backward();
        foreach (var (name, p) in net.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            // A one-state window has a constant weight of 1 (softmax or Sinkhorn of one logit): nothing to learn.
            bool constant = name.EndsWith("mix_logits", StringComparison.Ordinal) && p.numel() == 1;
            // HC starts its dynamic weights Phi at zero (HC sec. 2.3), so its gates see no signal at step 0.
            bool hcGate = kind == ConnectionKind.Hc && name.EndsWith(".gates", StringComparison.Ordinal);
            if (!constant && !hcGate) Assert.True(p.grad!.abs().sum().ToDouble() > 0, $"{name} has a zero gradient");
        }
    }

    [Fact]
    public void ConnectionSwitch_ChangesSkipsAndBlocks()
    {
        T.Init();
        var plain = new HyperUNet(Small(ConnectionKind.Residual, depth: 3));
        Assert.Empty(plain.HistorySkips);
        Assert.All(plain.HyperConnections, h => Assert.Equal(ConnectionKind.Residual, h.Options.Mixing.Connection));
        Assert.Contains(plain.named_parameters(), p => p.name.StartsWith("fuse.", StringComparison.Ordinal));

        var mhc = new HyperUNet(Small(ConnectionKind.Mhc, depth: 3));
        Assert.Equal(new[] { 3, 2, 1 }, mhc.HistorySkips.Select(s => s.StateCount));   // levels 2, 1, 0
        Assert.All(mhc.HistorySkips, s => Assert.Equal(ConstraintKind.DoublyStochastic, s.Options.Constraint));
        Assert.All(mhc.HyperConnections, h => Assert.Equal((ConnectionKind.Mhc, 2), (h.Options.Mixing.Connection, h.Options.Streams)));
        Assert.DoesNotContain(mhc.named_parameters(), p => p.name.StartsWith("fuse.", StringComparison.Ordinal));
        // Level 2 mixes e0 (stride 4), e1 (stride 2) and e2 (as is).
        var strides = mhc.HistorySkips[0].Projections.Select(p => p is HistoryWindowSkipProjection q ? q.Downsample : 1L);
        Assert.Equal(new long[] { 4, 2, 1 }, strides);

        var hc = new HyperUNet(Small(ConnectionKind.Hc, depth: 3));
        Assert.All(hc.HistorySkips, s => Assert.Equal(ConstraintKind.None, s.Options.Constraint));
        Assert.All(hc.HyperConnections, h => Assert.Equal(ConnectionKind.Hc, h.Options.Mixing.Connection));
    }

    [Fact]
    public void SeededConstruction_IsReproducible()
    {
        float[] Run()
        {
            T.Init(42);
            var net = new HyperUNet(Small(ConnectionKind.Mhc));
            net.eval();
            using var x = randn(1, 1, 8, 8);
            return T.Values(net.forward(x));
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Options_RoundTripThroughJson()
    {
        var o = Small(ConnectionKind.Hc, depth: 4, classes: 11);
        o.Mixing = o.Mixing with { Constraint = ConstraintKind.IdentityPreservingSimplex };
        var back = JsonSerializer.Deserialize<HyperUNetOptions>(JsonSerializer.Serialize(o))!;
        Assert.Equal(JsonSerializer.Serialize(o), JsonSerializer.Serialize(back));
        Assert.Equal(ConnectionKind.Hc, back.Mixing.Connection);
        Assert.Equal(16, back.SizeMultiple);
    }

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Mhc)]
    public void LearnsAToySegmentation(ConnectionKind kind)
    {
        // Class = which quadrant-sized blob a pixel belongs to: needs context, not just the pixel value.
        T.Init(23);
        var net = new HyperUNet(Small(kind, depth: 2, classes: 3));
        var opt = optim.Adam(net.parameters(), 0.01);
        using var images = zeros(8, 1, 8, 8);
        using var masks = zeros(new long[] { 8, 8, 8 }, ScalarType.Int64);
        var rng = new Random(5);
        for (int i = 0; i < 8; i++)
        {
            int r = rng.Next(0, 5), c = rng.Next(0, 5), cls = 1 + (i % 2);
            using var noGrad = no_grad();
            images[i, 0, r..(r + 3), c..(c + 3)] = tensor(cls == 1 ? 1f : -1f);
            masks[i, r..(r + 3), c..(c + 3)] = tensor((long)cls);
        }
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = functional.cross_entropy(net.forward(images), masks);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.ToDouble();
            last = loss.ToDouble();
        }
        Assert.True(last < first * 0.3, $"{kind}: loss {first} -> {last}");
    }

    [Fact]
    public void EncoderAndDecoderAreHyperSequentialTrunks_WithTheBlockParameterNamesSavedModelsHave()
    {
        using var net = new HyperUNet(Small(ConnectionKind.Mhc, depth: 2));
        var names = net.named_parameters().Select(p => p.name).ToList();
        // Weights saved before the trunks hold encoder.k and decoder.k for the k-th block of each (depth + 1 and depth of them).
        Assert.Contains(names, n => n.StartsWith("encoder.2.branch.", StringComparison.Ordinal));
        Assert.Contains("decoder.1.bias_res", names);
        Assert.DoesNotContain(names, n => n.StartsWith("encoder.3.", StringComparison.Ordinal) || n.StartsWith("decoder.2.", StringComparison.Ordinal));
        Assert.Equal(5, net.HyperConnections.Count);
    }
}
