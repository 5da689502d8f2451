using Mhc.Models.Layers;
using ScottPlot;

namespace StabilityBenchmark;

/// <summary>The PNG chart: training-loss curves (left) and composite forward gain per layer (right, log10).</summary>
public static class Chart
{
    /// <summary>Draws the chart into the output folder; returns its full path.</summary>
    public static string Save(BenchmarkFigures f, BenchmarkSettings s)
    {
        Directory.CreateDirectory(s.OutDirectory);
        string path = Path.GetFullPath(Path.Combine(s.OutDirectory, "stability.png"));

        // A new Multiplot holds one empty plot: use it for the loss and add one for the gains.
        var multiplot = new Multiplot();
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var loss = multiplot.GetPlot(0);
        int window = Math.Max(1, s.Steps / 20);
        foreach (var r in f.Results)
        {
            var ys = Smooth(r.Loss, window);
            var line = loss.Add.Scatter(Enumerable.Range(1, ys.Length).Select(i => (double)i).ToArray(), ys);
            line.LegendText = Label(r.Kind);
            line.MarkerSize = 0;
        }
        loss.Title($"MNIST training loss (moving mean of {window} steps)");
        loss.XLabel("step");
        loss.YLabel("cross-entropy");
        loss.ShowLegend(Alignment.UpperRight);

        var gain = multiplot.AddPlot();
        var layers = Enumerable.Range(1, s.Depth).Select(i => (double)i).ToArray();
        void Curve(string label, IReadOnlyList<double> composite, bool dashed = false)
        {
            var line = gain.Add.Scatter(layers, composite.Select(g => Math.Log10(Math.Max(g, 1e-12))).ToArray());
            line.LegendText = label;
            line.MarkerSize = 0;
            line.LineWidth = dashed ? 1 : 2;
            if (dashed) line.LinePattern = LinePattern.Dashed;
        }
        var hc = f[ConnectionKind.Hc];
        var mhc = f[ConnectionKind.Mhc];
        Curve("HC, random H_res", hc.RandomInit!.Profile.CompositeForward);
        Curve("mHC, same random params", mhc.RandomInit!.Profile.CompositeForward);
        Curve("HC, trained", hc.Trained.Profile.CompositeForward);
        Curve("mHC, trained", mhc.Trained.Profile.CompositeForward);
        Curve("residual (no mixing: 1)", f[ConnectionKind.Residual].Trained.Profile.CompositeForward, dashed: true);
        gain.Title("Composite forward gain of H_res after layer l");
        gain.XLabel("layer l");
        gain.YLabel("log10 gain");
        gain.ShowLegend(Alignment.UpperLeft);

        multiplot.SavePng(path, 1400, 560);
        return path;
    }

    private static string Label(ConnectionKind k) => k switch
    {
        ConnectionKind.Residual => "residual",
        ConnectionKind.Hc => "HC",
        _ => "mHC",
    };

    private static double[] Smooth(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
