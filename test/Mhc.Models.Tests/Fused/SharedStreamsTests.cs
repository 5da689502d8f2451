using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Fused;

/// <summary>
/// A stack's first block reads its n streams from the one tensor they are copies of (SharedStreams) instead of the
/// expansion's n copies: the same output and the same gradients, for the input and every parameter, as running the
/// same blocks on the materialised copies.
/// </summary>
public class SharedStreamsTests
{
    [Theory]
    [InlineData(ConnectionKind.Mhc, 4)]
    [InlineData(ConnectionKind.Mhc, 3)]
    [InlineData(ConnectionKind.Hc, 4)]
    public void FirstBlockOnSharedStreams_MatchesTheBlocksOnTheExpandedCopies(ConnectionKind kind, int n)
    {
        T.Init(91);
        using var scope = NewDisposeScope();
        var options = new HyperConnectionOptions
        {
            Dim = 6,
            Layout = StreamFeatureLayout.ChannelsFirst,
            Granularity = DynamicGranularity.PerSample,
            Mixing = new() { Connection = kind, ExpansionRate = n },
        };
        var blocks = Enumerable.Range(0, 2).Select(i => (Module<Tensor, Tensor>)new HyperConnection($"b{i}",
            Sequential(BatchNorm2d(6), ReLU(), Conv2d(6, 6, 3, padding: 1, bias: false)), options.WithLayer(i))).ToList();
        var stack = new HyperSequential("stack", n, blocks);
        stack.eval();    // running statistics: both runs see the same branch
        using (no_grad())
            foreach (var (name, p) in stack.named_parameters())
                if (name.EndsWith("gates") || name.Contains("bias_")) p.add_(randn_like(p) * 0.5);
        var x = randn(new long[] { 5, 6, 7, 3 }).requires_grad_(true);
        var weights = randn(5, 6, 7, 3);

        var (shared, sharedGrads) = Run(stack, x, weights, () => stack.forward(x));
        var (copies, copyGrads) = Run(stack, x, weights,
            () => stack.Collapse.forward(stack.ForwardLayers(stack.Expand.forward(x), 0, 2)));

        Assert.True(T.MaxAbsDiff(shared, copies) < 1e-5, $"forward differs by {T.MaxAbsDiff(shared, copies)}");
        foreach (var (name, reference) in copyGrads)
        {
            double scale = Math.Max(1e-3, reference.abs().max().ToDouble());
            double diff = T.MaxAbsDiff(sharedGrads[name], reference);
            Assert.True(diff / scale < 1e-5, $"{kind} n={n}: gradient of {name} differs by {diff} (scale {scale})");
        }
    }

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) Run(HyperSequential stack, Tensor x, Tensor weights, Func<Tensor> forward)
    {
        stack.zero_grad();
        x.grad?.zero_();
        var output = forward();
        (output * weights).sum().backward();
        var grads = stack.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        grads["input"] = x.grad!.clone();
        return (output.detach().clone(), grads);
    }

    [Theory]
    [InlineData(ConnectionKind.Mhc, 4)]
    [InlineData(ConnectionKind.Mhc, 3)]
    [InlineData(ConnectionKind.Hc, 4)]
    public void FirstBlockOnSharedTokenRows_MatchesTheBlocksOnTheExpandedCopies(ConnectionKind kind, int n)
    {
        // Per token (the decoder's layout): the first block projects its state with Phi's summed blocks.
        T.Init(92);
        using var scope = NewDisposeScope();
        var options = new HyperConnectionOptions { Dim = 12, Layout = StreamFeatureLayout.ChannelsLast, Mixing = new() { Connection = kind, ExpansionRate = n } };
        var blocks = Enumerable.Range(0, 2).Select(i => (Module<Tensor, Tensor>)new HyperConnection($"b{i}",
            Sequential(LayerNorm(12), Linear(12, 12), GELU()), options.WithLayer(i))).ToList();
        var stack = new HyperSequential("stack", n, blocks);
        using (no_grad())
            foreach (var (name, p) in stack.named_parameters())
                if (name.EndsWith("gates") || name.Contains("bias_")) p.add_(randn_like(p) * 0.5);
                else if (name.EndsWith("phi")) p.mul_(30);      // dynamic terms of order one, so that Phi's gradient matters
        var x = randn(3, 5, 12).requires_grad_(true);
        var weights = randn(3, 5, 12);

        var (shared, sharedGrads) = Run(stack, x, weights, () => stack.ForwardTokenRows(x));
        var (copies, copyGrads) = Run(stack, x, weights, () => stack.forward(x));

        Assert.True(T.MaxAbsDiff(shared, copies) < 1e-5, $"forward differs by {T.MaxAbsDiff(shared, copies)}");
        foreach (var (name, reference) in copyGrads)
        {
            // Sums that cancel to ~1e-4 (the first block's H_pre gradient) keep float32 rounding of their terms' size, ~1e-6.
            double scale = Math.Max(1, reference.abs().max().ToDouble());
            double diff = T.MaxAbsDiff(sharedGrads[name], reference);
            Assert.True(diff / scale < 1e-5, $"{kind} n={n}: gradient of {name} differs by {diff} (scale {scale})");
        }
    }
}
