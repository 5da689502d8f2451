using Microsoft.ML.Data;
using Mhc.Models.Layers;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests.TextGeneration;

public class MhcDecoderTrainerTests(TextGenerationFixture fixture) : IClassFixture<TextGenerationFixture>
{
    private readonly MLContext ml = fixture.Ml;

    [Fact]
    public void Fit_Learns_TheLossFallsFarBelowUniform()
    {
        var model = fixture.Model;
        Assert.IsType<CharacterVocabulary>(model.Vocabulary);
        int vocab = model.Vocabulary.Count;
        var metrics = ml.TextGeneration().Evaluate(model.Transform(fixture.Validation));
        // A uniform guess costs ln(V) nats per character; the repetitive corpus is far more predictable.
        Assert.True(metrics.NatsPerCharacter < 0.6 * Math.Log(vocab), $"{metrics} vs uniform {Math.Log(vocab):F3}");
        Assert.Equal(metrics.NatsPerCharacter / Math.Log(2), metrics.BitsPerCharacter, 9);
        Assert.Equal(Math.Exp(metrics.NatsPerToken), metrics.Perplexity, 9);
        // Every character of every row is predicted (the row separator is in the vocabulary).
        Assert.Equal(TextGenerationFixture.Lines.Sum(l => l.Length), metrics.Tokens);
        Assert.Equal(metrics.Tokens, metrics.Characters);
        var history = model.History!;
        Assert.Equal(3, history.Epochs.Count);
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss);
    }

    [Fact]
    public void Evaluate_OnScoredData_EqualsEvaluate_OnTheModel()
    {
        var scored = ml.TextGeneration().Evaluate(fixture.Model.Transform(fixture.Validation));
        var direct = ml.TextGeneration().Evaluate(fixture.Model, fixture.Validation);
        Assert.Equal(scored.Tokens, direct.Tokens);
        Assert.Equal(scored.NatsPerCharacter, direct.NatsPerCharacter, 4);
    }

    [Fact]
    public void ValidationSet_IsReportedPerEpoch_AndProgressIsLogged()
    {
        var lines = new List<string>();
        var reports = new List<Training.MhcEpochReport>();
        var options = TextGenerationFixture.Options(ConnectionKind.Residual, epochs: 2);
        options.ValidationSet = fixture.Validation;
        options.Log = lines.Add;
        options.EpochCallback = reports.Add;
        options.StepsPerEpoch = 5;
        ml.TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train);
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.NotNull(r.ValidationLoss));
        Assert.Contains(lines, l => l.Contains("vocabulary characters", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("epoch 2/2", StringComparison.Ordinal));
    }

    [Fact]
    public void SameSeed_SameModel()
    {
        var options = TextGenerationFixture.Options(epochs: 1);
        options.StepsPerEpoch = 5;
        var a = ml.TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train);
        var b = ml.TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train);
        var text = string.Join("\n", TextGenerationFixture.Lines);
        Assert.Equal(a.Generator.Score(text).TotalNats, b.Generator.Score(text).TotalNats);
    }

    [Fact]
    public void Cancellation_StopsTraining()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var options = TextGenerationFixture.Options();
        options.CancellationToken = cancel.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => ml.TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train));
    }

    [Fact]
    public void EmptyText_IsRefused()
    {
        var empty = ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "" }, new TextRow { Text = "" } });
        var e = Assert.Throws<ArgumentException>(() => ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options()).Fit(empty));
        Assert.Contains("'Text' holds no text", e.Message);
    }

    [Fact]
    public void ContextLongerThanText_IsRefused()
    {
        var shortText = ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "abcdefgh" } });
        var e = Assert.Throws<ArgumentException>(() => ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options()).Fit(shortText));
        Assert.Contains("ContextLength (16) must be shorter than the training text, which has 8 tokens", e.Message);
    }

    [Fact]
    public void UnknownColumn_IsNamed()
    {
        var options = TextGenerationFixture.Options();
        options.TextColumnName = "Body";
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.TextGeneration().Trainers.MhcDecoder(options).Fit(fixture.Train));
        Assert.Contains("'Body'", e.Message);
        Assert.Contains("'Text'", e.Message);
        var shape = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.TextGeneration().Trainers.MhcDecoder(options).GetOutputSchema(SchemaShape(fixture.Train)));
        Assert.Contains("'Body'", shape.Message);
    }

    [Fact]
    public void NonTextColumn_IsExplained()
    {
        var numbers = ml.Data.LoadFromEnumerable(new[] { new { Text = 1f } }.Select(x => new NumberRow { Text = x.Text }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options()).Fit(numbers));
        Assert.Contains("must be text; found Single", e.Message);
    }

    public sealed class NumberRow
    {
        public float Text;
    }

    [Fact]
    public void NonPositiveTemperature_IsRefused()
    {
        var options = TextGenerationFixture.Options();
        options.Generation.Temperature = 0;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.TextGeneration().Trainers.MhcDecoder(options));
        Assert.Contains("Temperature must be a positive number", e.Message);
        var g = Assert.Throws<ArgumentOutOfRangeException>(() =>
            fixture.Model.Generate("the", new TextGenerationOptions { Temperature = -1 }));
        Assert.Contains("Temperature", g.Message);
    }

    [Fact]
    public void OutputSchema_AddsTheGeneratedAndScoreColumns()
    {
        var shape = ml.TextGeneration().Trainers.MhcDecoder(TextGenerationFixture.Options()).GetOutputSchema(SchemaShape(fixture.Train));
        Assert.Contains(shape, c => c.Name == DefaultColumnNames.NegativeLogLikelihood && c.ItemType == NumberDataViewType.Single);
        Assert.DoesNotContain(shape, c => c.Name == DefaultColumnNames.GeneratedText);
        var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "the" } });
        var schema = fixture.Model.GetOutputSchema(prompts.Schema);
        Assert.Equal(TextDataViewType.Instance, schema[DefaultColumnNames.GeneratedText].Type);
        Assert.Null(schema.GetColumnOrNull(DefaultColumnNames.NegativeLogLikelihood));
    }

    // ML.NET keeps SchemaShape.Create(DataViewSchema) internal; the tests call it by reflection.
    private static SchemaShape SchemaShape(IDataView data) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static, [typeof(DataViewSchema)])!
            .Invoke(null, [data.Schema])!;
}
