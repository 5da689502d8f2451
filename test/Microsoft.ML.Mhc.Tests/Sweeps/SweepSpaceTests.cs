using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Sweeps;
using Microsoft.ML.Mhc.TextGeneration;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

public class SweepSpaceTests
{
    public sealed class LogOptions
    {
        [Range(1e-4f, 1e-1f, 1e-3f, true)]
        public float LearningRate { get; set; } = 1e-3f;

        [Range(2, 16, 4, true)]
        public int Streams { get; set; } = 4;

        [JsonInclude, Choice(new object[] { 16, 32, 64 }, 32)]
        public int BatchSize = 32;
    }

    public sealed class FieldWithoutJsonInclude
    {
        [Range(0.0, 1.0)]
        public double Dropout = 0.1;
    }

    public sealed class BadOptions
    {
        [Range(0.5, 2.5)]
        public int Depth { get; set; }

        [BooleanChoice]
        public int NotABool { get; set; }

        [Range(0.0, 1.0, true)]
        public double LogFromZero { get; set; }

        [Range(1.0, 2.0)]
        public double ReadOnly { get; } = 1;
    }

    public class SharedOptions
    {
        [Choice(new object[] { 32, 64 }, 64)]
        public virtual int BatchSize { get; set; } = 64;
    }

    /// <summary>Changes an inherited default without re-declaring its search space: AutoML would start from 64.</summary>
    public sealed class ChangesTheDefaultOnly : SharedOptions
    {
        public ChangesTheDefaultOnly() => BatchSize = 16;
    }

    public sealed class OverridesWithItsOwnSpace : SharedOptions
    {
        public OverridesWithItsOwnSpace() => BatchSize = 16;

