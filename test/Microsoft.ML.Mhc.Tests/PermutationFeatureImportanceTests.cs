using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Plots;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>ML.NET's PermutationFeatureImportance works on the image classifier: one result per pixel, and some pixels matter far more than others.</summary>
[Collection(ClassifierCollection.Name)]
public sealed class PermutationFeatureImportanceTests(ImageClassifierFixture f)
{
    [Fact]
    public void PermutationFeatureImportance_RanksThePixels()
    {
        ISingleFeaturePredictionTransformer<ImageClassifierNetwork> classifier = f.Classifier;
        Assert.Equal("Pixels", classifier.FeatureColumnName);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 64), classifier.FeatureColumnType);
        Assert.Same(f.Classifier.Network, classifier.Model);

        var keyed = f.Ml.Transforms.Conversion.MapValueToKey("Label").Fit(f.Train).Transform(f.Test);
        var pfi = f.Ml.MulticlassClassification.PermutationFeatureImportance(classifier, keyed);
        Assert.Equal(64, pfi.Length);
        Assert.All(pfi, p => Assert.Equal(1, p.LogLoss.Count));
        // One bar covers 8 of 64 pixels, so a single permuted pixel rarely flips a prediction, but it moves the log-loss:
        // on average permuting hurts, and some pixels matter clearly more than others.
        var increase = pfi.Select(p => p.LogLoss.Mean).ToArray();
        Assert.True(increase.Average() > 0, $"mean log-loss change {increase.Average():F5}");
        Assert.True(increase.Max() > 10 * Math.Abs(increase.Min()), $"log-loss change from {increase.Min():F5} to {increase.Max():F5}");

        var png = Plots.PngImage.Load(MhcPlots.SavePixelHeatmap(increase, TestData.Size, TestData.Size, TestData.TempPath("pfi.png"), "log-loss increase"));
        Assert.Equal((590, 510), (png.Width, png.Height));
        Assert.True(png.DistinctColors() > 10);
    }
}
