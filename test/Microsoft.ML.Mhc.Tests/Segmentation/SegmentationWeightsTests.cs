using Microsoft.ML;
using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Segmentation;

/// <summary>Segmentation from and to weights files: scoring from a weights file, and fine-tuning from one.</summary>
public class SegmentationWeightsTests
{
    private static MhcSegmentationTrainer.Options Options(int epochs)
    {
        var options = SegmentationTestData.TinyOptions(epochs: epochs);
        options.OutputProbabilities = true;
        return options;
    }

    [Fact]
    public void FromWeights_ScoresExactlyLikeTheTrainedOne_AndFineTuningStartsFromTheWeights()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(32, 1));
        var test = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(8, 2));
        using var trained = ml.Segmentation().Trainers.MhcUNet(Options(3)).Fit(train);
        var path = trained.SaveWeights(TestData.TempPath("unet.pt"));

        // Scoring: the class count comes from NumberOfClasses, since there is no training data to read it from.
        var noClasses = new MhcSegmentationTrainer(ml, Options(3));
        Assert.Throws<ArgumentException>(() => noClasses.FromWeights(test.Schema, path));
        var scoringOptions = Options(3);
        scoringOptions.NumberOfClasses = 3;
        using var loaded = new MhcSegmentationTrainer(ml, scoringOptions).FromWeights(test.Schema, path);
        var expected = trained.Transform(test);
        var actual = loaded.Transform(test);
        Assert.Equal(SegmentationTestData.Masks(expected), SegmentationTestData.Masks(actual));
        Assert.Equal(0, TestData.MaxAbsDiff(TestData.Scores(expected, "Probabilities"), TestData.Scores(actual, "Probabilities")));

        // Fine-tuning: one epoch from the trained weights starts far below one epoch from scratch.
        double FirstEpochLoss(string? weights)
        {
            var options = Options(1);
            options.InitialWeightsPath = weights;
            using var model = new MLContext(seed: 1).Segmentation().Trainers.MhcUNet(options).Fit(train);
            return model.TrainingHistory.Epochs[0].TrainLoss;
        }
        double fresh = FirstEpochLoss(null), tuned = FirstEpochLoss(path);
        Assert.True(tuned < fresh / 2, $"first-epoch loss from the weights {tuned:F4}, from scratch {fresh:F4}");
    }
}
