using Mhc.Samples.Data;
using static TorchSharp.torch;

namespace Mhc.Samples.Networks;

/// <summary>MNIST digits as the flat, standardised tensors a <see cref="DeepStack"/> reads.</summary>
public static class FlatDigits
{
    /// <summary>
    /// The first <paramref name="limit"/> examples as pixels (N, 784), standardised with the usual MNIST mean 0.1307
    /// and std 0.3081 of the full training set, and labels (N) int64. Both are moved out of the caller's dispose scope
    /// by one level, so create them inside the scope that should own them.
    /// </summary>
    public static (Tensor X, Tensor Y) ToTensors(IReadOnlyList<ImageExample> examples, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(examples);
        int count = Math.Min(limit, examples.Count);
        var pixels = new float[count * MnistDigits.PixelCount];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            examples[i].Pixels.CopyTo(pixels, i * MnistDigits.PixelCount);
            labels[i] = examples[i].Label;
        }
        using var scope = NewDisposeScope();
        var x = (tensor(pixels).reshape(count, MnistDigits.PixelCount) - 0.1307f) / 0.3081f;
        var y = tensor(labels);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}
