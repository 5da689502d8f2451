using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>With MaxEpochs unset, the epochs follow the data size, and small data hold out rows to stop early.</summary>
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
    public void SmallData_WithDefaults_HoldsOutRows_StopsEarly_AndKeepsTheBestEpoch()
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

        // 90 bars: 9 held out (3 per class), 81 left for training, 6 steps per epoch -> 34 epochs for 200 steps.
        Assert.Contains("MaxEpochs not set: 34 epochs for 81 training rows at batch 16; 9 rows held out to stop after 6 epochs without a better accuracy and keep the best epoch", lines);
        Assert.Contains(lines, l => l.StartsWith("training on cpu: 81 examples, 9 for validation, 34 epochs", StringComparison.Ordinal));
        var epochs = classifier.TrainingHistory.Epochs;
        Assert.InRange(epochs.Count, 7, 33);     // easy data: the holdout accuracy stops improving long before 34
        Assert.Contains(lines, l => l.StartsWith("early stopping after epoch", StringComparison.Ordinal));
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
