using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests.TextGeneration;

public class TextGenerationTransformerTests(TextGenerationFixture fixture) : IClassFixture<TextGenerationFixture>
{
    private readonly MLContext ml = fixture.Ml;

    private IDataView Prompts(params string[] prompts) => ml.Data.LoadFromEnumerable(prompts.Select(p => new PromptRow { Prompt = p }).ToArray());

    private static List<string> Generated(MLContext ml, IDataView scored) =>
        ml.Data.CreateEnumerable<GeneratedRow>(scored, reuseRowObject: false).Select(r => r.GeneratedText).ToList();

    [Fact]
    public void Transform_ContinuesEveryPrompt_Reproducibly()
    {
        var model = fixture.Model;
        var first = Generated(ml, model.Transform(Prompts("the cat", "a dog", "the cat")));
        var second = Generated(ml, model.Transform(Prompts("the cat", "a dog", "the cat")));
        Assert.Equal(3, first.Count);
        Assert.All(first, g => Assert.Equal(12, g.Length));
        Assert.Equal(first, second);
        Assert.Equal(first[0], first[2]);   // each row starts from the seed, whatever its position
        // What the model learned shows: the continuations use the corpus' characters only.
        var known = new HashSet<char>(string.Concat(TextGenerationFixture.Lines) + "\n");
        Assert.All(string.Concat(first), ch => Assert.Contains(ch, known));
    }

    [Fact]
    public void Stream_EqualsGenerate_AndStopsWhenAsked()
    {
        var options = new TextGenerationOptions { MaxNewTokens = 10, Seed = 9 };
        var pieces = fixture.Model.GenerateStream("the dog", options).ToList();
        Assert.Equal(10, pieces.Count);
        Assert.Equal(fixture.Model.Generate("the dog", options), string.Concat(pieces));
        Assert.Equal(3, fixture.Model.GenerateStream("the dog", options).Take(3).Count());
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => fixture.Model.GenerateStream("the", options, cancel.Token).ToList());
    }

    [Fact]
    public void Cache_DoesNotChangeGreedyText()
    {
        // Within one context window the cached and uncached computations are the same function.
        var greedy = new TextGenerationOptions { MaxNewTokens = 9, TopK = 1, UseCache = true };
        var uncached = new TextGenerationOptions { MaxNewTokens = 9, TopK = 1, UseCache = false };
        Assert.Equal(fixture.Model.Generate("the cat", uncached), fixture.Model.Generate("the cat", greedy));
    }

    [Fact]
    public void UnknownCharacters_AreHandled()
    {
        var vocabulary = fixture.Model.Vocabulary;
        var ids = vocabulary.Encode("thé cat Ω", out int unknown);
        Assert.Equal(2, unknown);                                        // é -> e, Ω -> space
        Assert.Equal("the cat  ", vocabulary.Decode(ids));
        Assert.Equal(12, fixture.Model.Generate("Ωé ☃", new TextGenerationOptions { MaxNewTokens = 12, Seed = 1 }).Length);
        Assert.Equal(12, fixture.Model.Generate("", new TextGenerationOptions { MaxNewTokens = 12, Seed = 1 }).Length);
    }

    [Fact]
    public void UnknownCharacters_CanBeRejected_InTheGeneratorAndInALoadedModel()
    {
        var strict = new TextGenerationOptions { MaxNewTokens = 5, Seed = 1, RejectUnknownCharacters = true };
        var e = Assert.Throws<ArgumentException>(() => fixture.Model.Generate("thé cat Ω", strict));
        Assert.Contains("2 character(s) the model never saw", e.Message);
        Assert.Contains("'é' (U+00E9)", e.Message);
        Assert.Contains("'Ω' (U+03A9)", e.Message);
        Assert.Contains("RejectUnknownCharacters = false", e.Message);
        Assert.Equal(5, fixture.Model.Generate("the cat", strict).Length);
        Assert.Equal(["é", "Ω"], fixture.Model.Vocabulary.UnknownPieces("thé cat Ωé"));

        // The setting is part of the model's sampling defaults, so it survives a save and load.
        var o = TextGenerationFixture.Options(epochs: 1);
        o.Generation.RejectUnknownCharacters = true;
        var model = ml.TextGeneration().Trainers.MhcDecoder(o).Fit(fixture.Train);
        var path = TestData.TempPath("strict-text.zip");
        Persistence.MhcModelFile.Save(ml, model, Prompts("x").Schema, path);
        var loaded = Persistence.MhcModelFile.Load(new MLContext(), path, out _);
        Assert.Equal(12, Generated(ml, loaded.Transform(Prompts("the dog"))).Single().Length);
        var error = Assert.ThrowsAny<Exception>(() => Generated(ml, loaded.Transform(Prompts("the ☃"))));
        Assert.Contains("'☃'", error.GetBaseException().Message);
    }

    [Fact]
    public void MissingColumns_AreNamed()
    {
        var data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { X = 1 } });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Model.Transform(data));
        Assert.Contains("'Prompt'", e.Message);
        Assert.Contains("'Text'", e.Message);
        var evaluate = Assert.Throws<ArgumentOutOfRangeException>(() => ml.TextGeneration().Evaluate(fixture.Validation));
        Assert.Contains("'NegativeLogLikelihood'", evaluate.Message);
    }

    public sealed class NumberRow
    {
        public float X;
    }

    [Fact]
    public void SaveLoad_InAFreshContext_GeneratesTheSameText_AndScoresTheSame()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mhc-text-{Guid.NewGuid():N}.zip");
        try
        {
            var prompts = Prompts("the cat", "a dog");
            ml.Model.Save(fixture.Model, prompts.Schema, path);
            var fresh = new MLContext(seed: 7);
            var loaded = fresh.Model.Load(path, out var inputSchema);
            Assert.NotNull(inputSchema.GetColumnOrNull("Prompt"));
            var expected = Generated(ml, fixture.Model.Transform(prompts));
            var freshPrompts = fresh.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "the cat" }, new PromptRow { Prompt = "a dog" } });
            Assert.Equal(expected, Generated(fresh, loaded.Transform(freshPrompts)));

            var engine = fresh.Model.CreatePredictionEngine<PromptRow, GeneratedRow>(loaded);
            Assert.Equal(expected[1], engine.Predict(new PromptRow { Prompt = "a dog" }).GeneratedText);

            var generator = fresh.TextGeneration().CreateGenerator(loaded);
            Assert.NotSame(fixture.Model.Network, generator.Network);
            var text = string.Join("\n", TextGenerationFixture.Lines);
            Assert.Equal(fixture.Model.Generator.Score(text).TotalNats, generator.Score(text).TotalNats, 3);
            Assert.Equal(ml.TextGeneration().Evaluate(fixture.Model, fixture.Validation).TotalNats,
                fresh.TextGeneration().Evaluate(loaded, fixture.Validation).TotalNats, 3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PredictionEngine_OnTheInMemoryModel()
    {
        var engine = ml.Model.CreatePredictionEngine<PromptRow, GeneratedRow>(fixture.Model);
        var expected = fixture.Model.Generate("the cat");
        Assert.Equal(expected, engine.Predict(new PromptRow { Prompt = "the cat" }).GeneratedText);
    }

    [Fact]
    public void CreateGenerator_RefusesOtherModels()
    {
        var other = ml.Transforms.CopyColumns("Copy", "Prompt").Fit(Prompts("x"));
        var e = Assert.Throws<ArgumentException>(() => ml.TextGeneration().CreateGenerator(other));
        Assert.Contains("no mHC text-generation network", e.Message);
    }
}
