using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.Tests;

public sealed class DeterminismAndControlTests
{
    private static MhcImageClassificationTransformer Fit(MhcImageClassificationTrainer.Options options, int seed = 1, int perClass = 10)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestData.Bars(perClass, seed));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        return ml.MulticlassClassification.Trainers.MhcImage(options).Fit(keyed);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeights()
    {
        using var a = Fit(TestData.TinyOptions(epochs: 2));
        using var b = Fit(TestData.TinyOptions(epochs: 2));
        Assert.Equal(NetworkWeights.ToBytes(a.Network), NetworkWeights.ToBytes(b.Network));
        var other = TestData.TinyOptions(epochs: 2);
        other.Seed = 2;
        using var c = Fit(other);
        Assert.NotEqual(NetworkWeights.ToBytes(a.Network), NetworkWeights.ToBytes(c.Network));
    }

    [Fact]
    public void RandomAffineAugmentation_IsSeeded_AndChangesTraining()
    {
        static MhcImageClassificationTrainer.Options Affine()
        {
            var o = TestData.TinyOptions(epochs: 1);
            o.AugmentRotationDegrees = 12;
            o.AugmentScale = 0.1;
            return o;
        }
        using var a = Fit(Affine());
        using var b = Fit(Affine());
        Assert.Equal(NetworkWeights.ToBytes(a.Network), NetworkWeights.ToBytes(b.Network));
        using var shiftsOnly = Fit(TestData.TinyOptions(epochs: 1));
        Assert.NotEqual(NetworkWeights.ToBytes(a.Network), NetworkWeights.ToBytes(shiftsOnly.Network));
        var bad = Affine();
        bad.AugmentScale = 1;
        Assert.Contains("AugmentScale", Assert.ThrowsAny<ArgumentException>(() => bad.Validate()).Message);
        bad = Affine();
        bad.AugmentRotationDegrees = -5;
        Assert.Contains("AugmentRotationDegrees", Assert.ThrowsAny<ArgumentException>(() => bad.Validate()).Message);
    }

    [Fact]
    public void CancellationStopsTraining()
    {
        using var source = new CancellationTokenSource();
        var options = TestData.TinyOptions(epochs: 50);
        options.CancellationToken = source.Token;
        options.EpochCallback = r => { if (r.Epoch == 2) source.Cancel(); };
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(options));
    }

    [Fact]
    public void ValidationEarlyStoppingAndLogging()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(10, 1));
        var key = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var lines = new List<string>();
        var reports = new List<MhcEpochReport>();
        var options = TestData.TinyOptions(epochs: 30);
        options.ValidationSet = key.Transform(ml.Data.LoadFromEnumerable(TestData.Bars(5, 9)));
        options.EarlyStoppingPatience = 2;
        options.Log = lines.Add;
        options.EpochCallback = reports.Add;
        // A learning rate this small barely moves the weights, so validation stops improving early.
        options.LearningRate = 1e-7;
        options.WarmupFraction = 0;
        using var model = ml.MulticlassClassification.Trainers.MhcImage(options).Fit(key.Transform(train));
        var history = model.TrainingHistory;
        Assert.True(history.StoppedEarly);
        Assert.True(history.Epochs.Count < 30);
        Assert.NotNull(history.BestEpoch);
        Assert.All(reports, r => Assert.Contains("accuracy", r.ValidationMetrics.Keys));
        Assert.All(reports, r => Assert.NotNull(r.ValidationLoss));
        Assert.Contains(lines, l => l.StartsWith("epoch 1/30: loss", StringComparison.Ordinal) && l.Contains("val accuracy"));
        Assert.Contains(lines, l => l.StartsWith("early stopping", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("restored the weights of epoch", StringComparison.Ordinal));
    }

    [Fact]
    public void TimeBudgetEndsTrainingAfterAnEpoch()
    {
        var lines = new List<string>();
        var options = TestData.TinyOptions(epochs: 20);
        options.TrainingTimeBudget = TimeSpan.FromMilliseconds(1);
        options.Log = lines.Add;
        using var model = Fit(options);
        Assert.Single(model.TrainingHistory.Epochs);
        Assert.True(model.TrainingHistory.StoppedEarly);
        Assert.Contains(lines, l => l.StartsWith("time budget of", StringComparison.Ordinal));
    }

    [Fact]
    public void ResidualAndHcConnectionsTrainToo()
    {
        foreach (var kind in new[] { global::Mhc.Models.Layers.ConnectionKind.Residual, global::Mhc.Models.Layers.ConnectionKind.Hc })
        {
            var options = TestData.TinyOptions(epochs: 1);
            options.Connection = kind;
            using var model = Fit(options);
            Assert.Equal(kind, model.Spec.HyperResNet!.Mixing.Connection);
            Assert.Single(model.TrainingHistory.Epochs);
        }
    }

    [Fact]
    public void VisionTransformerTrainsAndRoundTrips()
    {
        var options = TestData.TinyOptions(epochs: 4);
        options.Architecture = MhcImageArchitecture.VisionTransformer;
        options.PatchSize = 2;
        options.TransformerDim = 16;
        options.TransformerLayers = 1;
        options.TransformerHeads = 2;
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(20, 1));
        var model = TestData.Pipeline(ml, options).Fit(train);
        var classifier = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single();
        Assert.Equal(MhcImageArchitecture.VisionTransformer, classifier.Spec.Architecture);
        Assert.IsType<global::Mhc.Models.Transformers.HyperVisionTransformer>(classifier.Network.Backbone);
        Assert.NotEmpty(classifier.Network.HyperConnections);
        Assert.True(classifier.TrainingHistory.Epochs[^1].TrainLoss < classifier.TrainingHistory.Epochs[0].TrainLoss);

        var test = ml.Data.LoadFromEnumerable(TestData.Bars(5, 3));
        var path = TestData.TempPath("vit.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var loaded = MhcModelFile.Load(new MLContext(), path, out _);
        Assert.True(TestData.MaxAbsDiff(TestData.Scores(model.Transform(test)), TestData.Scores(loaded.Transform(test))) <= 1e-5);
        classifier.Dispose();
    }

    [Fact]
    public void VisionTransformerSavedBeforeHeadOptions_IsRebuiltWithTheMeanPoolAndLearnedPositions()
    {
        // Specs saved before the head and position settings existed lack them; their weights fit the old network.
        var options = TestData.TinyOptions(epochs: 1);
        options.Architecture = MhcImageArchitecture.VisionTransformer;
        options.PatchSize = 2;
        options.TransformerDim = 16;
        options.TransformerLayers = 1;
        options.TransformerHeads = 2;
        var spec = MhcImageClassificationTrainer.CreateSpec(options, 3);
        var current = ImageClassifierSpec.FromJson(spec.ToJson());
        Assert.Equal(global::Mhc.Models.Transformers.VisionTransformerHead.TokenGrid, Backbone(current).Options.Head);
        foreach (var key in new[] { "Head", "HeadGridSize", "Positions" }) Assert.True(spec.VisionTransformer!.Remove(key), key);
        var legacy = Backbone(ImageClassifierSpec.FromJson(spec.ToJson()));
        Assert.Equal(global::Mhc.Models.Transformers.VisionTransformerHead.MeanPool, legacy.Options.Head);
        Assert.Equal(global::Mhc.Models.Transformers.PatchPositionEncoding.Learned, legacy.Options.Positions);
        Assert.Contains(legacy.named_parameters(), p => p.name == "position_embedding");

        static global::Mhc.Models.Transformers.HyperVisionTransformer Backbone(ImageClassifierSpec s) =>
            (global::Mhc.Models.Transformers.HyperVisionTransformer)ImageNetworkFactory.Create(s).Network;
    }

    [Fact]
    public void VisionTransformerOptionsAreValidated()
    {
        var options = TestData.TinyOptions(epochs: 1);
        options.Architecture = MhcImageArchitecture.VisionTransformer;
        options.PatchSize = 3;
        var e = Assert.ThrowsAny<ArgumentException>(() => Fit(options));
        Assert.Contains("PatchSize", e.Message);
    }
}