        [Choice(new object[] { 8, 16 }, 16)]
        public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }
    }

    public sealed class InitDiffers
    {
        [Range(0.0, 1.0, 0.5, false)]
        public double X { get; set; } = 0.1;

        [BooleanChoice]
        public bool Flag { get; set; }
    }

    [Fact]
    public void AttributeDefaultsMustEqualTheOptionsDefaults()
    {
        var e = Assert.Throws<InvalidOperationException>(() => SweepSpace.For<ChangesTheDefaultOnly>());
        Assert.Contains("ChangesTheDefaultOnly.BatchSize: the [Choice] default is 64 but new ChangesTheDefaultOnly() holds 16", e.Message);
        Assert.Contains("declared in SharedOptions: override it in ChangesTheDefaultOnly", e.Message);

        var own = Assert.IsType<ChoiceDimension>(Assert.Single(SweepSpace.For<OverridesWithItsOwnSpace>().Dimensions));
        Assert.Equal(new object[] { 8, 16 }, own.Candidates);
        Assert.Equal(16, own.DefaultValue);

        var issues = SweepSpace.CheckAutoMLCompatibility(typeof(InitDiffers));
        Assert.Equal(2, issues.Count);
        Assert.Contains("InitDiffers.X: the [Range] init is 0.5 but new InitDiffers() holds 0.1", issues[0]);
        // [BooleanChoice] without an argument defaults to true in Microsoft.ML.SearchSpace.
        Assert.Contains("InitDiffers.Flag: the [BooleanChoice] default is True but new InitDiffers() holds False", issues[1]);

        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(MhcImageClassificationTrainer.Options)));
    }

    [Fact]
    public void ReadsRangeChoiceAndBooleanAttributes()
    {
        var space = SweepSpace.For<ToyOptions>();
        Assert.Equal(["X", "Kind", "Flag", "Epochs"], space.Dimensions.Select(d => d.Name));
        var x = Assert.IsType<RangeDimension>(space["X"]);
        Assert.Equal((0.0, 1.0, false, false), (x.Min, x.Max, x.LogBase, x.IsInteger));
        var kind = Assert.IsType<ChoiceDimension>(space["Kind"]);
        Assert.Equal(new object[] { ToyKind.Alpha, ToyKind.Beta, ToyKind.Gamma }, kind.Candidates);
        var flag = Assert.IsType<ChoiceDimension>(space["Flag"]);
        Assert.True(flag.IsBoolean);
        Assert.Equal(false, flag.DefaultValue);
        Assert.True(Assert.IsType<RangeDimension>(space["Epochs"]).IsInteger);
    }

    [Fact]
    public void LogRangesSampleLogUniformlyWithinBounds()
    {
        var lr = Assert.IsType<RangeDimension>(SweepSpace.For<LogOptions>()["LearningRate"]);
        var random = new Random(7);
        var draws = Enumerable.Range(0, 4000).Select(_ => (double)lr.Sample(random)).ToArray();
        Assert.All(draws, v => Assert.InRange(v, 1e-4, 1e-1));
        // Log-uniform over three decades: about a third of the draws in each decade.
        double belowOneThousandth = draws.Count(v => v < 1e-3) / (double)draws.Length;
        Assert.InRange(belowOneThousandth, 0.28, 0.39);
        Assert.Equal([1e-4, Math.Sqrt(1e-4 * 1e-1), 1e-1], lr.GridValues(3).Cast<double>(), new ToleranceComparer(1e-6));
    }

    [Fact]
    public void IntegerRangesCoverBothEndsAndRound()
    {
        var streams = Assert.IsType<RangeDimension>(SweepSpace.For<LogOptions>()["Streams"]);
        var random = new Random(3);
        var seen = Enumerable.Range(0, 2000).Select(_ => (int)streams.Sample(random)).ToHashSet();
        Assert.Contains(2, seen);
        Assert.Contains(16, seen);
        Assert.All(seen, v => Assert.InRange(v, 2, 16));
        Assert.Equal(new object[] { 2, 4, 8, 16 }, streams.GridValues(4));
    }

    [Fact]
    public void GridIsTheCartesianProduct()
    {
        var space = SweepSpace.For<ToyOptions>();
        var grid = space.Grid(3).ToList();
        Assert.Equal(3 * 3 * 2 * 3, grid.Count);
        Assert.Equal(grid.Count, space.GridSize(3));
        Assert.Equal(grid.Count, grid.Select(g => string.Join(";", g.Values)).Distinct().Count());
    }

    [Fact]
    public void ApplyConvertsValuesToTheMemberType()
    {
        var space = SweepSpace.For<LogOptions>();
        var options = new LogOptions();
        space.Apply(options, new Dictionary<string, object> { ["LearningRate"] = 0.01, ["Streams"] = 8, ["BatchSize"] = 64 });
        Assert.Equal(0.01f, options.LearningRate);
        Assert.Equal(8, options.Streams);
        Assert.Equal(64, options.BatchSize);
        var e = Assert.Throws<ArgumentException>(() => space.Apply(options, new Dictionary<string, object> { ["Nope"] = 1 }));
        Assert.Contains("Nope", e.Message);
    }

    [Fact]
    public void MalformedAttributesAreReportedByMember()
    {
        var e = Assert.Throws<InvalidOperationException>(() => SweepSpace.For<BadOptions>());
        Assert.Contains("BadOptions.Depth: a floating-point [Range] cannot apply to an integer member", e.Message);
        Assert.Contains("BadOptions.NotABool: [BooleanChoice] needs a bool member", e.Message);
        Assert.Contains("BadOptions.LogFromZero: a log-scale [Range] needs min > 0", e.Message);
        Assert.Contains("BadOptions.ReadOnly: a swept property needs a public setter", e.Message);
    }

    [Fact]
    public void AutoMLCompatibilityFlagsFieldsThatSystemTextJsonWouldSkip()
    {
        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(ToyOptions)));
        Assert.Empty(SweepSpace.CheckAutoMLCompatibility(typeof(LogOptions)));
        var issue = Assert.Single(SweepSpace.CheckAutoMLCompatibility(typeof(FieldWithoutJsonInclude)));
        Assert.Contains("Dropout", issue);
        Assert.Contains("[JsonInclude]", issue);
    }

    /// <summary>
    /// AutoML's SearchSpace&lt;T&gt; samples a parameter object and turns it into T with System.Text.Json
    /// (string enums). Doing the same with a sampled assignment must land every value in the options,
    /// which is what makes the annotated options usable with CreateSweepableEstimator.
    /// </summary>
    [Fact]
    public void SampledAssignmentsRoundTripThroughSystemTextJsonLikeAutoML()
    {
        var json = new JsonSerializerOptions();
        json.Converters.Add(new JsonStringEnumConverter());
        foreach (var type in new[] { typeof(ToyOptions), typeof(LogOptions), typeof(MhcImageClassificationTrainer.Options),
            typeof(MhcSegmentationTrainer.Options), typeof(MhcDecoderTrainer.Options), typeof(TextGenerationOptions) })
        {
            var space = SweepSpace.For(type);
            var random = new Random(11);
            for (int i = 0; i < 20; i++)
            {
                var assignment = space.Sample(random);
                var expected = Activator.CreateInstance(type)!;
                space.Apply(expected, assignment);
                var parameters = space.Read(expected);
                var text = JsonSerializer.Serialize(parameters.ToDictionary(kv => kv.Key, kv => kv.Value), json);
                var viaJson = JsonSerializer.Deserialize(text, type, json)!;
                Assert.Equal(parameters, space.Read(viaJson));
            }
        }
        // The counter-example: a plain public field is dropped by that conversion.
        var dropped = JsonSerializer.Deserialize<FieldWithoutJsonInclude>("{\"Dropout\":0.7}", json)!;
        Assert.Equal(0.1, dropped.Dropout);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance * Math.Max(1, Math.Abs(b));
        public int GetHashCode(double obj) => 0;
    }
}
