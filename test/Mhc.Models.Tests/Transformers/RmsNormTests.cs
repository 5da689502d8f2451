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
}
