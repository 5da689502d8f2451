using Mhc.Samples.Figures;
using Microsoft.ML.Mhc.Plots;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace DepthStudy;

/// <summary>The study's PNGs, in the style of the mHC paper's figures, plus the history-skip dashboard.</summary>
public static class StudyCharts
{
    private static readonly OxyColor GridColor = OxyColor.FromRgb(0xe5, 0xe5, 0xe5);

    /// <summary>Writes every chart into the output folder; returns their full paths.</summary>
    public static IReadOnlyList<string> Save(StudyFigures f)
    {
        var paths = new List<string>();
        string dir = f.Settings.OutDirectory;
        if (Gains(f) is { } gains) paths.Add(PlotPanels.Save(gains, Path.Combine(dir, "gains.png"), 1400, 1000, columns: 2));
        paths.Add(PlotPanels.Save(FinalLossVsDepth(f), Path.Combine(dir, "final-loss-vs-depth.png"), 600 * f.Settings.LearningRates.Count, 520));
        paths.Add(PlotPanels.Save(LossCurves(f), Path.Combine(dir, "loss-curves.png"), 600 * f.Settings.LearningRates.Count, 520));
        if (HistoryDashboard(f) is { } history) paths.Add(PlotPanels.Save(history, Path.Combine(dir, "history-dashboard.png"), 1400, 1000, columns: 2));
        return paths;
    }

    // The paper's fig. 3 for the HC cell with the largest gain and the mHC cell at the same grid point: per-layer and
    // composite forward gain against depth at the step of HC's peak, and the peak composite gains over training for
    // every depth at that learning rate.
    private static List<PlotModel>? Gains(StudyFigures f)
    {
        var hc = f.Cells.Where(c => c.Connection == "hc" && c.LayerForwardAtPeak.Length > 0)
            .OrderByDescending(c => double.IsFinite(c.MaxForwardGain)).ThenByDescending(c => c.MaxForwardGain).FirstOrDefault();
        if (hc is null) return null;
        var mhc = f.Cell("mhc", hc.Depth, hc.LearningRate);
        string at = $"depth {hc.Depth}, peak lr {Study.G(hc.LearningRate)}";
        var perLayer = LogChart($"(a) Per-layer forward gain of H_res ({at})", "layer l", "gain (log)");
        var composite = LogChart($"(b) Composite forward gain of H_l ... H_1 ({at})", "layer l", "gain (log)");
        AddCurve(perLayer, $"HC (step {hc.PeakStep})", Indexed(hc.LayerForwardAtPeak), 3, LineStyle.Solid);
        AddCurve(composite, $"HC (step {hc.PeakStep})", Indexed(hc.CompositeForwardAtPeak), 3, LineStyle.Solid);
        if (mhc is { LayerForwardAtPeak.Length: > 0 })
        {
            AddCurve(perLayer, $"mHC (step {mhc.PeakStep})", Indexed(mhc.LayerForwardAtPeak), 0, LineStyle.Solid);
            AddCurve(composite, $"mHC (step {mhc.PeakStep})", Indexed(mhc.CompositeForwardAtPeak), 0, LineStyle.Solid);
        }
        var overForward = LogChart($"(c) Max composite forward gain during training (peak lr {Study.G(hc.LearningRate)})", "step", "gain (log)");
        var overBackward = LogChart($"(d) Max composite backward gain during training (peak lr {Study.G(hc.LearningRate)})", "step", "gain (log)");
        int colour = 0;
        foreach (var depth in f.Settings.Depths)
        {
            foreach (var (name, style) in new[] { ("hc", LineStyle.Solid), ("mhc", LineStyle.Dash) })
            {
                if (f.Cell(name, depth, hc.LearningRate) is not { } c) continue;
                string label = $"{(name == "hc" ? "HC" : "mHC")} depth {depth}";
                AddCurve(overForward, label, c.RecordSteps.Zip(c.ForwardGain, (s, g) => new DataPoint(s, g)), colour, style);
                AddCurve(overBackward, label, c.RecordSteps.Zip(c.BackwardGain, (s, g) => new DataPoint(s, g)), colour, style);
            }
            colour++;
        }
        return [perLayer, composite, overForward, overBackward];
    }

