using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Tests.Injection;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Layers;

/// <summary>Checkpointing must give exactly the gradients of the plain graph, and run each block twice per step.</summary>
[Collection(GlobalTorchRng.Name)]
public class BlockCheckpointTests
{
    private sealed class Counting : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> inner;

        public Counting(int width, string name) : base(name)
        {
            inner = Sequential(Linear(width, width), GELU(), Linear(width, width));
            RegisterComponents();
        }

        public int Calls { get; private set; }

        public override Tensor forward(Tensor x)
        {
            Calls++;
            return x + inner.forward(x);
        }
    }

    private static (float[] Output, Dictionary<string, float[]> Grads, float[]? InputGrad) Step(Module<Tensor, Tensor> net, Tensor x)
    {
        foreach (var p in net.parameters()) p.grad = null;
        var y = net.forward(x);
        y.square().sum().backward();
        // The wrapper adds one level to the names: 0.inner.inner.0.weight is the plain 0.inner.0.weight.
        var grads = net.named_parameters().ToDictionary(p => p.name.Replace(".inner.inner.", ".inner."), p => T.Values(p.parameter.grad!));
        return (T.Values(y), grads, x.grad is null ? null : T.Values(x.grad));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CheckpointedBlocks_GiveTheSameGradients_AndRunTwice(bool inputRequiresGrad)
    {
        T.Init(3);
        var plainBlocks = Enumerable.Range(0, 3).Select(i => new Counting(6, $"b{i}")).ToArray();
        var plain = Sequential(plainBlocks.Select((b, i) => ($"{i}", (Module<Tensor, Tensor>)b)).ToArray());
        T.Init(3);
        var ckptBlocks = Enumerable.Range(0, 3).Select(i => new Counting(6, $"b{i}")).ToArray();
        var ckpt = Sequential(ckptBlocks.Select((b, i) => ($"{i}", (Module<Tensor, Tensor>)new CheckpointedBlock(b, "inner"))).ToArray());

        using var x1 = randn(4, 6);
        using var x2 = x1.clone();
        if (inputRequiresGrad) { x1.requires_grad_(true); x2.requires_grad_(true); }
        var a = Step(plain, x1);
        var b = Step(ckpt, x2);

        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Grads.Keys.Order(), b.Grads.Keys.Order());
        foreach (var (name, g) in a.Grads)
            Assert.True(g.Zip(b.Grads[name]).All(p => Math.Abs(p.First - p.Second) <= 1e-6 * (1 + Math.Abs(p.First))), $"gradient of {name} differs");
        if (inputRequiresGrad) Assert.Equal(a.InputGrad, b.InputGrad);
        // Plain: one forward per block. Checkpointed: the forward pass and the recomputation in backward.
        Assert.All(plainBlocks, blk => Assert.Equal(1, blk.Calls));
        Assert.All(ckptBlocks, blk => Assert.Equal(2, blk.Calls));

        // Without gradient recording nothing is recomputed and nothing is saved.
        using (no_grad()) ckpt.forward(x2.detach());
        Assert.All(ckptBlocks, blk => Assert.Equal(3, blk.Calls));
    }

    [Fact]
    public void HistoryStack_CheckpointBlocks_MatchesThePlainStack_EvenWithGumbelNoise()
    {
        // Stochastic mixing draws from the generator in forward; the recomputation must replay the same draws.
        Tensor Run(bool checkpoint, out Dictionary<string, float[]> grads)
        {
            T.Init(21);
            var layers = Enumerable.Range(0, 5).Select(_ => (Module<Tensor, Tensor>)Sequential(LayerNorm(5), Linear(5, 5), Tanh())).ToArray();
            var o = new HistoryWindowSkipOptions
            {
                Constraint = ConstraintKind.IdentityPreservingSimplex, MaxHistory = 3, Stochastic = true, Temperature = 0.7,
                UseGating = true, CheckpointBlocks = checkpoint,
            };
            var stack = new HistoryWindowSkipStack("stack", layers, [5], o);
            stack.train();
            var x = randn(3, 5).requires_grad_(true);
            random.manual_seed(99);
            var y = stack.forward(x);
            y.square().sum().backward();
            grads = stack.named_parameters().ToDictionary(p => p.name, p => T.Values(p.parameter.grad!));
            grads["input"] = T.Values(x.grad!);
            return y.detach();
        }

        var plain = Run(false, out var g1);
        var ckpt = Run(true, out var g2);
        Assert.Equal(T.Values(plain), T.Values(ckpt));
        Assert.Equal(g1.Keys.Order(), g2.Keys.Order());
        foreach (var (name, g) in g1)
            Assert.True(g.Zip(g2[name]).All(p => Math.Abs(p.First - p.Second) <= 1e-6 * (1 + Math.Abs(p.First))), $"gradient of {name} differs");
    }
}
