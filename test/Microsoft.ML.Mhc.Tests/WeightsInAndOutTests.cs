using Mhc.Models.Weights;
using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>Weights files on the ML.NET side: scoring from a weights file, and fine-tuning from one.</summary>
[Collection(ClassifierCollection.Name)]
public sealed class WeightsInAndOutTests(ImageClassifierFixture fixture)
{
    /// <summary>The fixture's data with the label mapped to keys by the fixture's own fitted MapValueToKey.</summary>
    private IDataView Keyed(IDataView data) => ((IEnumerable<ITransformer>)fixture.Model).First().Transform(data);

    [Fact]
    public void SavedWeights_HoldTheInputStandardisationBuffers()
    {
        var names = ModuleWeights.Entries(fixture.Classifier.Network).Select(e => e.Name).ToList();
        Assert.Contains("input_mean", names);
        Assert.Contains("input_std", names);
        Assert.Contains(names, n => n.StartsWith("backbone.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("classifier.safetensors")]
    [InlineData("classifier.pt")]
    public void TransformerFromWeights_ScoresExactlyLikeTheTrainedOne(string name)
    {
        var path = fixture.Classifier.SaveWeights(TestData.TempPath(name));
        var test = Keyed(fixture.Test);
        var trainer = new MhcImageClassificationTrainer(fixture.Ml, TestData.TinyOptions());
        using var loaded = trainer.FromWeights(test.Schema, path);

        var expected = TestData.Scores(fixture.Classifier.Transform(test));
        var actual = TestData.Scores(loaded.Transform(test));
        Assert.Equal(0, TestData.MaxAbsDiff(expected, actual));
        Assert.Equal(fixture.Classifier.ClassNames, loaded.ClassNames);
        Assert.Empty(loaded.TrainingHistory.Epochs);
    }

    [Fact]
    public void TransformerFromWeights_OfAnotherNetwork_NamesTheTensor()
    {
        var path = fixture.Classifier.SaveWeights(TestData.TempPath("c.safetensors"));
        var options = TestData.TinyOptions();
        options.BaseWidth = 32;
        var trainer = new MhcImageClassificationTrainer(fixture.Ml, options);
        var e = Assert.Throws<InvalidDataException>(() => trainer.FromWeights(Keyed(fixture.Test).Schema, path));
        Assert.Contains("expected shape [32", e.Message);
        Assert.Contains("found [16", e.Message);
    }

    [Fact]
    public void FineTuning_StartsFromTheWeights()
    {
        var path = fixture.Classifier.SaveWeights(TestData.TempPath("start.safetensors"));
        double FirstEpochLoss(string? weights)
        {
            var options = TestData.TinyOptions(epochs: 1);
            options.InitialWeightsPath = weights;
            var model = TestData.Pipeline(new MLContext(seed: 1), options).Fit(fixture.Train);
            var classifier = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();
            using (classifier) return classifier.TrainingHistory.Epochs[0].TrainLoss;
        }

        double fresh = FirstEpochLoss(null);
        double tuned = FirstEpochLoss(path);
        // The trained weights already separate the classes: the first epoch from them has a far lower loss than from a
        // random start (the fixture's last epoch is the reference).
        Assert.True(tuned < fresh / 2, $"first-epoch loss from the weights {tuned:F4}, from scratch {fresh:F4}");
        Assert.True(tuned < fixture.Reports[^1].TrainLoss * 2 + 0.05, $"first-epoch loss from the weights {tuned:F4}, end of training {fixture.Reports[^1].TrainLoss:F4}");
    }

    [Fact]
    public void FineTuning_FromAMissingFile_Throws_AndABlankPathIsRejected()
    {
        var options = TestData.TinyOptions(epochs: 1);
        options.InitialWeightsPath = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".safetensors");
        Assert.Throws<FileNotFoundException>(() => TestData.Pipeline(new MLContext(seed: 1), options).Fit(fixture.Train));
        options.InitialWeightsPath = " ";
        Assert.Throws<ArgumentException>(() => options.Validate());
    }
}
