using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Tests.Segmentation;
using Microsoft.ML.Mhc.Tests.TextGeneration;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>
/// A model loaded from disk scores through the same contract as the fresh transformer: the same columns and
/// annotations, the same values, and the same batches (counted as forward passes of each side's network).
/// </summary>
public sealed class LoadedScoringTests(TextGenerationFixture text) : IClassFixture<TextGenerationFixture>
{
    private const int BatchSize = 4;

    [Fact]
    public void LoadedClassifier_HasTheFreshSlotNamesColumnsAndBatches()
    {
        var (ml, train, model) = TrainClassifier();
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
    public void ClassifierLoadedByMLNetFromAStream_ScoresInBatchesOnceWrapped()
    {
        var (ml, train, model) = TrainClassifier();
        var rows = TestData.Bars(10, seed: 2);
        using var stream = new MemoryStream();
        ml.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        var stock = fresh.Model.Load(stream, out _);
        var stockScored = stock.Transform(fresh.Data.LoadFromEnumerable(rows));
        using var wrapped = MhcModelFile.Wrap(stock);
        Assert.Same(wrapped, MhcModelFile.Wrap(wrapped));

        var before = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var after = wrapped.Transform(fresh.Data.LoadFromEnumerable(rows));
        var engine = ImageScoringMappings.Engines.Get(SavedNetworks.Blobs(wrapped).Single());
        long passesBefore = engine.ForwardPasses;
        var actual = TestData.Scores(after);
        Assert.Equal((rows.Count + BatchSize - 1) / BatchSize, engine.ForwardPasses - passesBefore);
        Assert.Equal(TestData.Scores(before), actual);
        AssertSameColumns(before.Schema, after.Schema);
        Assert.Equal(TestData.Classes, SlotNames(after.Schema["Score"]));

        // The stock chain ML.NET rebuilt gives the same scores (up to the last bits a batch's kernels change), one
        // forward pass per row.
        passesBefore = engine.ForwardPasses;
        var rowByRow = TestData.Scores(stockScored);
        Assert.Equal(rows.Count, engine.ForwardPasses - passesBefore);
        Assert.Equal(actual.Length, rowByRow.Length);
        Assert.True(actual.Zip(rowByRow, (a, b) => Math.Abs(a - b)).Max() <= 1e-5f);
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

    [Fact]
    public void LoadedTextGenerator_HasTheFreshColumnsAndOutputs()
    {
        var ml = text.Ml;
        var rows = new[]
        {
            new PromptAndTextRow { Prompt = "the cat", Text = "the cat sat on the mat." },
            new PromptAndTextRow { Prompt = "a dog", Text = "a dog sat on a log." },
        };
        var path = TestData.TempPath("text-model.zip");
        MhcModelFile.Save(ml, text.Model, ml.Data.LoadFromEnumerable(rows).Schema, path);
        var fresh = new MLContext(seed: 9);
        using var loaded = MhcModelFile.Load(fresh, path, out _);

        // Prompt and text: the generated continuation (seeded) and the per-row likelihood, from both.
        var before = text.Model.Transform(ml.Data.LoadFromEnumerable(rows));
        var after = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        AssertSameColumns(before.Schema, after.Schema);
        Assert.NotNull(after.Schema.GetColumnOrNull(DefaultColumnNames.NegativeLogLikelihood));
        Assert.Equal(before.GetColumn<string>("GeneratedText"), after.GetColumn<string>("GeneratedText"));
        Assert.All(after.GetColumn<string>("GeneratedText"), g => Assert.Equal(12, g.Length));
        Assert.Equal(before.GetColumn<float>(DefaultColumnNames.PredictedTokens), after.GetColumn<float>(DefaultColumnNames.PredictedTokens));
        var nats = before.GetColumn<float>(DefaultColumnNames.NegativeLogLikelihood).ToArray();
        var loadedNats = after.GetColumn<float>(DefaultColumnNames.NegativeLogLikelihood).ToArray();
        Assert.Equal(nats.Length, loadedNats.Length);
        for (int i = 0; i < nats.Length; i++) Assert.Equal(nats[i], loadedNats[i], 4);
        Assert.Equal(text.Model.GetOutputSchema(ml.Data.LoadFromEnumerable(rows).Schema).Select(c => c.Name),
            loaded.GetOutputSchema(fresh.Data.LoadFromEnumerable(rows).Schema).Select(c => c.Name));

        // Prompts alone, through ML.NET's own Model.Load (the stock chain): the same column and text as the fresh model.
        var prompts = rows.Select(r => new PromptRow { Prompt = r.Prompt }).ToArray();
        var stock = fresh.Model.Load(path, out _);
        var freshPrompts = text.Model.Transform(ml.Data.LoadFromEnumerable(prompts));
        var stockPrompts = stock.Transform(fresh.Data.LoadFromEnumerable(prompts));
        AssertSameColumns(freshPrompts.Schema, stockPrompts.Schema);
        Assert.Equal(freshPrompts.GetColumn<string>("GeneratedText"), stockPrompts.GetColumn<string>("GeneratedText"));
        SavedNetworks.Release(stock);
    }

    // A one-epoch classifier pipeline scoring in batches of BatchSize.
    private static (MLContext Ml, IDataView Train, ITransformer Model) TrainClassifier()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(30, seed: 1));
        var options = TestData.TinyOptions(epochs: 1);
        options.ScoringBatchSize = BatchSize;
        return (ml, train, TestData.Pipeline(ml, options).Fit(train));
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

public sealed class PromptAndTextRow
{
    public string Prompt = "";
    public string Text = "";
}
