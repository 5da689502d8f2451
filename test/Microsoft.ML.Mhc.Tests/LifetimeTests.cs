using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Tests.Segmentation;
using Microsoft.ML.Mhc.Tests.TextGeneration;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>Dispose means the same thing everywhere: native memory is freed, and every later use says so by name.</summary>
public sealed class LifetimeTests
{
    private static ITransformer TrainClassifier(MLContext ml, IDataView train) =>
        TestData.Pipeline(ml, TestData.TinyOptions(epochs: 1)).Fit(train);

    private static MhcImageClassificationTransformer Classifier(ITransformer model) =>
        ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();

    private static void AssertDisposed(string expectedName, Action use)
    {
        var e = Assert.ThrowsAny<Exception>(use);
        var disposed = e as ObjectDisposedException ?? e.GetBaseException() as ObjectDisposedException;
        Assert.True(disposed is not null, $"expected ObjectDisposedException, got {e.GetType().Name}: {e.Message}");
        Assert.Equal(expectedName, disposed!.ObjectName);
    }

    [Fact]
    public void TrainedClassifier_AfterUsingEnds_ThrowsObjectDisposedEverywhere()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(10, seed: 1));
        var test = ml.Data.LoadFromEnumerable(TestData.Bars(3, seed: 2));
        IDataView scoredBefore;
        PredictionEngine<BarImage, BarPrediction> engineBefore;
        MhcImageClassificationTransformer classifier;
        var model = TrainClassifier(ml, train);
        using ((IDisposable)model)
        {
            classifier = Classifier(model);
            scoredBefore = model.Transform(test);
            engineBefore = ml.Model.CreatePredictionEngine<BarImage, BarPrediction>(model);
            Assert.Equal(3, engineBefore.Predict(TestData.Bars(1, seed: 3)[0]).Score.Length);
        }
        Assert.True(classifier.IsReleased);
        const string name = nameof(MhcImageClassificationTransformer);
        AssertDisposed(name, () => model.Transform(test));
        AssertDisposed(name, () => ml.Model.CreatePredictionEngine<BarImage, BarPrediction>(model));
        AssertDisposed(name, () => ml.Model.Save(model, train.Schema, TestData.TempPath("disposed.zip")));
        AssertDisposed(name, () => scoredBefore.GetColumn<float[]>("Score").ToArray());
        // The prediction engine made before scores with the saved form's copy of the network, freed too.
        AssertDisposed($"loaded mHC {ImageClassifierSpec.Kind} model", () => engineBefore.Predict(TestData.Bars(1, seed: 3)[0]));
        classifier.Dispose(); // twice is harmless
    }

    [Fact]
    public void LoadedClassifier_DisposeFreesItsNetwork_AndLaterUseThrows()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(10, seed: 1));
        var path = TestData.TempPath("lifetime.zip");
        var model = TrainClassifier(ml, train);
        using ((IDisposable)model)
            MhcModelFile.Save(ml, model, train.Schema, path);

        var fresh = new MLContext();
        var test = fresh.Data.LoadFromEnumerable(TestData.Bars(3, seed: 2));
        var loaded = MhcModelFile.Load(fresh, path, out _);
        var engine = fresh.Model.CreatePredictionEngine<BarImage, BarPrediction>(loaded);
        Assert.Equal(9, loaded.Transform(test).GetColumn<float[]>("Score").Count());
        var network = ImageScoringMappings.Engines.Get(SavedNetworks.Blobs(loaded).Single());
        var parameters = network.Network.parameters().ToList();
        Assert.NotEmpty(parameters);
        Assert.DoesNotContain(parameters, p => p.IsInvalid);

        loaded.Dispose();
        Assert.True(network.IsDisposed);
        Assert.All(parameters, p => Assert.True(p.IsInvalid, "a parameter's native tensor was not freed"));
        AssertDisposed(nameof(MhcLoadedModel), () => loaded.Transform(test));
        AssertDisposed(nameof(MhcLoadedModel), () => fresh.Model.CreatePredictionEngine<BarImage, BarPrediction>(loaded));
        AssertDisposed($"loaded mHC {ImageClassifierSpec.Kind} model", () => engine.Predict(TestData.Bars(1, seed: 3)[0]));
        loaded.Dispose();

        // The same file loaded again is a new model with its own network.
        using var again = MhcModelFile.Load(fresh, path, out _);
        Assert.Equal(9, again.Transform(test).GetColumn<float[]>("Score").Count());
    }

    [Fact]
    public void ModelLoadedByMLNet_IsFreedBySavedNetworksRelease()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(10, seed: 1));
        var path = TestData.TempPath("lifetime-mlnet.zip");
        var model = TrainClassifier(ml, train);
        using ((IDisposable)model)
            ml.Model.Save(model, train.Schema, path);

        var fresh = new MLContext();
        var test = fresh.Data.LoadFromEnumerable(TestData.Bars(3, seed: 2));
        var loaded = fresh.Model.Load(path, out _);
        Assert.Equal(0, SavedNetworks.Release(fresh.Model.Load(path, out _))); // never scored: nothing decoded yet
        Assert.Equal(9, loaded.Transform(test).GetColumn<float[]>("Score").Count());
        Assert.Equal(1, SavedNetworks.Release(loaded));
        Assert.Equal(0, SavedNetworks.Release(loaded));
        AssertDisposed($"loaded mHC {ImageClassifierSpec.Kind} model", () => loaded.Transform(test).GetColumn<float[]>("Score").ToArray());
    }

    [Fact]
    public void Segmentation_DisposedModel_ThrowsObjectDisposed()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(8, 3));
        var rows = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(2, 4));
        var model = ml.Segmentation().Trainers.MhcUNet(SegmentationTestData.TinyOptions(epochs: 1)).Fit(train);
        var engine = ml.Model.CreatePredictionEngine<SquareRow, SquarePrediction>(model);
        Assert.NotEmpty(engine.Predict(SegmentationTestData.Squares(1, 5)[0]).PredictedMask);
        var path = SegmentationTestData.TempPath("segmentation-lifetime.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);

        model.Dispose();
        Assert.True(model.IsReleased);
        const string name = nameof(MhcSegmentationTransformer);
        AssertDisposed(name, () => model.Transform(rows));
        AssertDisposed(name, () => ml.Model.CreatePredictionEngine<SquareRow, SquarePrediction>(model));
        AssertDisposed(name, () => MhcModelFile.Save(ml, model, train.Schema, path + ".again"));
        AssertDisposed($"loaded mHC {SegmentationSpec.Kind} model", () => engine.Predict(SegmentationTestData.Squares(1, 5)[0]));

        var loaded = MhcModelFile.Load(new MLContext(), path, out _);
        Assert.NotEmpty(SegmentationTestData.Masks(loaded.Transform(rows)));
        Assert.Equal(1, SavedNetworks.Release(loaded));
        AssertDisposed(nameof(MhcLoadedModel), () => loaded.Transform(rows));
    }

    [Fact]
    public void TextGeneration_IsDisposable_AndThrowsObjectDisposedAfterwards()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TextGenerationFixture.Lines.Select(l => new TextRow { Text = l }).ToArray());
        var options = TextGenerationFixture.Options(epochs: 1);
        options.StepsPerEpoch = 3;
        var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "the" } });
        var path = Path.Combine(Path.GetTempPath(), $"mhc-text-lifetime-{Guid.NewGuid():N}.zip");
        try
        {
            MhcTextGenerationTransformer model;
            PredictionEngine<PromptRow, GeneratedRow> engine;
            IEnumerator<string> stream;
            using (model = ml.TextGeneration().Trainers.MhcDecoder(options).Fit(train))
            {
                Assert.Equal(12, model.Generate("the").Length);
                engine = ml.Model.CreatePredictionEngine<PromptRow, GeneratedRow>(model);
                Assert.Equal(12, engine.Predict(new PromptRow { Prompt = "the" }).GeneratedText.Length);
                ml.Model.Save(model, prompts.Schema, path);
                stream = model.GenerateStream("the cat").GetEnumerator();
                Assert.True(stream.MoveNext());
            }
            Assert.True(model.IsReleased);
            const string name = nameof(MhcTextGenerationTransformer);
            AssertDisposed(name, () => model.Generate("the"));
            AssertDisposed(name, () => stream.MoveNext());
            AssertDisposed(name, () => model.Generator.Score("the cat sat"));
            AssertDisposed(name, () => model.Transform(prompts));
            AssertDisposed(name, () => ml.Model.CreatePredictionEngine<PromptRow, GeneratedRow>(model));
            AssertDisposed(name, () => ml.Model.Save(model, prompts.Schema, path + ".again"));
            AssertDisposed($"loaded mHC {TextGenerationMapping.NetworkKind} model", () => engine.Predict(new PromptRow { Prompt = "the" }));

            var fresh = new MLContext();
            using var loaded = MhcModelFile.Load(fresh, path, out _);
            var generator = fresh.TextGeneration().CreateGenerator(loaded);
            Assert.Equal(12, generator.Generate("the").Length);
            var parameters = generator.Network.parameters().ToList();
            Assert.NotEmpty(parameters);
            loaded.Dispose();
            Assert.All(parameters, p => Assert.True(p.IsInvalid, "a parameter of the loaded decoder was not freed"));
            AssertDisposed($"loaded mHC {TextGenerationMapping.NetworkKind} model", () => generator.Generate("the"));
            AssertDisposed(nameof(MhcLoadedModel), () => loaded.Transform(prompts));
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".again");
        }
    }
}
