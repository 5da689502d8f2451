using Mhc.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Layers;

public class HyperConnectionTests
{
    private static HyperConnectionOptions Opts(int dim, ConnectionKind kind, int n = 4, bool dynamic = true,
        StreamFeatureLayout layout = StreamFeatureLayout.ChannelsLast, int layer = 0) =>
        new() { Dim = dim, Mixing = new() { Connection = kind, ExpansionRate = n, DynamicMixing = dynamic }, Layout = layout, LayerIndex = layer };

    [Theory]
    [InlineData(ConnectionKind.Mhc, true)]
    [InlineData(ConnectionKind.Mhc, false)]
    [InlineData(ConnectionKind.Hc, true)]
    [InlineData(ConnectionKind.Hc, false)]
    [InlineData(ConnectionKind.Residual, false)]
    public void Shapes_Vector_Sequence_Spatial(ConnectionKind kind, bool dynamic)
    {
        T.Init(7);
        using var scope = NewDisposeScope();
        int n = kind == ConnectionKind.Residual ? 1 : 4;
        var vec = new HyperConnection("v", Linear(8, 8), Opts(8, kind, 4, dynamic));
        Assert.Equal(new long[] { 3, n, 8 }, vec.forward(randn(3, n, 8)).shape);

        var seq = new HyperConnection("s", Linear(8, 8), Opts(8, kind, 4, dynamic));
        Assert.Equal(new long[] { 2, n, 5, 8 }, seq.forward(randn(2, n, 5, 8)).shape);

        var conv = new HyperConnection("c", Conv2d(6, 6, 3, padding: 1), Opts(6, kind, 4, dynamic, StreamFeatureLayout.ChannelsFirst));
        Assert.Equal(new long[] { 2, n, 6, 7, 5 }, conv.forward(randn(new long[] { 2, n, 6, 7, 5 })).shape);

        // A transition that changes channels and resolution, with a projection on every stream.
        var down = new HyperConnection("d", Conv2d(6, 12, 3, stride: 2, padding: 1),
            Opts(6, kind, 4, dynamic, StreamFeatureLayout.ChannelsFirst), Conv2d(6, 12, 1, stride: 2));
        Assert.Equal(new long[] { 2, n, 12, 4, 3 }, down.forward(randn(new long[] { 2, n, 6, 7, 5 })).shape);
    }

    [Theory]
    [InlineData(ConnectionKind.Mhc)]
    [InlineData(ConnectionKind.Hc)]
    public void PerSampleGranularity_SharesMixingAcrossPixels(ConnectionKind kind)
    {
        T.Init(17);
        using var scope = NewDisposeScope();
        var o = Opts(6, kind, 4, true, StreamFeatureLayout.ChannelsFirst);
        o.Granularity = DynamicGranularity.PerSample;
        var hc = new HyperConnection("ps", Conv2d(6, 6, 3, padding: 1), o) { RecordDiagnostics = true };
        var x = randn(new long[] { 2, 4, 6, 5, 5 });
        Assert.Equal(x.shape, hc.forward(x).shape);
        var down = new HyperConnection("psd", Conv2d(6, 12, 3, stride: 2, padding: 1), o, Conv2d(6, 12, 1, stride: 2));
        Assert.Equal(new long[] { 2, 4, 12, 3, 3 }, down.forward(x).shape);
        // With equal streams the per-sample and per-token forms agree at init up to the tiny dynamic part.
        var same = new StreamExpand(4).forward(randn(2, 6, 5, 5));
        var tokenWise = new HyperConnection("pt", Conv2d(6, 6, 3, padding: 1), Opts(6, kind, 4, true, StreamFeatureLayout.ChannelsFirst));
        tokenWise.load_state_dict(hc.state_dict());
        Assert.True(T.MaxAbsDiff(hc.forward(same), tokenWise.forward(same)) < 1e-2);
    }

    [Fact]
    public void TransposeConvention_MatchesHandWorkedVectors()
    {
        // HC (unconstrained, static) uses the biases as they are, so H can be set exactly.
        // H_res = [[1, 2], [3, 4]], H_pre = [1, 0], H_post = [10, 20], F(u) = 0.5 u.
        // X[0] = [1, 0], X[1] = [0, 1]  ->  u = X[0] = [1, 0], y = [0.5, 0]
        // X'[0] = 1 X[0] + 2 X[1] + 10 y = [1 + 5, 2] = [6, 2]
        // X'[1] = 3 X[0] + 4 X[1] + 20 y = [3 + 10, 4] = [13, 4]
        T.Init();
        var hc = new HyperConnection("hand", new Scale(0.5f), Opts(2, ConnectionKind.Hc, n: 2, dynamic: false));
        using (no_grad())
        {
            T.Param(hc, "bias_res").copy_(tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2));
            T.Param(hc, "bias_pre").copy_(tensor(new float[] { 1, 0 }));
            T.Param(hc, "bias_post").copy_(tensor(new float[] { 10, 20 }));
        }
        using var x = tensor(new float[] { 1, 0, 0, 1 }).reshape(1, 2, 2);
        using var y = hc.forward(x);
        Assert.Equal(new float[] { 6, 2, 13, 4 }, T.Values(y));

