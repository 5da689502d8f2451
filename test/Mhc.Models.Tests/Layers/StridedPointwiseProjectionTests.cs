using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Layers;

/// <summary>The subsample-then-1x1 form of a strided 1x1 projection is the module's own map, forward and backward.</summary>
public class StridedPointwiseProjectionTests
{
    [Theory]
    [InlineData(2, false, 7, 5)]
    [InlineData(2, true, 8, 8)]
    [InlineData(3, false, 10, 7)]
    public void MatchesTheConvolutionModule(int stride, bool bias, int height, int width)
    {
        T.Init(61);
        using var scope = NewDisposeScope();
        var conv = Conv2d(6, 10, 1, stride: stride, bias: bias);
        var x = randn(3, 6, height, width).requires_grad_(true);
        var weights = randn_like(conv.forward(x.detach()));

        var (expected, expectedInput, expectedWeight) = Run(conv, x, weights, () => conv.forward(x));
        var (actual, actualInput, actualWeight) = Run(conv, x, weights, () => StridedPointwiseProjection.Forward(conv, x));

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(T.MaxAbsDiff(expected, actual) < 1e-5, $"forward differs by {T.MaxAbsDiff(expected, actual)}");
        Assert.True(T.MaxAbsDiff(expectedInput, actualInput) < 1e-5, $"input gradient differs by {T.MaxAbsDiff(expectedInput, actualInput)}");
        Assert.True(T.MaxAbsDiff(expectedWeight, actualWeight) < 1e-4, $"weight gradient differs by {T.MaxAbsDiff(expectedWeight, actualWeight)}");
    }

    [Fact]
    public void OtherProjectionsRunAsTheyAre()
    {
        T.Init(62);
        using var scope = NewDisposeScope();
        var padded = Conv2d(4, 4, 1, stride: 2, padding: 1, bias: false);
        var x = randn(2, 4, 6, 6);
        using var noGrad = no_grad();
        Assert.Equal(0.0, T.MaxAbsDiff(padded.forward(x), StridedPointwiseProjection.Forward(padded, x)));
        var unstrided = Conv2d(4, 4, 1, bias: false);
        Assert.Equal(0.0, T.MaxAbsDiff(unstrided.forward(x), StridedPointwiseProjection.Forward(unstrided, x)));
    }

    private static (Tensor Output, Tensor InputGradient, Tensor WeightGradient) Run(Module<Tensor, Tensor> conv, Tensor x, Tensor weights, Func<Tensor> forward)
    {
        conv.zero_grad();
        x.grad?.zero_();
        var output = forward();
        (output * weights).sum().backward();
        var weight = conv.parameters().First();
        return (output.detach().clone(), x.grad!.clone(), weight.grad!.clone());
    }
}
