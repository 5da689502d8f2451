using Mhc.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Injection;

[Collection(GlobalTorchRng.Name)]
public class HyperConnectionInjectorTests
{
    private const int Width = 8;

    private static Module<Tensor, Tensor> Mlp(int width) => Sequential(
        ("norm", LayerNorm(width)), ("fc1", Linear(width, 2 * width)), ("act", GELU()), ("fc2", Linear(2 * width, width)));

    /// <summary>A plain pre-norm residual MLP: embed, three residual blocks, head.</summary>
    private static Sequential ResidualMlp(int blocks = 3) => Sequential(
        new (string, Module<Tensor, Tensor>)[] { ("embed", Linear(6, Width)) }
            .Concat(Enumerable.Range(0, blocks).Select(i => ($"block{i}", (Module<Tensor, Tensor>)new ResidualBlock($"block{i}", Mlp(Width), Width))))
            .Append(("norm", LayerNorm(Width)))
            .Append(("head", Linear(Width, 3)))
            .ToArray());

    private static HyperInjectionOptions Options(ConnectionKind kind, int n = 4) =>
        new() { Connection = new HyperConnectionOptions { Mixing = new() { Connection = kind, ExpansionRate = n }} };

    [Fact]
    public void ResidualMode_EqualsOriginalNumerically()
    {
        T.Init(3);
        using var scope = NewDisposeScope();
        var original = ResidualMlp();
        var x = randn(5, 6);
        var expected = original.forward(x);

        var result = HyperConnectionInjector.Inject(original, Options(ConnectionKind.Residual));

        Assert.NotSame(original, result.Model);
        Assert.Single(result.Runs);
        Assert.Equal(1, result.Runs[0].Streams);
        Assert.Equal(3, result.Connections.Count);
        Assert.Empty(result.Skipped);
        Assert.Equal(0.0, T.MaxAbsDiff(expected, result.Model.forward(x)));
    }

    [Fact]
    public void MhcMode_HasNStreamsAcrossTheRun_SharesBranches_AndStartsNearTheOriginal()
    {
        T.Init(4);
        using var scope = NewDisposeScope();
        var original = ResidualMlp();
        var x = randn(5, 6);
        var expected = original.forward(x);
        var blocks = original.children().OfType<ResidualBlock>().ToList();

        var result = HyperConnectionInjector.Inject(original, Options(ConnectionKind.Mhc));

        var run = Assert.Single(result.Runs);
        Assert.Equal(4, run.Streams);
        Assert.All(result.Connections, c => Assert.Equal(4, c.Options.Streams));
        Assert.Equal(new[] { 0, 1, 2 }, result.Connections.Select(c => c.Options.LayerIndex));
        Assert.Equal(blocks.Select(b => b.Branch), result.Connections.Select(c => c.Branch));   // shared, not copied
        var embedded = ((Sequential)result.Model).children().First();
        var streams = run.ForwardStreams(((Module<Tensor, Tensor>)embedded).forward(x));
        Assert.Equal(new long[] { 5, 4, Width }, streams.shape);
        // Under the identity-like init equal streams stay (nearly) equal, so the model starts at its residual self.
        var y = result.Model.forward(x);
        Assert.Equal(expected.shape, y.shape);
        Assert.True(T.MaxAbsDiff(expected, y) < 1e-2, $"diff {T.MaxAbsDiff(expected, y)}");
        // ... but it is a different function: mixing parameters exist and change it when moved.
        using (no_grad()) T.Param(result.Connections[1], "bias_post").add_(1.0f);
        Assert.True(T.MaxAbsDiff(expected, result.Model.forward(x)) > 1e-3);
    }

