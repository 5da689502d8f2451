using OxyPlot;
using OxyPlot.SkiaSharp;
using Mhc.Models.IO;
using SkiaSharp;

namespace Microsoft.ML.Mhc.Plots;

/// <summary>
/// Writes OxyPlot models as one PNG: a grid of equally sized panels on a white background, rendered with
/// SkiaSharp 2.88 (the build Microsoft.ML.ImageAnalytics uses). The file is written atomically: a temporary file in
/// the same folder, then a rename, so a reader never sees a half-written image.
/// </summary>
public static class PlotPanels
{
    /// <summary>A sans-serif family installed on this machine (OxyPlot's default can land on a serif face on Linux).</summary>
    public static string SansFont { get; } = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Segoe UI", "Helvetica", "Noto Sans" }
        .FirstOrDefault(f => SKFontManager.Default.FontFamilies.Contains(f)) ?? "sans-serif";

    /// <summary>
    /// Renders <paramref name="panels"/> row by row, <paramref name="columns"/> per row, into a
    /// <paramref name="width"/> x <paramref name="height"/> PNG at <paramref name="path"/> (its folder is created).
    /// Returns the full path.
    /// </summary>
    /// <param name="panels">The plots, in reading order.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="width">Image width in pixels (at least 100).</param>
    /// <param name="height">Image height in pixels (at least 100).</param>
    /// <param name="columns">Panels per row; default: all in one row.</param>
    /// <param name="columnWidths">Relative widths of the columns (e.g. a wider last column for a colour bar); default equal.</param>
    public static string Save(IReadOnlyList<PlotModel> panels, string path, int width, int height, int? columns = null,
        IReadOnlyList<double>? columnWidths = null)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("No panels to draw.", nameof(panels));
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is too small; use at least 100×100 pixels.");
        int cols = Math.Clamp(columns ?? panels.Count, 1, panels.Count);
        int rows = (panels.Count + cols - 1) / cols;
        var shares = columnWidths ?? Enumerable.Repeat(1.0, cols).ToArray();
        if (shares.Count != cols || shares.Any(w => !(w > 0)))
            throw new ArgumentException($"Expected {cols} positive column widths, got [{string.Join(", ", shares)}].", nameof(columnWidths));
        double total = shares.Sum();
        var left = new double[cols + 1];
        for (int c = 0; c < cols; c++) left[c + 1] = left[c] + width * shares[c] / total;

        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var context = new SkiaRenderContext { RenderTarget = RenderTarget.PixelGraphic, SkCanvas = canvas, UseTextShaping = false })
        {
            canvas.Clear(SKColors.White);
            double rowHeight = (double)height / rows;
            for (int i = 0; i < panels.Count; i++)
            {
                int r = i / cols, c = i % cols;
                IPlotModel model = panels[i];
                model.Update(true);
                model.Render(context, new OxyRect(left[c], r * rowHeight, left[c + 1] - left[c], rowHeight));
            }
            canvas.Flush();
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return AtomicFile.Write(path, stream => png.SaveTo(stream));
    }

    /// <summary>A plot with this library's look: white background, sans-serif text.</summary>
    public static PlotModel NewModel(string? title = null) => new()
    {
        Title = title,
        DefaultFont = SansFont,
        TitleFontSize = 15,
        TitleFontWeight = FontWeights.Normal,
        Background = OxyColors.White,
        PlotAreaBorderColor = OxyColor.FromRgb(0x99, 0x99, 0x99),
    };

    /// <summary>Category-10 colours (matplotlib's default cycle): blue, orange, green, red, purple, ...</summary>
    public static OxyColor SeriesColor(int index) => Category10[((index % Category10.Length) + Category10.Length) % Category10.Length];

    private static readonly OxyColor[] Category10 = new[]
    {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    }.Select(OxyColor.Parse).ToArray();
}
