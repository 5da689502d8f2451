using Mhc.Models.Diagnostics;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Microsoft.ML.Mhc.Plots;

/// <summary>
/// The <c>mhc</c> package's training plots for history-window skips, as OxyPlot panels (compose them with
/// <see cref="PlotPanels.Save"/>) and as one dashboard PNG: mixing weights over training, the history contribution of
/// every layer, gradient norm per layer, and the per-epoch newest-state weight and mixing entropy.
/// </summary>
public static class HistoryPlots
{
    private static readonly OxyColor GridColor = OxyColor.FromRgb(0xe5, 0xe5, 0xe5);

    /// <summary>
    /// Mixing weights over training: one line per window position (t-k ... t-1 = the newest), each the mean over the
    /// layers whose window is full.
    /// </summary>
    /// <param name="snapshots">Recorded snapshots (see <see cref="HistoryMixingLog"/>), in order.</param>
    public static PlotModel MixingWeightsOverTraining(IReadOnlyList<HistoryMixingSnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        if (snapshots.Count == 0 || snapshots[0].Weights.Count == 0) throw new ArgumentException("No snapshots with history skips to plot.", nameof(snapshots));
        int k = snapshots[0].Weights.Max(w => w.Length);
        var plot = Chart("Mixing weights over training (mean over layers)", "step", "weight alpha", LegendPosition.RightMiddle);
        for (int j = 0; j < k; j++)
        {
            var points = snapshots.Select(s =>
            {
                var full = s.Weights.Where(w => w.Length == k).ToList();
                return new DataPoint(s.Step, full.Average(w => (double)w[j]));
            });
            plot.Series.Add(Line(Position(j, k), points, j));
        }
        return plot;
    }