    private static List<PlotModel> FinalLossVsDepth(StudyFigures f) => f.Settings.LearningRates.Select(lr =>
    {
        var plot = PlotPanels.NewModel($"Final training loss vs depth, peak lr {Study.G(lr)}");
        plot.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Bottom, Title = "depth (blocks, log 2)", Base = 2, StringFormat = "0", MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "final loss (mean of last 10 %; missing = diverged)", Minimum = 0, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Legends.Add(Legend(LegendPosition.LeftTop));
        int colour = 0;
        foreach (var name in f.Settings.Connections)
        {
            var points = f.Settings.Depths.Select(d => f.Cell(name, d, lr)).Where(c => c is not null && double.IsFinite(c.FinalLoss))
                .Select(c => new DataPoint(c!.Depth, c.FinalLoss));
            var line = Line(name, points, colour++, LineStyle.Solid);
            line.MarkerType = MarkerType.Circle;
            line.MarkerSize = 4;
            line.MarkerFill = line.Color;
            plot.Series.Add(line);
        }
        return plot;
    }).ToList();

    private static List<PlotModel> LossCurves(StudyFigures f)
    {
        int depth = f.Settings.Depths.Max();
        return f.Settings.LearningRates.Select(lr =>
        {
            var plot = LogChart($"Training loss (10-step mean), depth {depth}, peak lr {Study.G(lr)}", "step", "cross-entropy (log)");
            int colour = 0;
            foreach (var name in f.Settings.Connections)
            {
                if (f.Cell(name, depth, lr) is not { } c) { colour++; continue; }
                AddCurve(plot, name, TrailingMean.Of(c.Loss, 10).Select((v, i) => new DataPoint(i + 1, v)), colour++, LineStyle.Solid);
            }
            return plot;
        }).ToList();
    }

    // The package's plots for the history skip at the grid depth nearest its 50 layers and the middle learning rate;
    // the gradient-norm panel compares all connections at that grid point.
    private static List<PlotModel>? HistoryDashboard(StudyFigures f)
    {
        double lr = f.Settings.LearningRates[f.Settings.LearningRates.Count / 2];
        if (f.Cell("history", f.ClaimDepth, lr) is not { Mixing.Length: > 0 } h) return null;
        var norms = f.Settings.Connections.Select(name => f.Cell(name, f.ClaimDepth, lr)).Where(c => c is not null)
            .Select(c => (c!.Connection, (IReadOnlyList<double>)c.LayerGradientNorm)).ToList();
        var weights = HistoryPlots.MixingWeightsOverTraining(h.Mixing);
        weights.Title += $" - depth {h.Depth}, peak lr {Study.G(lr)}";
        return [weights, HistoryPlots.HistoryContribution(h.Mixing[^1].Weights), HistoryPlots.GradientNormPerLayer(norms), HistoryPlots.EntropyPerEpoch(h.Epochs)];
    }

    private static PlotModel LogChart(string title, string x, string y)
    {
        var plot = PlotPanels.NewModel(title);
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = x, MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = y, StringFormat = "G3", MajorGridlineStyle = LineStyle.Solid, MajorGridlineColor = GridColor });
        plot.Legends.Add(Legend(LegendPosition.LeftTop));
        return plot;
    }

    private static void AddCurve(PlotModel plot, string label, IEnumerable<DataPoint> points, int colour, LineStyle style) =>
        plot.Series.Add(Line(label, points.Where(p => p.Y > 0 && double.IsFinite(p.Y)), colour, style));

    private static IEnumerable<DataPoint> Indexed(double[] values) => values.Select((v, i) => new DataPoint(i + 1, v));

    private static Legend Legend(LegendPosition position) => new()
    {
        LegendPosition = position, LegendPlacement = LegendPlacement.Inside, LegendFont = PlotPanels.SansFont,
        LegendBackground = OxyColor.FromAColor(200, OxyColors.White),
    };

    private static LineSeries Line(string title, IEnumerable<DataPoint> points, int colour, LineStyle style)
    {
        var line = new LineSeries { Title = title, Color = PlotPanels.SeriesColor(colour), StrokeThickness = 2, LineStyle = style };
        line.Points.AddRange(points);
        return line;
    }
}
