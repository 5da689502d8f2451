using Mhc.Models.Segmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Segmentation;

public class ConvolutionBackendCheckTests
{
    [Fact]
    public void AfterTheCheck_ConvolutionInputGradientsMatchFloat64()
    {
        T.Init(31);
        var outcome = ConvolutionBackendCheck.EnsureCorrectGradients();
        Assert.False(string.IsNullOrWhiteSpace(outcome));
        // Channel counts off oneDNN's 16-block, as in a 16 -> 11 class head.
        foreach (var (cin, cout) in new[] { (16, 11), (12, 12), (4, 4) })
        {
            for (int rep = 0; rep < 3; rep++)
            {
                using var scope = NewDisposeScope();
                var w = randn(cout, cin, 3, 3) * 0.3;
                var x = randn(2, cin, 8, 8);
                var x32 = x.clone().requires_grad_();
                nn.functional.conv2d(x32, w, padding: [1, 1]).square().sum().backward();
                var x64 = x.to_type(ScalarType.Float64).requires_grad_();
                nn.functional.conv2d(x64, w.to_type(ScalarType.Float64), padding: [1, 1]).square().sum().backward();
                double scale = x64.grad!.abs().max().ToDouble();
                double err = (x32.grad!.to_type(ScalarType.Float64) - x64.grad!).abs().max().ToDouble() / scale;
                Assert.True(err < 1e-4, $"{cin}->{cout}: relative input-gradient error {err} ({outcome})");
            }
        }
    }
}
