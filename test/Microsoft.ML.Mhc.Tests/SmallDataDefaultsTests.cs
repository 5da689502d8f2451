using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>With MaxEpochs unset, the epochs follow the data size; set, it is obeyed.</summary>
public sealed class SmallDataDefaultsTests
{
    [Theory]
    [InlineData(480, 64, 25)]      // 8 steps per epoch
    [InlineData(64, 64, 100)]      // 1 step per epoch: capped at 100 epochs
    [InlineData(1280, 64, 10)]     // 20 steps per epoch: the base 10
    [InlineData(60000, 64, 10)]
    public void Epochs_FollowTheStepBudget(int rows, int batch, int epochs) => Assert.Equal(epochs, SmallDataDefaults.Epochs(rows, batch));

    [Fact]
    public void UnsetMaxEpochs_ReadsTen_AndSettingItTurnsTheChoiceOff()
    {
        var o = new MhcImageClassificationTrainer.Options();
        Assert.True(o.EpochsFromDataSize);
        Assert.Equal(10, o.MaxEpochs);
        o.MaxEpochs = 10;
        Assert.False(o.EpochsFromDataSize);
    }

    [Fact]
    public void SmallData_WithDefaults_TrainsMoreEpochs_AndAnExplicitValueIsObeyed()
    {
        var ml = new MLContext(seed: 1);
        var lines = new List<string>();
        var o = TestData.TinyOptions();
        var defaults = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = o.LabelColumnName, FeatureColumnName = o.FeatureColumnName, ImageHeight = o.ImageHeight, ImageWidth = o.ImageWidth,
            StageDepths = o.StageDepths, BaseWidth = o.BaseWidth, ExpansionRate = o.ExpansionRate, BatchSize = o.BatchSize,
            AugmentShiftPixels = 1, NumberOfThreads = 1, Log = lines.Add,
        };
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(30, seed: 1));
        var model = TestData.Pipeline(ml, defaults).Fit(train);
        var classifier = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();

        // 90 bars at batch 16: 6 steps per epoch -> 34 epochs for about 200 steps, on all rows.
        Assert.Contains("MaxEpochs not set: 34 epochs for 90 training rows at batch 16 (about 200 steps, 10 to 100 epochs)", lines);
        Assert.Contains(lines, l => l.StartsWith("training on cpu: 90 examples, 34 epochs of 6 steps", StringComparison.Ordinal));
        Assert.Equal(34, classifier.TrainingHistory.Epochs.Count);
        Assert.True(defaults.EpochsFromDataSize, "Fit must not change the caller's options");
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(TestData.Bars(10, seed: 2))));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"accuracy {metrics.MicroAccuracy:F3}");

        // Set explicitly: exactly that many epochs, on all rows.
        lines.Clear();
        defaults.MaxEpochs = 2;
        using var explicitModel = ml.MulticlassClassification.Trainers.MhcImage(defaults)
            .Fit(ml.Transforms.Conversion.MapValueToKey("Label").Fit(train).Transform(train));
        Assert.Equal(2, explicitModel.TrainingHistory.Epochs.Count);
        Assert.Contains(lines, l => l.StartsWith("training on cpu: 90 examples, 2 epochs", StringComparison.Ordinal));
        classifier.Dispose();
    }
}