    [Theory]
    [InlineData(ConnectionKind.Mhc)]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Residual)]
    public void GradientsFlow_ToEmbedding_Branches_AndMixing(ConnectionKind kind)
    {
        T.Init(5);
        using var scope = NewDisposeScope();
        var result = HyperConnectionInjector.Inject(ResidualMlp(), Options(kind));
        var loss = functional.cross_entropy(result.Model.forward(randn(7, 6)), tensor(new long[] { 0, 1, 2, 0, 1, 2, 0 }));
        loss.backward();
        foreach (var (name, p) in result.Model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            // HC starts with Phi = 0 (HC sec. 2.3), so its gates' gradient tanh(Phi v) is exactly 0 at step 0.
            if (kind == ConnectionKind.Hc && name.EndsWith("gates", StringComparison.Ordinal)) continue;
            Assert.True(p.grad!.abs().sum().ToDouble() > 0, $"{name} has a zero gradient");
        }
        if (kind != ConnectionKind.Residual)
            Assert.Contains(result.Model.named_parameters(), p => p.name.EndsWith("bias_res", StringComparison.Ordinal));
    }

    /// <summary>A block type the user owns that does not implement IResidualBlock.</summary>
    private sealed class MyBlock : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> mlp;
        public MyBlock(string name) : base(name) { mlp = Mlp(Width); RegisterComponents(); }
        public Module<Tensor, Tensor> Mlp_ => mlp;
        public override Tensor forward(Tensor x) => x + mlp.forward(x);
    }

    [Fact]
    public void ByType_WithExtractor_ConvertsForeignBlocks()
    {
        T.Init(6);
        using var scope = NewDisposeScope();
        var model = Sequential(("embed", Linear(6, Width)), ("a", new MyBlock("a")), ("b", new MyBlock("b")), ("head", Linear(Width, 2)));
        var x = randn(3, 6);
        var expected = model.forward(x);

        var residual = HyperConnectionInjector.Wrap<MyBlock>(model, b => new ResidualParts(b.Mlp_, Width),
            new HyperConnectionOptions { Mixing = new() { Connection = ConnectionKind.Residual, ExpansionRate = 1 }});
        Assert.Equal(0.0, T.MaxAbsDiff(expected, residual.forward(x)));

        var hc = HyperConnectionInjector.Wrap(model, m => m is MyBlock, m => new ResidualParts(((MyBlock)m).Mlp_, Width),
            new HyperConnectionOptions { Mixing = new() { Connection = ConnectionKind.Hc, ExpansionRate = 3 }});
        var stack = Assert.Single(hc.modules().OfType<HyperSequential>());
        Assert.Equal(3, stack.Streams);
        Assert.Equal(2, stack.HyperConnections.Count);
        // HC's own init (home-stream H_pre, H_post = 1, H_res = I, Phi = 0) reproduces the residual net at step 0.
        Assert.True(T.MaxAbsDiff(expected, hc.forward(x)) < 1e-5);
    }

    [Fact]
    public void ShortcutProjection_IsKept()
    {
        T.Init(7);
        using var scope = NewDisposeScope();
        var model = Sequential(("a", new ResidualBlock("a", Linear(Width, 12), Width, Linear(Width, 12, hasBias: false))),
            ("b", new ResidualBlock("b", Mlp(12), 12)));
        var x = randn(4, Width);
        var expected = model.forward(x);
        Assert.Equal(0.0, T.MaxAbsDiff(expected, HyperConnectionInjector.Wrap(model, Options(ConnectionKind.Residual)).forward(x)));
        var mhc = HyperConnectionInjector.Inject(model, Options(ConnectionKind.Mhc));
        Assert.Equal(new[] { Width, 12 }, mhc.Connections.Select(c => c.Options.Dim));
        Assert.Equal(new long[] { 4, 12 }, mhc.Model.forward(x).shape);
    }

    [Fact]
    public void OtherModules_EndARun_UnlessStreamwise()
    {
        T.Init(8);
        using var scope = NewDisposeScope();
        var model = Sequential(("a", new ResidualBlock("a", Mlp(Width), Width)), ("drop", Dropout(0.1)),
            ("b", new ResidualBlock("b", Mlp(Width), Width)), ("drop2", Dropout(0.1)));
        Assert.Equal(2, HyperConnectionInjector.Inject(model, Options(ConnectionKind.Mhc)).Runs.Count);

        var options = Options(ConnectionKind.Mhc);
        options.Streamwise = m => m is Dropout;
        var result = HyperConnectionInjector.Inject(model, options);
        var run = Assert.Single(result.Runs);
        Assert.Equal(new[] { "HyperConnection", "PerStream", "HyperConnection" }, run.Layers.Select(l => l.GetType().Name));
        // The trailing dropout is not inside the run: it follows the collapse, as it followed the last block.
        Assert.Equal(new[] { "hyper_a", "drop2" }, ((Sequential)result.Model).named_children().Select(c => c.name));
        result.Model.eval();
        model.eval();
        var x = randn(2, Width);
        Assert.True(T.MaxAbsDiff(model.forward(x), result.Model.forward(x)) < 1e-2);
    }

    /// <summary>A custom network holding its blocks in a Sequential field.</summary>
    private sealed class CustomNet : Module<Tensor, Tensor>
    {
        private readonly Linear embed;
        private readonly Module<Tensor, Tensor> body;
        private readonly Linear head;
        public CustomNet() : base("custom")
        {
            embed = Linear(6, Width);
            body = Sequential(("b0", new ResidualBlock("b0", Mlp(Width), Width)), ("b1", new ResidualBlock("b1", Mlp(Width), Width)));
            head = Linear(Width, 2);
            RegisterComponents();
        }
        public Module<Tensor, Tensor> Body => body;
        public override Tensor forward(Tensor x) => head.forward(body.forward(embed.forward(x)));
    }

    /// <summary>A custom network calling its blocks one by one: streams cannot persist.</summary>
    private sealed class DirectCalls : Module<Tensor, Tensor>
    {
        private readonly ResidualBlock b0 = new("b0", Linear(Width, Width), Width);
        private readonly ResidualBlock b1 = new("b1", Linear(Width, Width), Width);
        public DirectCalls() : base("direct") => RegisterComponents();
        public override Tensor forward(Tensor x) => b1.forward(b0.forward(x));
    }

    [Fact]
    public void CustomModule_SequentialFieldIsSwappedInPlace_DirectBlocksAreReported()
    {
        T.Init(9);
        using var scope = NewDisposeScope();
        var net = new CustomNet();
        var x = randn(3, 6);
        var expected = net.forward(x);
        var oldBody = net.Body;

        var result = HyperConnectionInjector.Inject(net, Options(ConnectionKind.Mhc));

        Assert.Same(net, result.Model);
        Assert.NotSame(oldBody, net.Body);
        Assert.Contains(net.named_children(), c => c.name == "body" && ReferenceEquals(c.module, net.Body));
        Assert.Equal(2, result.Connections.Count);
        Assert.Contains(net.named_parameters(), p => p.name.StartsWith("body.hyper_b0.0.bias_res", StringComparison.Ordinal));
        Assert.True(T.MaxAbsDiff(expected, net.forward(x)) < 1e-2);

        var direct = new DirectCalls();
        var skipped = HyperConnectionInjector.Inject(direct, Options(ConnectionKind.Mhc));
        Assert.Same(direct, skipped.Model);
        Assert.Empty(skipped.Runs);
        Assert.Equal(2, skipped.Skipped.Count);
        Assert.All(skipped.Skipped, s => Assert.Contains("Sequential", s));
    }

    [Fact]
    public void SingleBlockModel_BecomesAOneBlockStack()
    {
        T.Init(10);
        using var scope = NewDisposeScope();
        var block = new ResidualBlock("solo", Mlp(Width), Width);
        var x = randn(2, Width);
        var expected = block.forward(x);
        var result = HyperConnectionInjector.Inject(block, Options(ConnectionKind.Residual));
        Assert.IsType<HyperSequential>(result.Model);
        Assert.Equal(0.0, T.MaxAbsDiff(expected, result.Model.forward(x)));
    }
}
