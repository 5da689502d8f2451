using System.Globalization;
using Mhc.Models.Diagnostics;
using ScottPlot;

namespace Microsoft.ML.Mhc.Plots;

/// <summary>
/// PNG charts for mHC training (ScottPlot): training curves, per-layer residual mixing matrices H_res as
/// heatmaps, and mixing gain against depth. Each method writes one file, creating its folder, and returns its full path.
/// </summary>
public static class MhcPlots
{
    /// <summary>
    /// Loss (left) and metric (right) per epoch, training against validation. Metric panel is drawn only when
    /// some point has a metric; validation lines only where validation figures exist.
    /// </summary>
    /// <param name="points">One record per epoch.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="metricName">Name of the metric on its axis (default "Accuracy").</param>
    /// <param name="title">Figure title, or null.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static string SaveTrainingCurves(IReadOnlyList<TrainingCurvePoint> points, string path, string metricName = "Accuracy",
        string? title = null, int width = 1200, int height = 450)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0) throw new ArgumentException("No epochs to plot: the training curve needs at least one point.", nameof(points));
        var full = Prepare(path, width, height);
        var epochs = points.Select(p => (double)p.Epoch).ToArray();
        bool hasMetric = points.Any(p => p.TrainMetric is not null || p.ValidationMetric is not null);

        var loss = NewPlot();
        AddSeries(loss, epochs, points.Select(p => (double?)p.TrainLoss), "train", Colors.C0);
        AddSeries(loss, epochs, points.Select(p => p.ValidationLoss), "validation", Colors.C1);
        Style(loss, title is null || hasMetric ? "Loss" : $"{title}: loss", "Epoch", "Loss", Alignment.UpperRight);

        var multiplot = new Multiplot(loss);
        if (hasMetric)
        {
            var metric = NewPlot();
            AddSeries(metric, epochs, points.Select(p => p.TrainMetric), "train", Colors.C0);
            AddSeries(metric, epochs, points.Select(p => p.ValidationMetric), "validation", Colors.C1);
            Style(metric, metricName, "Epoch", metricName, Alignment.LowerRight);
            multiplot.AddPlot(metric);
            multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
            if (title is not null) loss.Title($"{title}: loss");
        }
        multiplot.SavePng(full, width, height);
        return full;
    }

    /// <summary>
    /// The residual mixing matrix H_res of every layer as a heatmap on one shared colour scale, with the
    /// values printed in the cells for up to 8 streams. A diverging map centred on 0 is used when any entry is
    /// negative (unconstrained HC), a sequential one otherwise.
    /// </summary>
    /// <param name="matrices">One n×n matrix per layer, in depth order.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="labels">Caption per matrix (default "layer i").</param>
    /// <param name="title">Figure title, or null.</param>
    /// <param name="columns">Heatmaps per row (default: up to 6).</param>
    /// <param name="cellPixels">Approximate size of one heatmap in pixels.</param>
    public static string SaveMixingHeatmaps(IReadOnlyList<float[,]> matrices, string path, IReadOnlyList<string>? labels = null,
        string? title = null, int? columns = null, int cellPixels = 220)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        if (matrices.Count == 0) throw new ArgumentException("No matrices to plot.", nameof(matrices));
        for (int i = 0; i < matrices.Count; i++)
            if (matrices[i].GetLength(0) == 0 || matrices[i].GetLength(1) == 0)
                throw new ArgumentException($"Matrix {i} is empty; expected an n×n H_res matrix.", nameof(matrices));
        if (labels is not null && labels.Count != matrices.Count)
            throw new ArgumentException($"Got {labels.Count} labels for {matrices.Count} matrices.", nameof(labels));
        if (cellPixels < 40) throw new ArgumentOutOfRangeException(nameof(cellPixels), cellPixels, "Use at least 40 pixels per heatmap.");

        int cols = Math.Max(1, Math.Min(columns ?? 6, matrices.Count));
        int rows = (matrices.Count + cols - 1) / cols;
        double min = matrices.Min(m => m.Cast<float>().Min()), max = matrices.Max(m => m.Cast<float>().Max());
        bool diverging = min < 0;
        var range = diverging ? new ScottPlot.Range(-Math.Max(-min, max), Math.Max(-min, max)) : new ScottPlot.Range(0, Math.Max(max, 1e-6));
        IColormap colormap = diverging ? new ScottPlot.Colormaps.Balance() : new ScottPlot.Colormaps.Viridis();

        var plot = NewPlot();
        const double gap = 0.35, captionSpace = 0.45;
        ScottPlot.Plottables.Heatmap? first = null;
        for (int i = 0; i < matrices.Count; i++)
        {
            var m = matrices[i];
            int nr = m.GetLength(0), nc = m.GetLength(1);
            var values = new double[nr, nc];
            for (int r = 0; r < nr; r++)
                for (int c = 0; c < nc; c++) values[r, c] = m[r, c];
            // Every heatmap occupies a unit square so matrices of any size line up; row 0 of H_res at the top.
            double left = (i % cols) * (1 + gap), top = -(i / cols) * (1 + gap + captionSpace);
            var heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = colormap;
            heatmap.ManualRange = range;
            heatmap.Rectangle = new CoordinateRect(left, left + 1, top - 1, top);
            first ??= heatmap;

            if (nr <= 8 && nc <= 8)
                for (int r = 0; r < nr; r++)
                    for (int c = 0; c < nc; c++)
                    {
                        var text = plot.Add.Text(m[r, c].ToString("0.00", CultureInfo.InvariantCulture),
                            left + (c + 0.5) / nc, top - (r + 0.5) / nr);
                        text.LabelAlignment = Alignment.MiddleCenter;
                        text.LabelFontName = SansFont;
                        text.LabelFontSize = Math.Clamp(cellPixels / (nc * 4.2f), 7, 16);
                        double normalized = (m[r, c] - range.Min) / (range.Max - range.Min);
                        text.LabelFontColor = diverging
                            ? (Math.Abs(normalized - 0.5) > 0.3 ? Colors.White : Colors.Black)
                            : (normalized < 0.6 ? Colors.White : Colors.Black);
                    }

            var caption = plot.Add.Text(labels?[i] ?? $"layer {i}", left + 0.5, top + 0.05);
            caption.LabelAlignment = Alignment.LowerCenter;
            caption.LabelFontSize = 14;
            caption.LabelBold = true;
            caption.LabelFontName = SansFont;
        }
        plot.Add.ColorBar(first!);
        plot.Axes.Frameless();
        plot.HideGrid();
        plot.Axes.SetLimits(-gap / 2, cols * (1 + gap) - gap / 2, -rows * (1 + gap + captionSpace) + captionSpace + gap / 2, captionSpace);
        if (title is not null) plot.Title(title);

        int width = cols * cellPixels + 110, height = rows * (int)(cellPixels * (1 + captionSpace / (1 + gap))) + (title is null ? 20 : 60);
        var full = Prepare(path, width, height);
        plot.SavePng(full, width, height);
        return full;
    }

    /// <summary>Heatmaps of every layer's H_res from recorded diagnostics (see <see cref="MixingDiagnostics.Collect"/>).</summary>
    public static string SaveMixingHeatmaps(MixingDiagnostics diagnostics, string path, string? title = null, int? columns = null, int cellPixels = 220)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        return SaveMixingHeatmaps(diagnostics.Layers.Select(l => l.ResidualMixing).ToList(), path,
            diagnostics.Layers.Select(l => $"layer {l.Layer}").ToList(), title, columns, cellPixels);
    }

    /// <summary>
    /// Mixing gain against depth for one or more networks: solid lines for the composite gain of H_l ... H_1,
    /// dashed for single layers, on a log scale by default (HC composites grow exponentially; mHC stays at 1).
    /// </summary>
    /// <param name="series">One series per network.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="title">Figure title, or null.</param>
    /// <param name="logScale">Plot log10 of the gain with labels in gain units (default true).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static string SaveGainVsDepth(IReadOnlyList<GainSeries> series, string path, string? title = null, bool logScale = true,
        int width = 900, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.All(s => s.LayerGain.Count == 0))
            throw new ArgumentException("No gains to plot.", nameof(series));
        foreach (var s in series)
        {
            if (s.CompositeGain is not null && s.CompositeGain.Count != s.LayerGain.Count)
                throw new ArgumentException($"Series '{s.Label}': {s.CompositeGain.Count} composite gains for {s.LayerGain.Count} layers.", nameof(series));
            if (logScale && s.LayerGain.Concat(s.CompositeGain ?? []).Any(g => !(g > 0)))
                throw new ArgumentException($"Series '{s.Label}' has a gain <= 0 or NaN, which a log scale cannot show; pass logScale: false.", nameof(series));
        }
        var full = Prepare(path, width, height);
        var plot = NewPlot();
        double Y(double g) => logScale ? Math.Log10(g) : g;
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = plot.Add.Palette.GetColor(i);
            var depth = Enumerable.Range(1, s.LayerGain.Count).Select(d => (double)d).ToArray();
            if (s.CompositeGain is not null)
            {
                var composite = plot.Add.ScatterLine(depth, s.CompositeGain.Select(Y).ToArray(), color);
                composite.LegendText = $"{s.Label}: composite";
                composite.LineWidth = 2.5f;
            }
            var layer = plot.Add.Scatter(depth, s.LayerGain.Select(Y).ToArray(), color);
            layer.LegendText = $"{s.Label}: per layer";
            layer.LinePattern = LinePattern.Dashed;
            layer.MarkerSize = 5;
        }
        plot.Add.HorizontalLine(Y(1), 1, Colors.Gray, LinePattern.Dotted);
        if (logScale)
        {
            var all = series.SelectMany(s => s.LayerGain.Concat(s.CompositeGain ?? [])).Append(1.0).ToList();
            plot.Axes.Left.TickGenerator = LogTicks(all.Min(), all.Max());
        }
        Style(plot, title ?? "Mixing gain vs depth", "Depth (layer)", logScale ? "Gain (log scale)" : "Gain", legend: null);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(full, width, height);
        return full;
    }

    // ScottPlot's automatic font can land on a serif face on Linux; prefer a common sans-serif family when installed.
    private static readonly string SansFont = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Segoe UI", "Helvetica", "Noto Sans" }
        .FirstOrDefault(f => SkiaSharp.SKFontManager.Default.FontFamilies.Contains(f)) ?? Fonts.Default;

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(SansFont);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    private static string FormatGain(double g) =>
        g >= 1e4 || g < 1e-3 ? g.ToString("0.#E+0", CultureInfo.InvariantCulture) : g.ToString("G4", CultureInfo.InvariantCulture);

    private static void AddSeries(Plot plot, double[] xs, IEnumerable<double?> ys, string label, Color color)
    {
        var pairs = xs.Zip(ys).Where(p => p.Second is { } v && double.IsFinite(v)).ToArray();
        if (pairs.Length == 0) return;
        var line = plot.Add.Scatter(pairs.Select(p => p.First).ToArray(), pairs.Select(p => p.Second!.Value).ToArray(), color);
        line.LegendText = label;
        line.LineWidth = 2;
        line.MarkerSize = pairs.Length <= 40 ? 5 : 0;
    }

    private static void Style(Plot plot, string title, string xLabel, string yLabel, Alignment? legend)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (legend is { } where && plot.GetPlottables().Any(p => p.LegendItems.Any(i => !string.IsNullOrEmpty(i.LabelText))))
            plot.ShowLegend(where);
    }

    // Ticks for log10-transformed values labelled in gain units: decades when the data span several, else 1-2-5 steps.
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int lo = (int)Math.Floor(Math.Log10(min)), hi = (int)Math.Ceiling(Math.Log10(max));
        bool decadesOnly = hi - lo > 2;
        int step = Math.Max(1, (hi - lo) / 8);
        for (int k = lo; k <= hi; k++)
        {
            foreach (var m in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })
            {
                double g = m * Math.Pow(10, k);
                if (g < min / 1.5 || g > max * 1.5) continue;
                bool major = m == 1 ? (k - lo) % step == 0 : !decadesOnly && (m == 2 || m == 5);
                if (major) ticks.AddMajor(Math.Log10(g), FormatGain(g));
                else if (step == 1) ticks.AddMinor(Math.Log10(g));
            }
        }
        return ticks;
    }

    private static string Prepare(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width < 100 || height < 100) throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is too small; use at least 100×100 pixels.");
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }
}