        // The dynamic path with zero gates reduces to the same static map, per token.
        var dyn = new HyperConnection("hand_dyn", new Scale(0.5f), Opts(2, ConnectionKind.Hc, n: 2, dynamic: true));
        using (no_grad())
        {
            T.Param(dyn, "bias_res").copy_(tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2));
            T.Param(dyn, "bias_pre").copy_(tensor(new float[] { 1, 0 }));
            T.Param(dyn, "bias_post").copy_(tensor(new float[] { 10, 20 }));
            T.Param(dyn, "gates").zero_();
        }
        using var y2 = dyn.forward(x);
        Assert.Equal(new float[] { 6, 2, 13, 4 }, T.Values(y2));
    }

    [Fact]
    public void ResidualMode_EqualsPlainResidualBlock()
    {
        T.Init(8);
        using var scope = NewDisposeScope();
        var branch = Sequential(Linear(16, 16), ReLU(), Linear(16, 16));
        var hc = new HyperConnection("res", branch, Opts(16, ConnectionKind.Residual));
        var x = randn(4, 16);
        var expected = x + branch.forward(x);
        var actual = hc.forward(x.unsqueeze(1)).squeeze(1);
        Assert.Equal(0.0, T.MaxAbsDiff(expected, actual));
    }

    [Fact]
    public void IdentityLikeInit_IsWithin1e2OfAResidualNetAtStep0()
    {
        foreach (var kind in new[] { ConnectionKind.Mhc, ConnectionKind.Hc })
        {
            T.Init(9);
            using var scope = NewDisposeScope();
            var branches = Enumerable.Range(0, 6).Select(_ => Sequential(LayerNorm(16), Linear(16, 16), Tanh())).ToList();
            var layers = branches.Select((b, i) => new HyperConnection($"l{i}", b, Opts(16, kind, 4, true, layer: i))).ToList();
            var x = randn(8, 16);
            var residual = x;
            foreach (var b in branches) residual = residual + b.forward(residual);
            var streams = new StreamExpand(4).forward(x);
            foreach (var l in layers) streams = l.forward(streams);
            var hyper = new StreamCollapse(4).forward(streams);
            double diff = T.MaxAbsDiff(hyper, residual);
            Assert.True(diff < 1e-2, $"{kind}: max |hyper - residual| = {diff}");
        }
    }

    [Fact]
    public void OneStep_ReachesPhiBiasesAndGates()
    {
        T.Init(10);
        var hc = new HyperConnection("g", Linear(8, 8), Opts(8, ConnectionKind.Mhc));
        using var x = randn(5, 4, 8);
        using var target = randn(5, 4, 8);
        var opt = optim.SGD(hc.parameters(), 0.1);
        var before = hc.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using (var loss = functional.mse_loss(hc.forward(x), target)) loss.backward();
        foreach (var name in new[] { "phi", "bias_pre", "bias_post", "bias_res", "gates" })
        {
            using var g = T.Param(hc, name).grad;
            Assert.NotNull(g);
            Assert.True(g!.abs().sum().ToDouble() > 0, $"no gradient reached {name}");
        }
        opt.step();
        foreach (var name in new[] { "phi", "bias_res", "gates" })
            Assert.True(T.MaxAbsDiff(before[name], T.Param(hc, name)) > 0, $"{name} did not change");
    }

    [Fact]
    public void StreamsPersist_AndMixAcrossBlocks()
    {
        // With distinct streams in, the output of stream 0 after a stack depends on every input
        // stream: the stack carries n streams end to end and mixes them (not a per-block collapse).
        T.Init(11);
        var layers = Enumerable.Range(0, 3).Select(i => new HyperConnection($"p{i}", Linear(8, 8), Opts(8, ConnectionKind.Mhc, layer: i))).ToList();
        using var x = randn(2, 4, 8).requires_grad_(true);
        var s = x;
        foreach (var l in layers)
        {
            s = l.forward(s);
            Assert.Equal(new long[] { 2, 4, 8 }, s.shape);
        }
        s[.., 0].sum().backward();
        using var g = x.grad!;
        for (int j = 0; j < 4; j++)
            Assert.True(g[.., j].abs().sum().ToDouble() > 0, $"stream {j} does not reach output stream 0");
    }

    [Fact]
    public void ResidualKind_HasOneStreamWhateverTheExpansionRate_AndWrongInputShapeIsNamed()
    {
        T.Init();
        // The expansion rate is ignored for a residual connection: it cannot be built with several streams.
        var residual = new HyperConnection("residual", Linear(4, 4),
            new HyperConnectionOptions { Dim = 4, Mixing = new() { Connection = ConnectionKind.Residual, ExpansionRate = 4 } });
        Assert.Equal(1, residual.Options.Streams);
        var hc = new HyperConnection("shape", Linear(4, 4), Opts(4, ConnectionKind.Mhc));
        using var x = randn(2, 3, 4);
        var e2 = Assert.Throws<ArgumentException>(() => hc.forward(x));
        Assert.Contains("(B, 4, *features)", e2.Message);
    }

    [Fact]
    public void Diagnostics_RecordDoublyStochasticMixing()
    {
        T.Init(12);
        var hc = new HyperConnection("d", Linear(8, 8), Opts(8, ConnectionKind.Mhc)) { RecordDiagnostics = true };
        using var x = randn(3, 4, 8);
        using var y = hc.forward(x);
        var h = hc.LastResidualMixing!;
        Assert.NotNull(h);
        Assert.InRange(Mhc.Models.Diagnostics.MixingGain.Forward(h), 0.999, 1.001);
        Assert.InRange(Mhc.Models.Diagnostics.MixingGain.Backward(h), 0.99, 1.01);
        Assert.True(h[0, 0] > 0.8, "identity-like init should start diagonal-dominant");
    }

    [Theory]
    [InlineData(4.0)]
    [InlineData(null)]
    public void LargeResidualLogits_StayDoublyStochasticOnlyWithTheBound(double? bound)
    {
        // Trained H_res logits can grow far beyond the init; 20 Sinkhorn iterations then leave the columns
        // unbalanced (a backward gain of 2) or, once exp() underflows a whole column, NaN.
        T.Init(13);
        var options = Opts(8, ConnectionKind.Mhc, dynamic: false);
        options.Mixing = options.Mixing with { ResidualLogitBound = bound };
        var hc = new HyperConnection("big", Linear(8, 8), options) { RecordDiagnostics = true };
        using (no_grad())
        {
            using var gen = new torch.Generator(5);
            T.Param(hc, "bias_res").copy_(randn(new long[] { 4, 4 }, generator: gen) * 60);
        }
        using var x = randn(2, 4, 8);
        using var y = hc.forward(x);
        var h = hc.LastResidualMixing!;
        double backward = Mhc.Models.Diagnostics.MixingGain.Backward(h);
        if (bound is null)
            Assert.False(backward <= 1.1, $"without the bound the columns were expected to stay unbalanced; backward gain {backward}");
        else
        {
            Assert.InRange(Mhc.Models.Diagnostics.MixingGain.Forward(h), 0.999, 1.001);
            Assert.InRange(backward, 0.99, 1.06);
            Assert.False(y.isnan().any().ToBoolean());
        }
    }

    [Fact]
    public void TheBound_LeavesTheIdentityLikeInitUnchanged()
    {
        // The stored bias is L atanh(c / L), so the bounded logits are exactly +-c with or without the bound.
        T.Init(14);
        var bounded = new HyperConnection("b", Linear(8, 8), Opts(8, ConnectionKind.Mhc, dynamic: false)) { RecordDiagnostics = true };
        var options = Opts(8, ConnectionKind.Mhc, dynamic: false);
        options.Mixing = options.Mixing with { ResidualLogitBound = null };
        var free = new HyperConnection("f", Linear(8, 8), options) { RecordDiagnostics = true };
        using var x = randn(2, 4, 8);
        using var yb = bounded.forward(x);
        using var yf = free.forward(x);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(free.LastResidualMixing![i, j], bounded.LastResidualMixing![i, j], 5);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new HyperConnection("bad", Linear(8, 8), new HyperConnectionOptions { Dim = 8, IdentityStrength = 5, Mixing = new() { ResidualLogitBound = 4 }}));
    }

    private sealed class Scale : Module<Tensor, Tensor>
    {
        private readonly float factor;
        public Scale(float factor) : base("scale") => this.factor = factor;
        public override Tensor forward(Tensor x) => x * factor;
    }
}
