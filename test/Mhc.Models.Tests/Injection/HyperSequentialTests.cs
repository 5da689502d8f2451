using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Injection;

[Collection(GlobalTorchRng.Name)]
public class HyperSequentialTests
{
    [Fact]
    public void ExpandsOnce_ThreadsStreams_CollapsesOnce()
    {
        T.Init(11);
        using var scope = NewDisposeScope();
        var o = new HyperConnectionOptions { Dim = 6, Mixing = new() { ExpansionRate = 4, Connection = ConnectionKind.Mhc }};
        var stack = HyperSequential.FromBranches("s", Enumerable.Range(0, 5).Select(_ => (Module<Tensor, Tensor>)Linear(6, 6)), o);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, stack.HyperConnections.Select(h => h.Options.LayerIndex));
        var x = randn(3, 6);
        // Every default init keeps equal streams (nearly) equal; an asymmetric H_post in the first block
        // makes them differ, and the difference must survive to the end: the streams are carried, not re-expanded.
        using (no_grad()) T.Param(stack.HyperConnections[0], "bias_post").add_(tensor(new float[] { 2, -2, 0, 0 }));
        var streams = stack.ForwardStreams(x);
        Assert.Equal(new long[] { 3, 4, 6 }, streams.shape);
        var spread = (streams.select(1, 0) - streams.select(1, 1)).abs().max().ToDouble();
        Assert.True(spread > 1e-2, $"streams 0 and 1 did not stay apart ({spread})");
        Assert.Equal(new long[] { 3, 6 }, stack.forward(x).shape);
        Assert.Equal(0.0, T.MaxAbsDiff(streams.mean(new long[] { 1 }), stack.forward(x)));
        // (B, L, C) sequences work too.
        Assert.Equal(new long[] { 2, 5, 6 }, stack.forward(randn(2, 5, 6)).shape);
    }

    [Fact]
    public void LayersRunInSlices_ScopedOrNot_GiveTheWholeStack()
    {
        T.Init(12);
        using var scope = NewDisposeScope();
        var o = new HyperConnectionOptions { Dim = 6, Mixing = new() { ExpansionRate = 3 } };
        var branches = Enumerable.Range(0, 4).Select(_ => (Module<Tensor, Tensor>)Linear(6, 6)).ToList();
        var stack = HyperSequential.FromBranches("s", branches, o);
        var scoped = new HyperSequential("scoped", 3, stack.Layers, scopeEachLayer: true);
        var x = randn(2, 6);
        var whole = stack.ForwardStreams(x);
        var sliced = stack.ForwardLayers(stack.ForwardLayers(stack.Expand.forward(x), 0, 1), 1, 3);
        Assert.Equal(0.0, T.MaxAbsDiff(whole, sliced));
        Assert.Equal(0.0, T.MaxAbsDiff(whole, scoped.ForwardStreams(x)));
        Assert.Throws<ArgumentOutOfRangeException>(() => stack.ForwardLayers(whole, 2, 3));
        // Layers are registered by index right under the stack.
        Assert.Contains(stack.named_parameters(), p => p.name == "0.bias_res");
    }

    [Fact]
    public void TransformerTrunk_OnTokenRows_EqualsItsStreamForward()
    {
        T.Init(13);
        using var scope = NewDisposeScope();
        var trunk = Mhc.Models.Transformers.TransformerTrunk.Create(new() { Dim = 8, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0 },
            new MixingSettings { ExpansionRate = 2 }, StreamCollapseMode.Mean, causal: true, outputInitStd: 0.02);
        trunk.eval();
        var x = randn(3, 5, 8);
        Assert.Equal(4, trunk.HyperConnections.Count);
        Assert.True(T.MaxAbsDiff(trunk.forward(x), trunk.ForwardTokenRows(x)) < 1e-5);
    }

    [Fact]
    public void ResidualStack_EqualsPlainResidualLoop()
    {
        T.Init(12);
        using var scope = NewDisposeScope();
        var branches = Enumerable.Range(0, 4).Select(_ => (Module<Tensor, Tensor>)Sequential(LayerNorm(5), Linear(5, 5), Tanh())).ToList();
        var stack = HyperSequential.FromBranches("r", branches, new HyperConnectionOptions { Dim = 5, Mixing = new() { ExpansionRate = 1, Connection = ConnectionKind.Residual }});
        var x = randn(3, 5);
        var expected = x;
        foreach (var f in branches) expected = expected + f.forward(expected);
        Assert.Equal(0.0, T.MaxAbsDiff(expected, stack.forward(x)));
    }

    [Fact]
    public void PerStream_AppliesTheModuleToEachStream()
    {
        T.Init(13);
        using var scope = NewDisposeScope();
        var lin = Linear(4, 3);
        var per = new PerStream("p", lin);
        var s = randn(2, 5, 4);
        var y = per.forward(s);
        Assert.Equal(new long[] { 2, 5, 3 }, y.shape);
        Assert.Equal(0.0, T.MaxAbsDiff(lin.forward(s.select(1, 2)), y.select(1, 2)));
    }

    [Fact]
    public void BadInputs_FailClearly()
    {
        T.Init(14);
        using var scope = NewDisposeScope();
        var hc2 = new HyperConnection("two", Linear(4, 4), new HyperConnectionOptions { Dim = 4, Mixing = new() { ExpansionRate = 2 }});
        var ex = Assert.Throws<ArgumentException>(() => new HyperSequential("s", 4, new Module<Tensor, Tensor>[] { hc2 }));
        Assert.Contains("2 streams", ex.Message);

        var collapsing = new HyperSequential("c", 4, new Module<Tensor, Tensor>[] { new Mean1() });
        var bad = Assert.Throws<InvalidOperationException>(() => collapsing.forward(randn(2, 4)));
        Assert.Contains(nameof(PerStream), bad.Message);
        Assert.Throws<ArgumentException>(() => collapsing.forward(randn(4)));
    }

    private sealed class Mean1 : Module<Tensor, Tensor>
    {
        public Mean1() : base("mean1") { }
        public override Tensor forward(Tensor x) => x.mean(new long[] { 1 });
    }
}