    /// <summary>The package's <c>plot_mixing_weights</c>: a heat map of every layer's weights (rows: layers, columns: window
    /// positions aligned so that the newest state is the last column).</summary>
    /// <param name="weightsPerLayer">Each layer's weights, oldest first (shorter windows at the first layers).</param>
    public static PlotModel HistoryContribution(IReadOnlyList<float[]> weightsPerLayer)
    {
        ArgumentNullException.ThrowIfNull(weightsPerLayer);
        if (weightsPerLayer.Count == 0) throw new ArgumentException("No layers to plot.", nameof(weightsPerLayer));
        int layers = weightsPerLayer.Count, k = weightsPerLayer.Max(w => w.Length);
        var data = new double[k, layers];
        for (int l = 0; l < layers; l++)
        {
            var w = weightsPerLayer[l];
            for (int j = 0; j < k; j++) data[j, l] = j < k - w.Length ? double.NaN : w[j - (k - w.Length)];
        }
        var plot = PlotPanels.NewModel("History contribution per layer (alpha)");
        plot.Axes.Add(new CategoryAxis { Position = AxisPosition.Bottom, Title = "window position", ItemsSource = Enumerable.Range(0, k).Select(j => Position(j, k)).ToArray() });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "layer", StartPosition = 1, EndPosition = 0, Minimum = 0.5, Maximum = layers + 0.5 });
        plot.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalettes.Viridis(256), Minimum = 0, Maximum = 1, InvalidNumberColor = OxyColors.LightGray, StringFormat = "0.0" });
        plot.Series.Add(new HeatMapSeries
        {
            X0 = 0, X1 = k - 1, Y0 = 1, Y1 = layers, Data = data, Interpolate = false,
            CoordinateDefinition = HeatMapCoordinateDefinition.Center, RenderMethod = HeatMapRenderMethod.Rectangles,
        });
        return plot;
    }

    /// <summary>The package's <c>plot_gradient_flow</c>, per block: the L2 gradient norm of each block's parameters against
    /// depth, one line per network, on a log scale.</summary>
    /// <param name="series">Label and per-block norms (depth order).</param>
    public static PlotModel GradientNormPerLayer(IReadOnlyList<(string Label, IReadOnlyList<double> Norms)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = PlotPanels.NewModel("Gradient norm per layer");
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "layer", MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "|grad| (log)", MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor, StringFormat = "G3" });
        plot.Legends.Add(Legend(LegendPosition.RightTop));
        for (int i = 0; i < series.Count; i++)
        {
            var (label, norms) = series[i];
            plot.Series.Add(Line(label, norms.Select((g, l) => new DataPoint(l + 1, g)).Where(p => p.Y > 0 && double.IsFinite(p.Y)), i));
        }
        return plot;
    }

    /// <summary>Per epoch: mean newest-state weight (left axis) and mean mixing entropy in nats (right axis), as the package's
    /// training callback logs them.</summary>
    /// <param name="perEpoch">One snapshot per epoch, in order.</param>
    public static PlotModel EntropyPerEpoch(IReadOnlyList<HistoryMixingSnapshot> perEpoch)
    {
        ArgumentNullException.ThrowIfNull(perEpoch);
        var plot = PlotPanels.NewModel("Newest-state weight and mixing entropy per epoch");
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "epoch", MinimumMajorStep = 1, StringFormat = "0", MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "newest-state weight", Key = "w", Minimum = 0, Maximum = 1 });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Title = "entropy (nats)", Key = "h", Minimum = 0 });
        plot.Legends.Add(Legend(LegendPosition.RightBottom));
        var newest = Line("newest-state weight", perEpoch.Select((s, e) => new DataPoint(e + 1, s.MeanNewestWeight)), 0);
        newest.YAxisKey = "w";
        newest.MarkerType = MarkerType.Circle;
        var entropy = Line("mixing entropy", perEpoch.Select((s, e) => new DataPoint(e + 1, s.MeanEntropy)), 1);
        entropy.YAxisKey = "h";
        entropy.MarkerType = MarkerType.Circle;
        plot.Series.Add(newest);
        plot.Series.Add(entropy);
        return plot;
    }

    /// <summary>The four panels in one PNG (2 x 2), like the package's training dashboard; returns the full path.</summary>
    /// <param name="log">The mixing log of the run (snapshots over training).</param>
    /// <param name="perEpoch">The snapshots taken at epoch ends.</param>
    /// <param name="gradientNorms">Per-layer gradient norms of one or more networks.</param>
    /// <param name="path">PNG file to write.</param>
    public static string SaveDashboard(IReadOnlyList<HistoryMixingSnapshot> log, IReadOnlyList<HistoryMixingSnapshot> perEpoch,
        IReadOnlyList<(string Label, IReadOnlyList<double> Norms)> gradientNorms, string path)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (log.Count == 0) throw new ArgumentException("The mixing log is empty.", nameof(log));
        return PlotPanels.Save(
            [MixingWeightsOverTraining(log), HistoryContribution(log[^1].Weights), GradientNormPerLayer(gradientNorms), EntropyPerEpoch(perEpoch)],
            path, 1400, 1000, columns: 2);
    }

    private static string Position(int j, int k) => j == k - 1 ? "t-1 (newest)" : $"t-{k - j}";

    private static PlotModel Chart(string title, string x, string y, LegendPosition legend)
    {
        var plot = PlotPanels.NewModel(title);
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = x, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = y, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Legends.Add(Legend(legend));
        return plot;
    }

    private static Legend Legend(LegendPosition position) => new()
    {
        LegendPosition = position, LegendPlacement = LegendPlacement.Inside, LegendFont = PlotPanels.SansFont,
        LegendBackground = OxyColor.FromAColor(200, OxyColors.White),
    };

    private static LineSeries Line(string title, IEnumerable<DataPoint> points, int colour)
    {
        var line = new LineSeries { Title = title, Color = PlotPanels.SeriesColor(colour), StrokeThickness = 2 };
        line.Points.AddRange(points);
        return line;
    }
}
