using Microsoft.ML.Mhc.Onnx;
using Xunit.Abstractions;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The ML.NET face: a fitted pipeline, and the same model saved and loaded with <c>mlContext.Model.Load</c>, export to
/// an .onnx file whose ONNX Runtime probabilities equal the model's <c>Score</c> column.
/// </summary>
[Collection(ClassifierCollection.Name)]
public sealed class MhcOnnxModelTests(ImageClassifierFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void FittedPipeline_ExportsAGraphWithTheModelsScores()
    {
        var dir = Directory.CreateTempSubdirectory("mhc-onnx-");
        try
        {
            var path = fixture.Ml.Model.ExportToOnnx(fixture.Model, Path.Combine(dir.FullName, "sub", "bars.onnx"));
            Assert.True(File.Exists(path));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temporary file left
            AssertScoresMatch(File.ReadAllBytes(path), "fitted");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadedModel_ExportsTheSameGraph()
    {
        using var saved = new MemoryStream();
        fixture.Ml.Model.Save(fixture.Model, fixture.Train.Schema, saved);
        saved.Position = 0;
        var loaded = fixture.Ml.Model.Load(saved, out _);
        try
        {
            using var onnx = new MemoryStream();
            MhcOnnx.Export(fixture.Ml, loaded, onnx);
            AssertScoresMatch(onnx.ToArray(), "loaded");
        }
        finally
        {
            Persistence.SavedNetworks.Release(loaded);
        }
    }

    [Fact]
    public void ModelWithoutAnMhcClassifier_IsRejected()
    {
        var other = fixture.Ml.Transforms.Conversion.MapValueToKey("Label").Fit(fixture.Train);
        var error = Assert.Throws<ArgumentException>(() => MhcOnnx.Export(fixture.Ml, other, new MemoryStream()));
        Assert.Contains("no mHC image classifier", error.Message);
    }

    private void AssertScoresMatch(byte[] model, string form)
    {
        var expected = TestData.Scores(fixture.Model.Transform(fixture.Test));
        var rows = fixture.TestRows.SelectMany(r => r.Pixels).ToArray();
        var (_, probabilities) = OnnxScoring.Run(model, rows, fixture.TestRows.Count);
        double diff = OnnxScoring.MaxAbsDiff(expected, probabilities);
        output.WriteLine($"{form} model, {fixture.TestRows.Count} rows: max |probability diff| {diff:E2}");
        Assert.True(diff <= 1e-4, $"The {form} model's ONNX probabilities differ from its Score column by {diff:E3}.");
    }
}
