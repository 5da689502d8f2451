using SkiaSharp;

namespace SegmentationSample;

/// <summary>
/// Writes a PNG grid, one canvas per row: the input image in grey, then the true mask and each model's predicted
/// mask in a fixed 11-colour palette (background black, digits 0..9 in distinct colours). No text is drawn, so
/// the grid renders the same on machines without fonts; the column order is printed by the sample.
/// </summary>
public static class MaskGrid
{
    private static readonly SKColor[] Palette =
    [
        new(0, 0, 0), new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200), new(245, 130, 48),
        new(145, 30, 180), new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212),
    ];

    /// <summary>Writes the grid.</summary>
    /// <param name="path">PNG file.</param>
    /// <param name="side">Canvas side in pixels.</param>
    /// <param name="images">Row-major grey images (0..1), one per grid row.</param>
    /// <param name="masks">Per grid column after the image, one mask per grid row (class ids).</param>
    /// <param name="scale">Pixels per canvas pixel.</param>
    public static void Write(string path, int side, IReadOnlyList<float[]> images, IReadOnlyList<IReadOnlyList<uint[]>> masks, int scale = 3)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(masks);
        const int gap = 4;
        int columns = 1 + masks.Count, cell = side * scale;
        int width = columns * cell + (columns + 1) * gap, height = images.Count * cell + (images.Count + 1) * gap;
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(128, 128, 128));
        for (int r = 0; r < images.Count; r++)
        {
            int top = gap + r * (cell + gap);
            Paint(bitmap, gap, top, side, scale, p =>
            {
                byte v = (byte)Math.Clamp(images[r][p] * 255f, 0, 255);
                return new SKColor(v, v, v);
            });
            for (int c = 0; c < masks.Count; c++)
            {
                var mask = masks[c][r];
                Paint(bitmap, gap + (c + 1) * (cell + gap), top, side, scale, p => Palette[mask[p] % Palette.Length]);
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static void Paint(SKBitmap bitmap, int left, int top, int side, int scale, Func<int, SKColor> color)
    {
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                var c = color(y * side + x);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++)
                        bitmap.SetPixel(left + x * scale + dx, top + y * scale + dy, c);
            }
    }
}
