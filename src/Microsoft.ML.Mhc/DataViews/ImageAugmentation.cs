namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// Light augmentation for small images, applied while a batch is copied: a random shift of up to
/// <see cref="MaxShift"/> pixels (pad with zeros and crop back, the usual "random crop" of CIFAR/MNIST
/// training) and an optional horizontal flip (off by default: digits are not mirror-symmetric).
/// </summary>
/// <param name="MaxShift">Largest shift in pixels along each axis; 0 turns shifting off.</param>
/// <param name="HorizontalFlip">Whether to mirror half of the images left-right.</param>
internal sealed record ImageAugmentation(int MaxShift, bool HorizontalFlip)
{
    /// <summary>No augmentation.</summary>
    public static ImageAugmentation None { get; } = new(0, false);

    /// <summary>Whether the augmentation changes anything.</summary>
    public bool IsIdentity => MaxShift == 0 && !HorizontalFlip;

    /// <summary>Writes an augmented copy of one C x H x W image into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, Random random)
    {
        int dy = MaxShift > 0 ? random.Next(-MaxShift, MaxShift + 1) : 0;
        int dx = MaxShift > 0 ? random.Next(-MaxShift, MaxShift + 1) : 0;
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
