using Mhc.Samples.Figures;
using Mhc.Models.Layers;
using Mhc.Samples.Networks;
using Microsoft.ML.Mhc.Plots;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace StabilityBenchmark;

/// <summary>The PNG chart: training-loss curves (left) and composite forward gain per layer (right, log10).</summary>
public static class Chart
{
    /// <summary>Draws the chart into the output folder; returns its full path.</summary>
    public static string Save(BenchmarkFigures f, BenchmarkSettings s)
    {
        int window = Math.Max(1, s.Steps / 20);
        var loss = Panel($"MNIST training loss (moving mean of {window} steps)", "step", "cross-entropy", LegendPosition.RightTop);
        int colour = 0;
        foreach (var r in f.Results)
        {
            var ys = TrailingMean.Of(r.Loss, window);
            loss.Series.Add(Line(Label(r.Kind), Enumerable.Range(1, ys.Length).Select(i => (double)i), ys, colour++, dashed: false));
        }

        var gain = Panel("Composite forward gain of H_res after layer l", "layer l", "log10 gain", LegendPosition.LeftTop);
        var layers = Enumerable.Range(1, s.Depth).Select(i => (double)i).ToArray();
        colour = 0;
        void Curve(string label, IReadOnlyList<double> composite, bool dashed = false) =>
            gain.Series.Add(Line(label, layers, composite.Select(g => Math.Log10(Math.Max(g, 1e-12))), colour++, dashed));
        var hc = f[ConnectionKind.Hc];
        var mhc = f[ConnectionKind.Mhc];
        Curve("HC, random H_res", hc.RandomInit!.Profile.CompositeForward);
        Curve("mHC, same random params", mhc.RandomInit!.Profile.CompositeForward);
        Curve("HC, trained", hc.Trained.Profile.CompositeForward);
        Curve("mHC, trained", mhc.Trained.Profile.CompositeForward);
        Curve("residual (no mixing: 1)", f[ConnectionKind.Residual].Trained.Profile.CompositeForward, dashed: true);

        return PlotPanels.Save([loss, gain], Path.Combine(s.OutDirectory, "stability.png"), 1400, 560);
    }

    private static PlotModel Panel(string title, string xLabel, string yLabel, LegendPosition legend)
    {
        var plot = PlotPanels.NewModel(title);
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xLabel });
        plot.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yLabel });
        plot.Legends.Add(new Legend { LegendPosition = legend, LegendFont = PlotPanels.SansFont });
        return plot;
    }

    private static LineSeries Line(string title, IEnumerable<double> xs, IEnumerable<double> ys, int colour, bool dashed)
    {
        var line = new LineSeries
        {
            Title = title,
            Color = PlotPanels.SeriesColor(colour),
            StrokeThickness = dashed ? 1 : 2,
            LineStyle = dashed ? LineStyle.Dash : LineStyle.Solid,
        };
        line.Points.AddRange(xs.Zip(ys, (x, y) => new DataPoint(x, y)));
        return line;
    }

    private static string Label(ConnectionKind k) => k switch
    {
        ConnectionKind.Residual => "residual",
        ConnectionKind.Hc => "HC",
        _ => "mHC",
    };
}
