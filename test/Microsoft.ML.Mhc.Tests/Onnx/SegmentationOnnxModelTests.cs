using Microsoft.ML.Mhc.Onnx;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Tests.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The ML.NET face on a segmentation model: the fitted model's ONNX file gives ONNX Runtime the same masks as its
/// <c>PredictedMask</c> column and its probabilities within 1e-4; the model saved and loaded exports the same file.
/// </summary>
public sealed class SegmentationOnnxModelTests
{
    [Fact]
    public void FittedAndLoadedModels_ExportTheSegmenter()
    {
        var ml = new MLContext(seed: 1);
        var rows = SegmentationTestData.Squares(16, 1);
        var train = ml.Data.LoadFromEnumerable(rows);
        var options = SegmentationTestData.TinyOptions(epochs: 1);
        options.OutputProbabilities = true;
        using var model = ml.Segmentation().Trainers.MhcUNet(options).Fit(train);
        var scored = model.Transform(train);

        using var fitted = new MemoryStream();
        MhcOnnx.Export(ml, model, fitted);
        int batch = rows.Count, pixels = SegmentationTestData.Pixels;
        using var outputs = OnnxScoring.Run(fitted.ToArray(), [(MhcOnnxNames.Features, OnnxScoring.Tensor(rows.SelectMany(r => r.Image).ToArray(), [batch, pixels]))],
            [MhcOnnxNames.Mask, MhcOnnxNames.Probabilities]);
        var masks = SegmentationTestData.Masks(scored);
        Assert.Equal(masks.Select(m => (long)m), outputs[0].GetTensorDataAsSpan<long>().ToArray());
        Assert.True(masks.Distinct().Count() > 1, "Every pixel has the same class.");
        double diff = OnnxScoring.MaxAbsDiff(TestData.Scores(scored, "Probabilities"), outputs[1].GetTensorDataAsSpan<float>().ToArray());
        Assert.True(diff <= 1e-4, $"The ONNX probabilities differ from the Probabilities column by {diff:E3}.");

        using var saved = new MemoryStream();
        ml.Model.Save(model, train.Schema, saved);
        saved.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(saved, out _);
        try
        {
            using var again = new MemoryStream();
            MhcOnnx.Export(ml, loaded, again);
            Assert.Equal(fitted.ToArray(), again.ToArray());
        }
        finally
        {
            Persistence.SavedNetworks.Release(loaded);
        }
    }
}
