using Mhc.Models.Layers;
using Microsoft.ML.Data;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>One stream is not a hyper-connection: n = 1 is rejected for HC and mHC with a message that says why, and accepted for residual.</summary>
public sealed class ExpansionRateTests
{
    [Theory]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Mhc)]
    public void ExpansionRateOne_IsRejectedForHyperConnections_WithTheReason(ConnectionKind connection)
    {
        var ml = new MLContext(seed: 1);
        var image = TestData.TinyOptions();
        image.Connection = connection;
        image.ExpansionRate = 1;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.MhcImage(image));
        Assert.Equal("ExpansionRate", e.ParamName);
        Assert.Contains($"at least 2 with Connection = {connection}; got 1", e.Message);
        Assert.Contains("nothing to mix", e.Message);
        Assert.Contains("Connection = Residual", e.Message);

        var text = new MhcDecoderTrainer.Options { Connection = connection, ExpansionRate = 1 };
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.TextGeneration().Trainers.MhcDecoder(text));
        Assert.Contains("Connection = Residual", e.Message);

        var unet = Tests.Segmentation.SegmentationTestData.TinyOptions(epochs: 1);
        unet.Connection = connection;
        unet.ExpansionRate = 1;
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Segmentation().Trainers.MhcUNet(unet));
        Assert.Contains("Connection = Residual", e.Message);
    }

    [Fact]
    public void ExpansionRateOne_TrainsAsResidual()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.TinyOptions(epochs: 1);
        options.Connection = ConnectionKind.Residual;
        options.ExpansionRate = 1;
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(5, seed: 1));
        var scored = TestData.Pipeline(ml, options).Fit(train).Transform(train);
        Assert.Equal(15, scored.GetColumn<string>("PredictedLabel").Count());
    }
}
