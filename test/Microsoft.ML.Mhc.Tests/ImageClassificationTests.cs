using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Tests;

[Collection(ClassifierCollection.Name)]
public sealed class ImageClassificationTests(ImageClassifierFixture f)
{
    [Fact]
    public void FitThenEvaluateLearnsTheSyntheticClasses()
    {
        var scored = f.Model.Transform(f.Test);
        var metrics = f.Ml.MulticlassClassification.Evaluate(scored);
        Assert.True(metrics.MicroAccuracy >= 0.9, $"accuracy {metrics.MicroAccuracy:F3}");
        Assert.True(metrics.LogLoss < 0.5, $"log-loss {metrics.LogLoss:F3}");
        var predicted = scored.GetColumn<string>("PredictedLabel").ToArray();
        var truth = f.TestRows.Select(r => r.Label).ToArray();
        Assert.True(predicted.Zip(truth).Count(p => p.First == p.Second) >= 0.9 * truth.Length);
    }

    [Fact]
    public void OutputColumnsHaveTheMlNetShapes()
    {
        var schema = f.Model.Transform(f.Test).Schema;
        var score = schema["Score"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type);
        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        Assert.Equal(["horizontal", "vertical", "diagonal"], names.DenseValues().Select(n => n.ToString()).ToArray());
        Assert.Equal(TextDataViewType.Instance, schema["PredictedLabel"].Type);
        var probabilities = f.Model.Transform(f.Test).GetColumn<float[]>("Score").First();
        Assert.Equal(1.0, probabilities.Sum(), 4);
    }

