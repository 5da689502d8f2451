using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Tests.Segmentation;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>
/// A model loaded from disk scores through the same contract as the fresh transformer: the same columns and
/// annotations, the same values, and the same batches (counted as forward passes of each side's network).
/// </summary>
public sealed class LoadedScoringTests
{
    private const int BatchSize = 4;

    [Fact]
    public void LoadedClassifier_HasTheFreshSlotNamesColumnsAndBatches()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(30, seed: 1));
        var options = TestData.TinyOptions(epochs: 1);
        options.ScoringBatchSize = BatchSize;
        var model = TestData.Pipeline(ml, options).Fit(train);
        using var classifier = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();
        var rows = TestData.Bars(10, seed: 2);
        var path = TestData.TempPath("batched-model.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var fresh = new MLContext();
        using var loaded = MhcModelFile.Load(fresh, path, out _);

        long freshBefore = classifier.Engine.ForwardPasses;
        var before = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var expected = TestData.Scores(before);
        var after = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        var engine = ImageScoringMappings.Engines.Get(SavedNetworks.Blobs(loaded).Single());
        long loadedBefore = engine.ForwardPasses;
        var actual = TestData.Scores(after);

        int batches = (rows.Count + BatchSize - 1) / BatchSize;
        Assert.True(batches < rows.Count);
        Assert.Equal(batches, classifier.Engine.ForwardPasses - freshBefore);
        Assert.Equal(batches, engine.ForwardPasses - loadedBefore);
        Assert.Equal(expected, actual);
        Assert.Equal(before.GetColumn<string>("PredictedLabel"), after.GetColumn<string>("PredictedLabel"));
        AssertSameColumns(before.Schema, after.Schema);
        Assert.Equal(SlotNames(before.Schema["Score"]), SlotNames(after.Schema["Score"]));
        Assert.Equal(TestData.Classes, SlotNames(after.Schema["Score"]));
        Assert.Equal(SlotNames(before.Schema["Score"]), SlotNames(loaded.GetOutputSchema(train.Schema)["Score"]));
    }

    [Fact]
    public void LoadedSegmentation_HasTheFreshColumnsAndBatches()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(16, 3));
        var options = SegmentationTestData.TinyOptions(epochs: 1);
        options.OutputProbabilities = true;
        options.ScoringBatchSize = BatchSize;
        using var model = ml.Segmentation().Trainers.MhcUNet(options).Fit(train);
        var rows = SegmentationTestData.Squares(6, 4);
        var path = SegmentationTestData.TempPath("batched-segmentation.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var fresh = new MLContext();
        using var loaded = MhcModelFile.Load(fresh, path, out _);

        long freshBefore = model.Engine.ForwardPasses;
        var before = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var expectedMasks = SegmentationTestData.Masks(before);
        long freshPasses = model.Engine.ForwardPasses - freshBefore;
        var expectedProbabilities = before.GetColumn<float[]>("Probabilities").SelectMany(p => p).ToArray();
        var after = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        var engine = SegmentationScoringMappings.Engines.Get(SavedNetworks.Blobs(loaded).Single());
        long loadedBefore = engine.ForwardPasses;
        var masks = SegmentationTestData.Masks(after);

        int batches = (rows.Count + BatchSize - 1) / BatchSize;
        Assert.True(batches < rows.Count);
        Assert.Equal(batches, freshPasses);
        Assert.Equal(batches, engine.ForwardPasses - loadedBefore);
        Assert.Equal(expectedMasks, masks);
        Assert.Equal(expectedProbabilities, after.GetColumn<float[]>("Probabilities").SelectMany(p => p).ToArray());
        AssertSameColumns(before.Schema, after.Schema);
    }

    private static void AssertSameColumns(DataViewSchema expected, DataViewSchema actual)
    {
        Assert.Equal(expected.Select(c => (c.Name, c.Type.ToString())), actual.Select(c => (c.Name, c.Type.ToString())));
        Assert.Equal(expected.Select(c => string.Join(",", c.Annotations.Schema.Select(a => a.Name))),
            actual.Select(c => string.Join(",", c.Annotations.Schema.Select(a => a.Name))));
    }

    private static string[] SlotNames(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}
