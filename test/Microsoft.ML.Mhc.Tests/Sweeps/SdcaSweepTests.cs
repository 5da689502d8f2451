using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Sweeps;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

/// <summary>A real ML.NET trainer, swept by k-fold: L2 regularisation shrinks a linear regression's predictions, so the smallest L2 wins.</summary>
public class SdcaSweepTests
{
    public sealed class SdcaOptions
    {
        [Range(1e-2f, 100f, 1f, true)]
        public float L2Regularization { get; set; } = 1f;

        [Range(5, 40)]
        public int MaximumNumberOfIterations { get; set; } = 10;
    }

    public sealed class Row
    {
        [VectorType(2)] public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    [Fact]
    public void KFoldSweepOfSdcaPicksWeakRegularisationAndRefitsOnAllData()
    {
        var ml = new MLContext(seed: 3);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 300).Select(_ =>
        {
            float a = (float)(random.NextDouble() * 2 - 1), b = (float)(random.NextDouble() * 2 - 1);
            return new Row { Features = [a, b], Label = 3 * a - 2 * b + (float)(random.NextDouble() * 0.1 - 0.05) };
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);

        var settings = new SweepSettings<SdcaOptions> { Strategy = SweepStrategy.Grid, GridPointsPerRange = 4, NumberOfFolds = 3, Include = ["L2Regularization"] };
        var sweeper = new Sweeper<SdcaOptions>(ml,
            o => ml.Regression.Trainers.Sdca(l2Regularization: o.L2Regularization, maximumNumberOfIterations: o.MaximumNumberOfIterations),
            SweepMetric.RSquared(ml), settings);
        var result = sweeper.Fit(data);

        Assert.Equal(4, result.Trials.Count);
        Assert.All(result.Trials, t => Assert.Equal(3, t.FoldMetrics.Count));
        Assert.Equal(1e-2f, result.Options.L2Regularization, 1e-6f);
        Assert.True(result.BestMetric > 0.95, $"R² {result.BestMetric}");
        var worst = result.Trials.MinBy(t => t.Metric)!;
        Assert.Equal(100f, (float)worst.Parameters["L2Regularization"], 1e-3f);
        Assert.True(worst.Metric < result.BestMetric - 0.1, $"L2=100 gave R² {worst.Metric}");

        Assert.Equal("all data", result.ModelFittedOn);
        var r2 = ml.Regression.Evaluate(result.Model.Transform(data)).RSquared;
        Assert.True(r2 > 0.95, $"refitted model R² {r2}");
    }
}
