namespace Mhc.Samples.Data;

/// <summary>Where one digit was pasted on a canvas: its class and tight bounding box (pixels).</summary>
/// <param name="Digit">The digit's class, 0..9.</param>
/// <param name="X">Left column of the box.</param>
/// <param name="Y">Top row of the box.</param>
/// <param name="Width">Box width.</param>
/// <param name="Height">Box height.</param>
public sealed record DigitPlacement(int Digit, int X, int Y, int Width, int Height)
{
    /// <summary>True when the two boxes share at least one pixel.</summary>
    /// <param name="other">The other box.</param>
    public bool Overlaps(DigitPlacement other) =>
        X < other.X + other.Width && other.X < X + Width && Y < other.Y + other.Height && other.Y < Y + Height;
}

/// <summary>
/// One M2NIST-style segmentation example: a square grayscale canvas with 1-3 real MNIST digits and
/// its per-pixel class mask (0 = background, 1..10 = digit 0..9; see <see cref="M2NistCanvases"/>).
/// </summary>
/// <param name="Image">Row-major pixels, 0..1, <c>Side * Side</c> values.</param>
/// <param name="Mask">Row-major labels, <c>Side * Side</c> values in 0..10.</param>
/// <param name="Placements">The digits on the canvas and their boxes.</param>
public sealed record SegmentationCanvas(float[] Image, int[] Mask, IReadOnlyList<DigitPlacement> Placements);
