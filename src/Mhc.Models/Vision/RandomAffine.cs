using static TorchSharp.torch;

namespace Mhc.Models.Vision;

/// <summary>
/// Random affine augmentation of a whole image batch in one resampling: each image is rotated by an angle drawn
/// uniformly from ±<see cref="MaxRotationDegrees"/>, zoomed by a factor drawn from 1 ± <see cref="MaxScaleChange"/>
/// and shifted by up to ±<see cref="MaxShiftPixels"/> pixels along each axis (continuous), about the image centre.
/// The batch is warped with <c>affine_grid</c> + <c>grid_sample</c> (bilinear; outside the image reads zero, the
/// background of digits), so the cost is one small tensor op per batch instead of a loop over pixels.
/// </summary>
/// <remarks>
/// The transform parameters are drawn from the caller's <see cref="Random"/>, so a seeded training run draws the same
/// transforms every time. <c>affine_grid</c> maps each output pixel to the input point it samples, in coordinates
/// normalised to [-1, 1] per axis; <see cref="Theta"/> builds that matrix from pixel units, so rotations stay rotations on
/// non-square images.
/// </remarks>
/// <param name="MaxRotationDegrees">Largest rotation either way, in degrees; 0 turns rotation off.</param>
/// <param name="MaxScaleChange">Largest relative zoom either way (0.1: factors in [0.9, 1.1]); 0 turns zooming off.</param>
/// <param name="MaxShiftPixels">Largest shift along each axis, in pixels; 0 turns shifting off.</param>
public sealed record RandomAffine(double MaxRotationDegrees, double MaxScaleChange, double MaxShiftPixels)
{
    /// <summary>Whether every drawn transform is the identity.</summary>
    public bool IsIdentity => MaxRotationDegrees == 0 && MaxScaleChange == 0 && MaxShiftPixels == 0;

    /// <summary>Checks the ranges; the message names the bad one, expected vs found.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A range is negative, not finite, a rotation over 180 degrees or a zoom of 1 or more.</exception>
    public void Validate()
    {
        if (!(MaxRotationDegrees >= 0 && MaxRotationDegrees <= 180))
            throw new ArgumentOutOfRangeException(nameof(MaxRotationDegrees), MaxRotationDegrees, $"{nameof(MaxRotationDegrees)} must be in [0, 180], got {MaxRotationDegrees}.");
        if (!(MaxScaleChange >= 0 && MaxScaleChange < 1))
            throw new ArgumentOutOfRangeException(nameof(MaxScaleChange), MaxScaleChange, $"{nameof(MaxScaleChange)} must be in [0, 1), got {MaxScaleChange}.");
        if (!(MaxShiftPixels >= 0 && double.IsFinite(MaxShiftPixels)))
            throw new ArgumentOutOfRangeException(nameof(MaxShiftPixels), MaxShiftPixels, $"{nameof(MaxShiftPixels)} must be zero or positive, got {MaxShiftPixels}.");
    }

    /// <summary>
    /// Returns a new batch: every image of <paramref name="images"/> (B x C x H x W, float) under its own random
    /// transform, drawn from <paramref name="random"/> in image order. The input is not changed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a 4-D floating-point batch.</exception>
    public Tensor Apply(Tensor images, Random random)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(random);
        Validate();
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Random affine augmentation expects a float image batch B x C x H x W; found {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        int batch = (int)images.shape[0], height = (int)images.shape[2], width = (int)images.shape[3];
        var theta = new float[batch * 6];
        for (int i = 0; i < batch; i++)
        {
            double degrees = Uniform(random, MaxRotationDegrees);
            double scale = 1 + Uniform(random, MaxScaleChange);
            double dx = Uniform(random, MaxShiftPixels), dy = Uniform(random, MaxShiftPixels);
            Theta(degrees, scale, dx, dy, height, width).CopyTo(theta.AsSpan(i * 6, 6));
        }
        using var scope = NewDisposeScope();
        var matrices = tensor(theta, [batch, 2, 3], ScalarType.Float32).to(images.device).to_type(images.dtype);
        return Warp(images, matrices).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Resamples <paramref name="images"/> (B x C x H x W) through the per-image matrices <paramref name="theta"/>
    /// (B x 2 x 3, <c>affine_grid</c>'s output-to-input map in normalised coordinates): bilinear, zeros outside.
    /// </summary>
    public static Tensor Warp(Tensor images, Tensor theta)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(theta);
        using var grid = nn.functional.affine_grid(theta, images.shape, align_corners: false);
        return nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
    }

    /// <summary>
    /// The 2 x 3 <c>affine_grid</c> matrix (row-major) that rotates an H x W image by <paramref name="degrees"/>
    /// (counter-clockwise as displayed, rows growing downwards), zooms it by <paramref name="scale"/> about its centre
    /// and then moves it <paramref name="dx"/> pixels right and <paramref name="dy"/> pixels down.
    /// </summary>
    /// <remarks>
    /// The image moves by p' = s R p + t (pixel units, about the centre), so output pixel p' samples the input at
    /// p = R^-1 (p' - t) / s. Normalised coordinates are pixel coordinates times 2/W (x) and 2/H (y), which turns the
    /// linear part L into L[i][j] * n_i / n_j and the offset t into t * n.
    /// </remarks>
    public static float[] Theta(double degrees, double scale, double dx, double dy, int height, int width)
    {
        if (!(scale > 0)) throw new ArgumentOutOfRangeException(nameof(scale), scale, $"The zoom factor must be positive, got {scale}.");
        double a = degrees * Math.PI / 180, cos = Math.Cos(a) / scale, sin = Math.Sin(a) / scale;
        // Inverse map in pixel units; with y growing downwards, a counter-clockwise turn on screen is R(-a) in (x, y).
        double l00 = cos, l01 = -sin, l10 = sin, l11 = cos;
        double ox = -(l00 * dx + l01 * dy), oy = -(l10 * dx + l11 * dy);
        double nx = 2.0 / width, ny = 2.0 / height;
        return
        [
            (float)l00, (float)(l01 * nx / ny), (float)(ox * nx),
            (float)(l10 * ny / nx), (float)l11, (float)(oy * ny),
        ];
    }

    private static double Uniform(Random random, double max) => max == 0 ? 0 : (2 * random.NextDouble() - 1) * max;
}