    [Fact]
    public void EstimatorPropagatesTheSchema()
    {
        var ml = new MLContext(1);
        // SchemaShape's factory is internal in ML.NET 5; a custom mapping's output shape is a public way to get one.
        var input = ml.Transforms.CustomMapping<EmptyRow, BarImage>((_, _) => { }, null).GetOutputSchema(new SchemaShape([]));
        var output = TestData.Pipeline(ml, TestData.TinyOptions()).GetOutputSchema(input);
        var score = output.Single(c => c.Name == "Score");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Contains(score.Annotations, a => a.Name == "SlotNames");
        var predicted = output.Single(c => c.Name == "PredictedLabel");
        Assert.Equal(TextDataViewType.Instance, predicted.ItemType);
        Assert.Contains(output, c => c.Name == "Pixels");

        var noKey = ml.Transforms.CustomMapping<EmptyRow, BarImage>((_, _) => { }, null).GetOutputSchema(new SchemaShape([]));
        var error = Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.MhcImage(TestData.TinyOptions()).GetOutputSchema(noKey));
        Assert.Contains("'Label' must be a key type", error.Message);
    }

    [Fact]
    public void SaveThenLoadInAFreshContextGivesTheSameScores()
    {
        var path = TestData.TempPath("model.zip");
        MhcModelFile.Save(f.Ml, f.Model, f.Train.Schema, path);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));

        var fresh = new MLContext(seed: 7);
        var loaded = MhcModelFile.Load(fresh, path, out var schema);
        Assert.Equal(f.Train.Schema.Select(c => c.Name), schema.Select(c => c.Name));
        var test = fresh.Data.LoadFromEnumerable(f.TestRows);
        var before = f.Model.Transform(f.Test);
        var after = loaded.Transform(test);
        Assert.True(TestData.MaxAbsDiff(TestData.Scores(before), TestData.Scores(after)) <= 1e-5);
        Assert.Equal(before.GetColumn<string>("PredictedLabel"), after.GetColumn<string>("PredictedLabel"));
        var m1 = f.Ml.MulticlassClassification.Evaluate(before);
        var m2 = fresh.MulticlassClassification.Evaluate(after);
        Assert.Equal(m1.MicroAccuracy, m2.MicroAccuracy);
        Assert.Equal(m1.LogLoss, m2.LogLoss, 5);
        // The loaded model is stock ML.NET transforms only.
        Assert.DoesNotContain(Flatten(loaded), t => t.GetType().Assembly == typeof(MhcImageClassificationTransformer).Assembly);
        Assert.DoesNotContain(after.Schema, c => c.Name.StartsWith(SavedScoringChain.TempPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public void PredictionEngineWorksInMemoryAndAfterReload()
    {
        var path = TestData.TempPath("model.zip");
        f.Ml.Model.Save(f.Model, f.Train.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        var inMemory = f.Ml.Model.CreatePredictionEngine<BarImage, BarPrediction>(f.Model);
        var reloaded = fresh.Model.CreatePredictionEngine<BarImage, BarPrediction>(loaded);
        var batch = TestData.Scores(f.Model.Transform(f.Test));
        for (int i = 0; i < f.TestRows.Count; i++)
        {
            var row = new BarImage { Pixels = f.TestRows[i].Pixels };
            var a = inMemory.Predict(row);
            var b = reloaded.Predict(row);
            Assert.Equal(a.PredictedLabel, b.PredictedLabel);
            Assert.Equal(3, b.Score.Length);
            Assert.True(TestData.MaxAbsDiff(a.Score, b.Score) <= 1e-5);
            Assert.True(TestData.MaxAbsDiff(a.Score, batch[(i * 3)..(i * 3 + 3)]) <= 1e-5);
        }
    }

    [Fact]
    public void LoadedScoringIsThreadSafe()
    {
        var path = TestData.TempPath("model.zip");
        f.Ml.Model.Save(f.Model, f.Train.Schema, path);
        var ml = new MLContext();
        var loaded = ml.Model.Load(path, out _);
        var expected = TestData.Scores(loaded.Transform(ml.Data.LoadFromEnumerable(f.TestRows)));
        var results = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var engine = ml.Model.CreatePredictionEngine<BarImage, BarPrediction>(loaded);
            results[t] = f.TestRows.SelectMany(r => engine.Predict(new BarImage { Pixels = r.Pixels }).Score).ToArray();
        });
        foreach (var r in results) Assert.True(TestData.MaxAbsDiff(expected, r) <= 1e-6);
    }

    [Fact]
    public void TransformerExposesNetworkHistoryAndDiagnostics()
    {
        var classifier = f.Classifier;
        Assert.Equal(MhcImageArchitecture.HyperResNet, classifier.Spec.Architecture);
        Assert.Equal(3, classifier.Spec.NumClasses);
        Assert.Equal(["horizontal", "vertical", "diagonal"], classifier.ClassNames);
        Assert.Equal(6, classifier.TrainingHistory.Epochs.Count);
        Assert.Equal(6, f.Reports.Count);
        Assert.True(f.Reports[^1].TrainLoss < f.Reports[0].TrainLoss);
        Assert.Contains("accuracy", f.Reports[^1].TrainMetrics.Keys);
        var diagnostics = classifier.Diagnostics;
        Assert.NotNull(diagnostics);
        Assert.Equal(classifier.Network.HyperConnections.Count, diagnostics!.Layers.Count);
        // Sinkhorn makes H_res doubly stochastic: unit row and column sums up to the iteration tolerance.
        Assert.InRange(diagnostics.MaxLayerForwardGain, 0.99, 1.01);
        Assert.InRange(diagnostics.MaxLayerBackwardGain, 0.99, 1.05);
    }

    [Fact]
    public void RepeatedTransformsDoNotLeakNativeTensors()
    {
        var scoredOnce = f.Model.Transform(f.Test);
        _ = TestData.Scores(scoredOnce);
        // Scoring runs on the thread that reads the cursor, so this thread's live-tensor count sees every tensor it makes.
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10; i++)
            _ = TestData.Scores(f.Model.Transform(f.Test));
        long after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"live tensors grew from {before} to {after} over 10 transforms");
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer t) =>
        t is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [t];

    public sealed class EmptyRow;
}
