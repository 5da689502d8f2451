using Mhc.Models.Transformers;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

public class RmsNormTests
{
    [Fact]
    public void NormalisesByTheRootMeanSquare()
    {
        T.Init();
        using var scope = NewDisposeScope();
        var norm = new RmsNorm(2, eps: 0);
        // [3, 4]: rms = sqrt(12.5) -> [0.8485, 1.1314]
        var y = T.Values(norm.forward(tensor(new float[] { 3, 4 }).reshape(1, 2)));
        Assert.Equal(3 / Math.Sqrt(12.5), y[0], 5);
        Assert.Equal(4 / Math.Sqrt(12.5), y[1], 5);
        Assert.Throws<ArgumentException>(() => norm.forward(zeros(1, 3)));
    }

    [Fact]
    public void InferenceKernel_MatchesTheTensorPath()
    {
        T.Init(71);
        using var scope = NewDisposeScope();
        var norm = new RmsNorm(13);
        using (no_grad()) norm.parameters().Single().copy_(randn(13));
        var x = randn(3, 7, 13) * 3;
        var graph = norm.forward(x);                  // gradients enabled: tensor operations
        Tensor fused;
        using (no_grad()) fused = norm.forward(x);    // inference: the one-pass kernel
        Assert.True(T.MaxAbsDiff(graph, fused) < 1e-5, $"max diff {T.MaxAbsDiff(graph, fused)}");
    }
}
