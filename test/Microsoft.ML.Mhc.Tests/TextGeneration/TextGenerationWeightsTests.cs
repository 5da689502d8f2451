using Mhc.Models.Weights;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests.TextGeneration;

/// <summary>Text generation from and to weights files: a decoder rebuilt from its weights, and fine-tuning from them.</summary>
public class TextGenerationWeightsTests(TextGenerationFixture fixture) : IClassFixture<TextGenerationFixture>
{
    [Fact]
    public void FromWeights_ScoresAndGeneratesExactlyLikeTheTrainedOne()
    {
        var path = fixture.Model.SaveWeights(TestData.TempPath("decoder.safetensors"));
        var trainer = fixture.Ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options());
        using var loaded = trainer.FromWeights(fixture.Train, path);

        foreach (var line in TextGenerationFixture.Lines)
            Assert.Equal(fixture.Model.Generator.Score(line).TotalNats, loaded.Generator.Score(line).TotalNats);
        Assert.Equal(fixture.Model.Generator.Generate("the "), loaded.Generator.Generate("the "));
    }

    [Fact]
    public void FromWeights_WithAnotherVocabulary_NamesTheEmbeddingTensor()
    {
        var path = ModuleWeights.Save(fixture.Model.Network, TestData.TempPath("decoder.pt"));
        var other = fixture.Ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "xyz only other letters 0123456789" } });
        var trainer = fixture.Ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options());
        var e = Assert.Throws<InvalidDataException>(() => trainer.FromWeights(other, path));
        Assert.Contains("expected shape [", e.Message);
        Assert.Contains("embed", e.Message);
    }

    [Fact]
    public void FineTuning_StartsFromTheWeights()
    {
        var path = ModuleWeights.Save(fixture.Model.Network, TestData.TempPath("start.safetensors"));
        double FirstEpochLoss(string? weights)
        {
            var options = TextGenerationFixture.Options(epochs: 1);
            options.InitialWeightsPath = weights;
            using var model = new MLContext(seed: 1).TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train);
            return model.History!.Epochs[0].TrainLoss;
        }
        double fresh = FirstEpochLoss(null), tuned = FirstEpochLoss(path);
        Assert.True(tuned < fresh * 0.75, $"first-epoch loss from the weights {tuned:F4}, from scratch {fresh:F4}");
    }
}
