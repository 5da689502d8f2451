using Mhc.Models.Vision;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Vision;

public class RandomAffineTests
{
    private static Tensor Batch(int batch, int height, int width)
    {
        T.Init(5);
        return rand(batch, 2, height, width);
    }

    private static Tensor Warp(Tensor images, float[] theta) =>
        RandomAffine.Warp(images, tensor(theta, [1, 2, 3], ScalarType.Float32).expand(images.shape[0], 2, 3));

    [Theory]
    [InlineData(28, 28)]
    [InlineData(12, 20)]
    public void IdentityTransform_LeavesTheImageUnchanged(int height, int width)
    {
        using var scope = NewDisposeScope();
        var images = Batch(3, height, width);
        Assert.True(T.MaxAbsDiff(images, Warp(images, RandomAffine.Theta(0, 1, 0, 0, height, width))) < 1e-5);
        // Zero ranges draw only identities.
        Assert.True(T.MaxAbsDiff(images, new RandomAffine(0, 0, 0).Apply(images, new Random(1))) < 1e-5);
    }

    [Fact]
    public void WholePixelShift_MovesTheImageRightAndDown_AndFillsZeros()
    {
        using var scope = NewDisposeScope();
        var images = Batch(2, 10, 14);
        var moved = Warp(images, RandomAffine.Theta(0, 1, dx: 2, dy: 1, 10, 14));
        var expected = zeros_like(images);
        expected[.., .., 1.., 2..] = images[.., .., ..^1, ..^2];
        Assert.True(T.MaxAbsDiff(expected, moved) < 1e-5);
    }

    [Fact]
    public void QuarterTurn_OfANonSquareImage_IsATranspose()
    {
        // A 90-degree turn of an odd-sided square is exact on the pixel grid; the normalisation must keep it a
        // rotation (not a shear) whatever the aspect ratio, so check it on the square centre of a wider image.
        using var scope = NewDisposeScope();
        var images = zeros(1, 1, 9, 15);
        images[0, 0, 2, 7] = tensor(1f); // 2 rows above the centre (4, 7)
        var turned = Warp(images, RandomAffine.Theta(90, 1, 0, 0, 9, 15));
        // Counter-clockwise on screen: "up" becomes "left".
        Assert.Equal(1f, turned[0, 0, 4, 5].item<float>(), 4);
        Assert.Equal(1f, turned.sum().item<float>(), 4);
    }

    [Fact]
    public void SeededDraws_AreReproducible_AndDifferPerImage()
    {
        using var scope = NewDisposeScope();
        var images = Batch(4, 28, 28);
        var affine = new RandomAffine(15, 0.1, 2.5);
        var a = affine.Apply(images, new Random(42));
        var b = affine.Apply(images, new Random(42));
        var c = affine.Apply(images, new Random(43));
        Assert.Equal(0, T.MaxAbsDiff(a, b));
        Assert.True(T.MaxAbsDiff(a, c) > 1e-2);
        Assert.True(T.MaxAbsDiff(a, images) > 1e-2);
        Assert.Equal(images.shape, a.shape);
    }

    [Fact]
    public void BadRangesAndInputs_AreRejected_Naming()
    {
        Assert.Contains("MaxRotationDegrees", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(-1, 0, 0).Validate()).Message);
        Assert.Contains("MaxScaleChange", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(0, 1, 0).Validate()).Message);
        Assert.Contains("MaxShiftPixels", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(0, 0, double.NaN).Validate()).Message);
        using var scope = NewDisposeScope();
        Assert.Contains("B x C x H x W", Assert.Throws<ArgumentException>(() => new RandomAffine(5, 0, 0).Apply(zeros(3, 4, 4), new Random(1))).Message);
    }
}
