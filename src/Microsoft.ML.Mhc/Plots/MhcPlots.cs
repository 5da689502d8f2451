using Mhc.Models.Diagnostics;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Microsoft.ML.Mhc.Plots;

/// <summary>
/// PNG charts for mHC training (OxyPlot on SkiaSharp 2.88): training curves, per-layer residual mixing matrices H_res
/// as heatmaps, and mixing gain against depth. Each method writes one file atomically, creating its folder, and returns
/// its full path.
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
        var epochs = points.Select(p => (double)p.Epoch).ToArray();
        bool hasMetric = points.Any(p => p.TrainMetric is not null || p.ValidationMetric is not null);

        var loss = LineChart(title is null ? "Loss" : $"{title}: loss", "Epoch", "Loss", LegendPosition.RightTop);
        AddSeries(loss, epochs, points.Select(p => (double?)p.TrainLoss), "train", 0);
        AddSeries(loss, epochs, points.Select(p => p.ValidationLoss), "validation", 1);
        var panels = new List<PlotModel> { loss };
        if (hasMetric)
        {
            var metric = LineChart(metricName, "Epoch", metricName, LegendPosition.RightBottom);
            AddSeries(metric, epochs, points.Select(p => p.TrainMetric), "train", 0);
            AddSeries(metric, epochs, points.Select(p => p.ValidationMetric), "validation", 1);
            panels.Add(metric);
        }
        return PlotPanels.Save(panels, path, width, height);
    }

    /// <summary>
    /// The residual mixing matrix H_res of every layer as a heatmap on one shared colour scale, with the
    /// values printed in the cells for up to 8 streams. A diverging map centred on 0 is used when any entry is
    /// negative (unconstrained HC), a sequential one (Viridis) otherwise.
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

        double min = matrices.Min(m => m.Cast<float>().Min()), max = matrices.Max(m => m.Cast<float>().Max());
        bool diverging = min < 0;
        double low = diverging ? -Math.Max(-min, max) : 0, high = diverging ? Math.Max(-min, max) : Math.Max(max, 1e-6);
        var palette = diverging ? OxyPalettes.BlueWhiteRed(256) : OxyPalettes.Viridis(256);

        // Every heatmap is one panel of the same size; one extra, narrow panel carries the shared colour bar.
        int cols = Math.Max(1, Math.Min(columns ?? 6, matrices.Count));
        var panels = new List<PlotModel>();
        for (int i = 0; i < matrices.Count; i++)
        {
            panels.Add(Heatmap(matrices[i], labels?[i] ?? $"layer {i}", palette, low, high, cellPixels));
            if (i % cols == cols - 1 || i == matrices.Count - 1)
            {
                while (panels.Count % (cols + 1) != cols) panels.Add(Empty());
                panels.Add(i < cols ? ColourBar(palette, low, high) : Empty());
            }
        }
        if (title is not null) panels[0].Title = $"{title}: {panels[0].Title}";
        int rows = panels.Count / (cols + 1);
        int width = cols * cellPixels + 110, height = rows * (cellPixels + 30);
        var widths = Enumerable.Repeat((double)cellPixels, cols).Append(110.0).ToArray();
        return PlotPanels.Save(panels, path, width, height, cols + 1, widths);
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
    /// <param name="logScale">Logarithmic gain axis (default true).</param>
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
        var plot = PlotPanels.NewModel(title ?? "Mixing gain vs depth");
        plot.Axes.Add(IntegerAxis("Depth (layer)"));
        plot.Axes.Add(logScale
            ? new LogarithmicAxis { Position = AxisPosition.Left, Title = "Gain (log scale)", MinimumPadding = 0.05, MaximumPadding = 0.05, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor, StringFormat = "G4" }
            : new LinearAxis { Position = AxisPosition.Left, Title = "Gain", MinimumPadding = 0.05, MaximumPadding = 0.05, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = PlotPanels.SeriesColor(i);
            if (s.CompositeGain is not null)
                plot.Series.Add(Line($"{s.Label}: composite", Enumerable.Range(1, s.CompositeGain.Count).Select(d => (double)d), s.CompositeGain, color, 2.5, LineStyle.Solid, MarkerType.None));
            plot.Series.Add(Line($"{s.Label}: per layer", Enumerable.Range(1, s.LayerGain.Count).Select(d => (double)d), s.LayerGain, color, 1.5, LineStyle.Dash, MarkerType.Circle));
        }
        plot.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Horizontal, Y = 1, Color = OxyColors.Gray, LineStyle = LineStyle.Dot, Layer = AnnotationLayer.BelowSeries });
        plot.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside, LegendFont = PlotPanels.SansFont });
        return PlotPanels.Save([plot], path, width, height);
    }

    /// <summary>
    /// One value per pixel of an image (row-major, <paramref name="height"/> x <paramref name="width"/>) as a heat map with a
    /// colour bar, e.g. the drop in accuracy when each pixel is permuted
    /// (<c>MulticlassClassification.PermutationFeatureImportance</c>). A diverging map centred on 0 is used when values
    /// of both signs occur, a sequential one otherwise; NaN pixels are grey.
    /// </summary>
    /// <param name="values">height x width values, row-major.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="title">Figure title, or null.</param>
    /// <param name="pixels">Side of the heat map in pixels (default 480).</param>
    public static string SavePixelHeatmap(IReadOnlyList<double> values, int height, int width, string path, string? title = null, int pixels = 480)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (height < 1 || width < 1 || values.Count != height * width)
            throw new ArgumentException($"Expected height x width = {height} x {width} = {height * width} values, got {values.Count}.", nameof(values));
        if (pixels < 100) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "Use at least 100 pixels.");
        var finite = values.Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double min = finite.Min(), max = finite.Max();
        bool diverging = min < 0 && max > 0;
        double low = diverging ? -Math.Max(-min, max) : min, high = diverging ? Math.Max(-min, max) : Math.Max(max, min + 1e-12);
        var palette = diverging ? OxyPalettes.BlueWhiteRed(256) : OxyPalettes.Viridis(256);
        var m = new float[height, width];
        for (int r = 0; r < height; r++)
            for (int c = 0; c < width; c++) m[r, c] = (float)values[r * width + c];
        var heatmap = Heatmap(m, title ?? "", palette, low, high, pixels);
        ((LinearColorAxis)heatmap.Axes[2]).InvalidNumberColor = OxyColors.LightGray;
        return PlotPanels.Save([heatmap, ColourBar(palette, low, high)], path, pixels + 110, pixels + 30, 2, [pixels, 110]);
    }

    private static readonly OxyColor GridColor = OxyColor.FromRgb(0xe5, 0xe5, 0xe5);

    private static PlotModel LineChart(string title, string xLabel, string yLabel, LegendPosition legend)
    {
        var plot = PlotPanels.NewModel(title);
        plot.Axes.Add(IntegerAxis(xLabel));
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yLabel, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Legends.Add(new Legend { LegendPosition = legend, LegendPlacement = LegendPlacement.Inside, LegendFont = PlotPanels.SansFont, LegendBackground = OxyColor.FromAColor(200, OxyColors.White) });
        return plot;
    }

    private static LinearAxis IntegerAxis(string title) => new()
    {
        Position = AxisPosition.Bottom, Title = title, MinimumMajorStep = 1, MinimumMinorStep = 1, StringFormat = "0",
        MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor,
    };

    private static void AddSeries(PlotModel plot, double[] xs, IEnumerable<double?> ys, string label, int colorIndex)
    {
        var pairs = xs.Zip(ys).Where(p => p.Second is { } v && double.IsFinite(v)).ToArray();
        if (pairs.Length == 0) return;
        plot.Series.Add(Line(label, pairs.Select(p => p.First), pairs.Select(p => p.Second!.Value), PlotPanels.SeriesColor(colorIndex), 2,
            LineStyle.Solid, pairs.Length <= 40 ? MarkerType.Circle : MarkerType.None));
    }

    private static LineSeries Line(string title, IEnumerable<double> xs, IEnumerable<double> ys, OxyColor color, double thickness, LineStyle style, MarkerType marker)
    {
        var line = new LineSeries
        {
            Title = title, Color = color, StrokeThickness = thickness, LineStyle = style,
            MarkerType = marker, MarkerSize = 3.5, MarkerFill = color,
        };
        line.Points.AddRange(xs.Zip(ys, (x, y) => new DataPoint(x, y)));
        return line;
    }

    private static PlotModel Heatmap(float[,] m, string caption, OxyPalette palette, double low, double high, int cellPixels)
    {
        int nr = m.GetLength(0), nc = m.GetLength(1);
        var plot = PlotPanels.NewModel(caption);
        plot.TitleFontWeight = FontWeights.Bold;
        plot.TitleFontSize = 14;
        plot.PlotAreaBorderThickness = new OxyThickness(0);
        plot.Padding = new OxyThickness(6);
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Minimum = 0, Maximum = nc, IsAxisVisible = false });
        // Row 0 of H_res at the top, as the matrix is written.
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Minimum = 0, Maximum = nr, StartPosition = 1, EndPosition = 0, IsAxisVisible = false });
        plot.Axes.Add(new LinearColorAxis { Palette = palette, Minimum = low, Maximum = high, IsAxisVisible = false, Key = "colour" });
        var data = new double[nc, nr];
        for (int r = 0; r < nr; r++)
            for (int c = 0; c < nc; c++) data[c, r] = m[r, c];
        plot.Series.Add(new HeatMapSeries
        {
            // Cell centres at 0.5, 1.5, ...: OxyPlot places the value labels at the centres.
            X0 = 0.5, X1 = nc - 0.5, Y0 = 0.5, Y1 = nr - 0.5, Data = data, Interpolate = false, ColorAxisKey = "colour",
            CoordinateDefinition = HeatMapCoordinateDefinition.Center, RenderMethod = HeatMapRenderMethod.Rectangles,
            LabelFormatString = nr <= 8 && nc <= 8 ? "0.00" : null, LabelFontSize = nr <= 8 && nc <= 8 ? Math.Min(0.22, 0.9 / nc) : 0,
        });
        return plot;
    }

    private static PlotModel ColourBar(OxyPalette palette, double low, double high)
    {
        var plot = PlotPanels.NewModel();
        plot.PlotAreaBorderThickness = new OxyThickness(0);
        plot.Padding = new OxyThickness(4, 30, 40, 30);
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, IsAxisVisible = false, Minimum = 0, Maximum = 1 });
        plot.Axes.Add(new LinearColorAxis
        {
            Position = AxisPosition.Right, Palette = palette, Minimum = low, Maximum = high, Key = "colour",
            StringFormat = "G3", FontSize = 12,
        });
        // A colour axis is drawn only next to a series that uses it: an invisible one-cell heatmap.
        plot.Series.Add(new HeatMapSeries { X0 = 0, X1 = 0, Y0 = 0, Y1 = 0, Data = new double[1, 1], ColorAxisKey = "colour", IsVisible = false });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, IsAxisVisible = false, Minimum = 0, Maximum = 1 });
        return plot;
    }

    private static PlotModel Empty()
    {
        var plot = PlotPanels.NewModel();
        plot.PlotAreaBorderThickness = new OxyThickness(0);
        return plot;
    }
}
