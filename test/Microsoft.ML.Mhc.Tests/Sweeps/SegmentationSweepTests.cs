using Mhc.Models.Layers;
using Mhc.Models;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Sweeps;
using Microsoft.ML.Mhc.Tests.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

/// <summary>
/// The segmentation trainer swept by <see cref="Sweeper{TOptions}"/> with the mean-IoU metric: its options carry
/// the architecture knobs, and a two-point learning-rate grid on tiny synthetic squares picks the rate that learns.
/// </summary>
public class SegmentationSweepTests
{
    [Fact]
    public void OptionsSweepTheArchitectureKnobs_AndTheAttributeDefaultsAreTheOptionsDefaults()
    {
        var space = SweepSpace.For<MhcSegmentationTrainer.Options>();
        foreach (var name in new[] { "Connection", "Depth", "BaseWidth", "BlocksPerStage", "ExpansionRate", "MaxHistory",
            "SkipConstraint", "DynamicMixing", "ClassWeighting", "DiceLossWeight", "BatchSize", "LearningRate", "WeightDecay", "MaxEpochs" })
            Assert.NotNull(space[name]);
        var connection = Assert.IsType<ChoiceDimension>(space["Connection"]);
        Assert.Equal(new object[] { ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc }, connection.Candidates);
        // The task's own defaults, not the shared ones of MhcTrainerOptions (batch 64, learning rate 0.002).
        Assert.Equal(16, Assert.IsType<ChoiceDimension>(space["BatchSize"]).DefaultValue);
        Assert.Equal(3e-3, Assert.IsType<RangeDimension>(space["LearningRate"]).Init);
        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(MhcSegmentationTrainer.Options)));
        // Every point of the space is a valid configuration at the default 64x64 size.
        var random = new Random(1);
        for (int i = 0; i < 50; i++)
        {
            var options = new MhcSegmentationTrainer.Options();
            space.Apply(options, space.Sample(random));
            options.Validate();
        }
    }

    [Fact]
    public void LearningRateGrid_PicksTheRateThatLearns_AndReturnsAFittedModelWithItsOptions()
    {
        MhcEnvironment.EnsureTorch();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(48, 11));
        var validation = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(12, 12));
        var baseOptions = SegmentationTestData.TinyOptions(epochs: 3);
        baseOptions.NumberOfClasses = 3;
        var settings = new SweepSettings<MhcSegmentationTrainer.Options>
        {
            Strategy = SweepStrategy.Grid, GridPointsPerRange = 2, Include = ["LearningRate"], BaseOptions = baseOptions,
        };
        var sweeper = new Sweeper<MhcSegmentationTrainer.Options>(ml, o => ml.Segmentation().Trainers.MhcUNet(o),
            SweepMetric.MeanIoU(ml, "Mask", numberOfClasses: 3), settings);
        var result = sweeper.Fit(train, validation);

        Assert.Equal(2, result.Trials.Count);
        Assert.All(result.Trials, t => Assert.Equal(SweepTrialStatus.Completed, t.Status));
        // The grid's two points are the ends of the log range [1e-4, 3e-2]; 1e-4 barely moves the weights in 3 epochs.
        var slow = result.Trials.Single(t => (double)t.Parameters["LearningRate"] < 1e-3);
        Assert.Equal(3e-2, result.Options.LearningRate, 9);
        Assert.True(result.BestMetric > slow.Metric + 0.3, $"mIoU {result.BestMetric:F3} at 3e-2 vs {slow.Metric:F3} at 1e-4");
        Assert.Equal(ConnectionKind.Mhc, result.Options.Connection); // not swept: keeps the base value
        Assert.Equal(3, result.Options.MaxEpochs);

        var model = Assert.IsType<MhcSegmentationTransformer>(result.Model);
        var again = ml.Segmentation().Evaluate(model.Transform(validation), "Mask", numberOfClasses: 3);
        Assert.Equal(result.BestMetric, again.MeanIoU, 9);
        model.Dispose();
    }
}
