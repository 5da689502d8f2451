using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Transforms;
using Mhc.Interop.Tests;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Interop;

/// <summary>
/// A classifier made by the PyTorch twin (interop/pytorch/make_fixtures.py: mhc_twin.ImageClassifier, input
/// standardisation buffers plus a Hyper-ResNet) scored by ML.NET: <see cref="MhcImageClassificationTrainer.FromWeights"/>
/// gives the twin's softmax, and <c>Evaluate</c> the accuracy the twin's logits imply.
/// </summary>
public sealed class TwinClassifierFixtureTests
{
    private sealed class Image
    {
        [VectorType(144)]
        public float[] Pixels { get; set; } = [];

        public string Label { get; set; } = "";
    }

    [Theory]
    [InlineData("classifier-mhc.safetensors")]
    [InlineData("classifier-mhc.pt")]
    public void FromTwinWeights_ScoresTheTwinsSoftmax_AndEvaluateGivesItsAccuracy(string file)
    {
        var (input, logits) = TwinFixtureFiles.ReadIo("classifier-mhc");
        int rows = (int)input.shape[0];
        var pixels = input.reshape(rows, -1).data<float>().ToArray();
        var predicted = logits.argmax(1).data<long>().ToArray();
        // Images 0..9 carry digits 0..9 (every class occurs, so the key has ten values); the rest the twin's prediction.
        var labels = Enumerable.Range(0, rows).Select(i => i < 10 ? i : (int)predicted[i]).ToArray();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new Image
        {
            Pixels = pixels.AsSpan(i * 144, 144).ToArray(), Label = labels[i].ToString(CultureInfo.InvariantCulture),
        }).ToList());
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(data).Transform(data);
        var options = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = "Label", FeatureColumnName = "Pixels", ImageHeight = 12, ImageWidth = 12, Channels = 1,
            BaseWidth = 4, StageDepths = [2, 1],
        };
        using var model = new MhcImageClassificationTrainer(ml, options).FromWeights(keyed.Schema, TwinFixtureFiles.PathOf(file));
        var scored = model.Transform(keyed);

        var expected = nn.functional.softmax(logits, 1).data<float>().ToArray();
        double diff = TestData.MaxAbsDiff(expected, TestData.Scores(scored));
        Assert.True(diff <= TwinFixtureFiles.Tolerance, $"{file}: max |diff| {diff:E2} between ML.NET's scores and the twin's softmax");
        double twinAccuracy = labels.Where((label, i) => label == predicted[i]).Count() / (double)rows;
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(twinAccuracy, metrics.MicroAccuracy, 12);
    }
}
