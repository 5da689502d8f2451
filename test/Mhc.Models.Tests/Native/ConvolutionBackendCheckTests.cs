using Mhc.Models.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Native;

public class ConvolutionBackendCheckTests
{
    [Fact]
    public void AfterTheCheck_ConvolutionGradientsOfTheModelMatchFloat64()
    {
        T.Init(31);
        // 12 and 4 channels are off oneDNN's 16-channel block: the shapes that failed on the build machines.
        var model = Sequential(Conv2d(12, 12, 3, padding: 1), Conv2d(12, 4, 3, padding: 1), Conv2d(4, 4, 3, padding: 1));
        var outcome = ConvolutionBackendCheck.EnsureCorrectGradients(model);
        Assert.False(string.IsNullOrWhiteSpace(outcome));
        for (int rep = 0; rep < 4; rep++)
        {
            using var scope = NewDisposeScope();
            var x = randn(2, 12, 8, 8);
            var x32 = x.clone().requires_grad_();
            model.forward(x32).square().sum().backward();
            var x64 = x.to_type(ScalarType.Float64).requires_grad_();
            var y64 = x64;
            foreach (var conv in model.children().Cast<TorchSharp.Modules.Conv2d>())
                y64 = functional.conv2d(y64, conv.weight!.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64), padding: [1, 1]);
            y64.square().sum().backward();
            double err = (x32.grad!.to_type(ScalarType.Float64) - x64.grad!).abs().max().ToDouble() / x64.grad!.abs().max().ToDouble();
            Assert.True(err < 1e-4, $"relative input-gradient error {err} after: {outcome}");
        }
    }
}
