using Mhc.Models.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// Light augmentation for small images: a random shift of up to <see cref="MaxShift"/> pixels (pad with zeros and
/// crop back, the usual "random crop" of CIFAR/MNIST training) and an optional horizontal flip (off by default: digits
/// are not mirror-symmetric), applied while a batch is copied; and, when a rotation or zoom range is set, a random
/// affine warp of the whole batch (<see cref="RandomAffine"/>) that then does the shifting too, in the same resampling.
/// </summary>
/// <param name="MaxShift">Largest shift in pixels along each axis; 0 turns shifting off.</param>
/// <param name="HorizontalFlip">Whether to mirror half of the images left-right.</param>
/// <param name="MaxRotationDegrees">Largest random rotation either way, in degrees; 0 turns it off.</param>
/// <param name="MaxScaleChange">Largest random relative zoom either way; 0 turns it off.</param>
internal sealed record ImageAugmentation(int MaxShift, bool HorizontalFlip, double MaxRotationDegrees = 0, double MaxScaleChange = 0)
{
    /// <summary>No augmentation.</summary>
    public static ImageAugmentation None { get; } = new(0, false);

    /// <summary>Whether the augmentation changes anything.</summary>
    public bool IsIdentity => MaxShift == 0 && !HorizontalFlip && Affine is null;

    /// <summary>The batch warp, or null when neither rotation nor zoom is asked for (shifts then stay whole-pixel copies).</summary>
    public RandomAffine? Affine { get; } = MaxRotationDegrees == 0 && MaxScaleChange == 0 ? null : new(MaxRotationDegrees, MaxScaleChange, MaxShift);

    /// <summary>The per-image part done while copying: whole-pixel shifts only when no affine warp does them.</summary>
    private int CopyShift => Affine is null ? MaxShift : 0;

    /// <summary>Returns <paramref name="batch"/> warped by <see cref="Affine"/> (a new tensor, in the caller's dispose scope), or the input itself.</summary>
    public Tensor ApplyToBatch(Tensor batch, Random random) => Affine is null ? batch : Affine.Apply(batch, random);

    /// <summary>Writes an augmented copy of one C x H x W image into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, Random random)
    {
        int shift = CopyShift;
        int dy = shift > 0 ? random.Next(-shift, shift + 1) : 0;
        int dx = shift > 0 ? random.Next(-shift, shift + 1) : 0;
        bool flip = HorizontalFlip && random.Next(2) == 1;
        if (dx == 0 && dy == 0 && !flip)
        {
            source.CopyTo(destination);
            return;
        }
        destination.Clear();
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
            {
                int sy = y - dy;
                if ((uint)sy >= (uint)height) continue;
                for (int x = 0; x < width; x++)
                {
                    int sx = (flip ? width - 1 - x : x) - dx;
                    if ((uint)sx >= (uint)width) continue;
                    dst[y * width + x] = src[sy * width + sx];
                }
            }
        }
    }
}
