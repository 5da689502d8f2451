using Mhc.Models;
using Mhc.Models.Layers;
using Microsoft.ML.Mhc.Sweeps;
using Microsoft.ML.Mhc.Tests.TextGeneration;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

/// <summary>
/// The decoder trainer swept by <see cref="Sweeper{TOptions}"/> with a held-out loss metric: its options carry the
/// architecture knobs, and a two-point learning-rate grid on a tiny repetitive corpus picks the rate that learns.
/// </summary>
public class TextGenerationSweepTests
{
    [Fact]
    public void OptionsSweepTheArchitectureKnobs_AndEveryPointIsAValidNetwork()
    {
        var space = SweepSpace.For<MhcDecoderTrainer.Options>();
        foreach (var name in new[] { "Connection", "ExpansionRate", "DynamicMixing", "ContextLength", "Dim", "Layers", "Heads",
            "MlpRatio", "Dropout", "TieEmbeddings", "BatchSize", "LearningRate", "WeightDecay", "WarmupFraction", "MaxEpochs" })
            Assert.NotNull(space[name]);
        Assert.Null(space["Generation"]); // sampling does not change the trained network
        Assert.Equal(new object[] { ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc },
            Assert.IsType<ChoiceDimension>(space["Connection"]).Candidates);
        Assert.Equal(32, Assert.IsType<ChoiceDimension>(space["BatchSize"]).DefaultValue);
        Assert.Equal(1e-3, Assert.IsType<RangeDimension>(space["LearningRate"]).Init);
        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(MhcDecoderTrainer.Options)));
        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(TextGenerationOptions)));
        Assert.Equal(["Temperature", "TopK", "TopP"], SweepSpace.For<TextGenerationOptions>().Dimensions.Select(d => d.Name));
        // Heads is swept over divisors of every swept Dim, so no sampled point fails validation.
        var random = new Random(2);
        for (int i = 0; i < 50; i++)
        {
            var options = new MhcDecoderTrainer.Options();
            space.Apply(options, space.Sample(random));
            options.Validate();
        }
    }

    [Fact]
    public void LearningRateGrid_PicksTheRateThatLearns_AndReturnsAFittedModelWithItsOptions()
    {
        MhcEnvironment.EnsureTorch();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40)
            .Select(i => new TextRow { Text = TextGenerationFixture.Lines[i % TextGenerationFixture.Lines.Length] }).ToArray());
        var validation = ml.Data.LoadFromEnumerable(TextGenerationFixture.Lines.Select(l => new TextRow { Text = l }).ToArray());
        var baseOptions = TextGenerationFixture.Options(epochs: 2);
        baseOptions.StepsPerEpoch = 15;
        var settings = new SweepSettings<MhcDecoderTrainer.Options>
        {
            Strategy = SweepStrategy.Grid, GridPointsPerRange = 2, Include = ["LearningRate"], BaseOptions = baseOptions,
        };
        var sweeper = new Sweeper<MhcDecoderTrainer.Options>(ml, o => ml.TextGeneration().Trainers.MhcDecoder(o),
            SweepMetric.BitsPerCharacter(ml), settings);
        var result = sweeper.Fit(train, validation);

        Assert.Equal(2, result.Trials.Count);
        Assert.All(result.Trials, t => Assert.Equal(SweepTrialStatus.Completed, t.Status));
        // The grid's two points are the ends of the log range [1e-4, 1e-2]; 1e-4 barely leaves the initial loss in 30 steps.
        var slow = result.Trials.Single(t => (double)t.Parameters["LearningRate"] < 1e-3);
        Assert.Equal(1e-2, result.Options.LearningRate, 9);
        Assert.True(result.BestMetric < slow.Metric - 1.0, $"{result.BestMetric:F3} bits/char at 1e-2 vs {slow.Metric:F3} at 1e-4");
        Assert.Equal(32, result.Options.Dim); // not swept: keeps the base value

        var model = Assert.IsType<MhcTextGenerationTransformer>(result.Model);
        var metrics = ml.TextGeneration().Evaluate(model, validation);
        Assert.Equal(result.BestMetric, metrics.BitsPerCharacter, 9);
        Assert.Equal(metrics.Perplexity, SweepMetric.Perplexity(ml).Evaluate(model, validation), 9);
    }
}
