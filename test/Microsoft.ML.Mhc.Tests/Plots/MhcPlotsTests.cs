using Mhc.Models.Diagnostics;
using Microsoft.ML.Mhc.Plots;

namespace Microsoft.ML.Mhc.Tests.Plots;

public sealed class MhcPlotsTests : IDisposable
{
    // The category-10 palette (PlotPanels.SeriesColor): the first series is blue, the second orange.
    private const string Blue = "#1f77b4", Orange = "#ff7f0e";
    // Ends of the Viridis colour map (0 and the top of the shared range).
    private const string ViridisLow = "#440154", ViridisHigh = "#fde725";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"mhc-plots-{Guid.NewGuid():N}");

    public void Dispose()
    {
        // MHC_KEEP_PLOTS=1 keeps the PNGs for a look.
        if (Environment.GetEnvironmentVariable("MHC_KEEP_PLOTS") != "1" && Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static List<TrainingCurvePoint> Curve(bool validation) => Enumerable.Range(1, 12).Select(e => new TrainingCurvePoint(
        e, 2.3 * Math.Exp(-0.3 * e), validation ? 2.4 * Math.Exp(-0.25 * e) + 0.05 : null,
        1 - Math.Exp(-0.4 * e), validation ? 0.97 - Math.Exp(-0.35 * e) : null)).ToList();

    [Fact]
    public void TrainingCurvesDrawTrainAndValidationSeries()
    {
        var path = MhcPlots.SaveTrainingCurves(Curve(validation: true), Path.Combine(_dir, "curves", "train.png"), "Accuracy", "MNIST mHC");
        var png = PngImage.Load(path);
        Assert.Equal((1200, 450), (png.Width, png.Height));
        Assert.True(png.Count(Blue) > 300, $"train lines: {png.Count(Blue)} blue pixels");
        Assert.True(png.Count(Orange) > 300, $"validation lines: {png.Count(Orange)} orange pixels");
    }

    [Fact]
    public void TrainingCurvesWithoutValidationHaveNoValidationLine()
    {
        var png = PngImage.Load(MhcPlots.SaveTrainingCurves(Curve(validation: false), Path.Combine(_dir, "train-only.png")));
        Assert.True(png.Count(Blue) > 300);
        Assert.True(png.Count(Orange) < 20, $"{png.Count(Orange)} orange pixels without validation data");
    }

    [Fact]
    public void HeatmapsOfDoublyStochasticMatricesUseTheSequentialScale()
    {
        var identity = new float[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } };
        var uniform = new float[4, 4];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) uniform[i, j] = 0.25f;
        var path = MhcPlots.SaveMixingHeatmaps([identity, uniform, identity], Path.Combine(_dir, "heat.png"), title: "H_res per layer");
        var png = PngImage.Load(path);
        Assert.True(png.Width >= 3 * 200 && png.Height >= 200, $"{png.Width}×{png.Height}");
        // Two identities: 2 × 4 diagonal cells at the top of the scale and 2 × 12 off-diagonal cells at 0.
        int high = png.Count(ViridisHigh, 20), low = png.Count(ViridisLow, 20);
        Assert.True(high > 2000, $"{high} pixels at the top of the colour map");
        Assert.True(low > 3 * high / 2, $"{low} pixels at 0 vs {high} at the top");
        Assert.True(png.DistinctColors() > 50);
    }

    [Fact]
    public void HeatmapsWithNegativeEntriesUseADivergingScale()
    {
        var hc = new float[,] { { 1.4f, -0.6f }, { -0.3f, 1.2f } };
        var png = PngImage.Load(MhcPlots.SaveMixingHeatmaps([hc, hc], Path.Combine(_dir, "hc.png")));
        Assert.True(png.Count(ViridisLow, 20) < 50, "a diverging map should not use Viridis");
        Assert.True(png.DistinctColors() > 50);
    }

    [Fact]
    public void HeatmapsRejectBadInputWithAClearMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => MhcPlots.SaveMixingHeatmaps([new float[0, 0]], Path.Combine(_dir, "x.png")));
        Assert.Contains("Matrix 0 is empty", e.Message);
        e = Assert.Throws<ArgumentException>(() => MhcPlots.SaveMixingHeatmaps([new float[2, 2]], Path.Combine(_dir, "x.png"), ["a", "b"]));
        Assert.Contains("2 labels for 1 matrices", e.Message);
    }

    [Fact]
    public void GainSeriesFromDiagnosticsMultipliesTheLayers()
    {
        var doubling = new float[,] { { 2, 0 }, { 0, 1 } };
        var stochastic = new float[,] { { 0.5f, 0.5f }, { 0.5f, 0.5f } };
        var layers = Enumerable.Range(0, 3).Select(i => Layer(i, doubling)).ToList();
        var hc = GainSeries.FromDiagnostics("HC", new MixingDiagnostics(layers, 8, 8));
        Assert.Equal([2.0, 2.0, 2.0], hc.LayerGain);
        Assert.Equal([2.0, 4.0, 8.0], hc.CompositeGain!);
        var mhc = GainSeries.FromDiagnostics("mHC", new MixingDiagnostics(Enumerable.Range(0, 3).Select(i => Layer(i, stochastic)).ToList(), 1, 1));
        Assert.All(mhc.CompositeGain!, g => Assert.Equal(1.0, g, 6));

        var png = PngImage.Load(MhcPlots.SaveGainVsDepth([hc, mhc], Path.Combine(_dir, "gain.png")));
        Assert.Equal((900, 500), (png.Width, png.Height));
        Assert.True(png.Count(Blue) > 200, $"HC: {png.Count(Blue)} blue pixels");
        Assert.True(png.Count(Orange) > 200, $"mHC: {png.Count(Orange)} orange pixels");

        var e = Assert.Throws<ArgumentException>(() => MhcPlots.SaveGainVsDepth([new GainSeries("bad", [1, 0])], Path.Combine(_dir, "bad.png")));
        Assert.Contains("'bad' has a gain <= 0", e.Message);
    }

    [Fact]
    public void GainChartsSpanningManyDecadesAndLinearScalesRender()
    {
        var growth = Enumerable.Range(1, 40).Select(l => Math.Pow(1.6, l)).ToList();
        var deep = new GainSeries("HC, 40 layers", Enumerable.Repeat(1.6, 40).ToList(), growth);
        var png = PngImage.Load(MhcPlots.SaveGainVsDepth([deep], Path.Combine(_dir, "deep.png"), "HC composite gain"));
        Assert.True(png.Count(Blue) > 300);
        var linear = PngImage.Load(MhcPlots.SaveGainVsDepth([new GainSeries("signed", [1, -0.5, 0.8])], Path.Combine(_dir, "linear.png"), logScale: false));
        Assert.True(linear.Count(Blue) > 30, $"{linear.Count(Blue)} blue pixels");
    }

    private static LayerMixingDiagnostics Layer(int i, float[,] h) =>
        new(i, $"hc{i}", MixingGain.Forward(h), MixingGain.Backward(h), MixingGain.MinColumnSum(h), MixingGain.DistanceFromIdentity(h), 1, 1, h, null);
}
