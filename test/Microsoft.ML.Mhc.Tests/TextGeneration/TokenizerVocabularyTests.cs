using System.Text;
using System.Text.Json;
using Microsoft.ML.Mhc.TextGeneration;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.Mhc.Tests.TextGeneration;

public class TokenizerVocabularyTests
{
    /// <summary>A small BPE over the corpus' characters with a few merges ("th", "the", "at", "on").</summary>
    internal static Tokenizer SmallBpe()
    {
        var symbols = string.Concat(TextGenerationFixture.Lines).Distinct().Where(c => c != ' ').Select(c => c.ToString())
            .Concat(["z", "th", "the", "at", "on", "zz"]).ToList();   // "z" and "zz" never occur: they must not enter the vocabulary
        var vocab = JsonSerializer.Serialize(symbols.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i));
        const string merges = "#version: 0.2\nt h\nth e\na t\no n\nz z\n";
        return BpeTokenizer.Create(new MemoryStream(Encoding.UTF8.GetBytes(vocab)), new MemoryStream(Encoding.UTF8.GetBytes(merges)));
    }

    [Fact]
    public void Vocabulary_KeepsOnlyTheTokensOfTheText_AndRoundTrips()
    {
        var bpe = SmallBpe();
        var text = string.Join("\n", TextGenerationFixture.Lines);
        var vocabulary = TokenizerVocabulary.Build(bpe, "small-bpe", text);
        Assert.True(vocabulary.Count < bpe.EncodeToIds(string.Concat(TextGenerationFixture.Lines)).Distinct().Count() + 5);
        var ids = vocabulary.Encode("the cat");
        Assert.Equal(bpe.Decode(bpe.EncodeToIds("the cat")), vocabulary.Decode(ids));
        Assert.True(ids.Length < "the cat".Length, "merges make fewer tokens than characters");
        Assert.Empty(vocabulary.Encode("zz", out int unknown));
        Assert.Equal(1, unknown);

        var json = vocabulary.ToJson();
        var e = Assert.Throws<InvalidOperationException>(() => TextVocabulary.FromJson(json));
        Assert.Contains("RegisterTokenizer(\"small-bpe\"", e.Message);
        TokenizerVocabulary.RegisterTokenizer("small-bpe", bpe);
        var back = (TokenizerVocabulary)TextVocabulary.FromJson(json);
        Assert.Equal(vocabulary.Encode("the dog sat"), back.Encode("the dog sat"));
    }

    [Fact]
    public void Trainer_WithATokenizer_TrainsGeneratesAndReloads()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new TextRow { Text = TextGenerationFixture.Lines[i % 4] }).ToArray());
        var options = TextGenerationFixture.Options(epochs: 1);
        options.StepsPerEpoch = 10;
        options.ContextLength = 8;
        options.Tokenizer = SmallBpe();
        options.TokenizerName = "bpe-for-trainer-test";
        var model = ml.TextGeneration().Trainers.MhcDecoder(options).Fit(train);
        Assert.IsType<TokenizerVocabulary>(model.Vocabulary);
        var generated = model.Generate("the", new TextGenerationOptions { MaxNewTokens = 6, Seed = 2 });
        Assert.False(string.IsNullOrEmpty(generated));
        Assert.Equal(generated, string.Concat(model.GenerateStream("the", new TextGenerationOptions { MaxNewTokens = 6, Seed = 2 })));
        var metrics = model.Generator.Score("the cat sat on the mat.");
        Assert.True(metrics.Tokens < metrics.Characters, "sub-word tokens cover several characters");

        var path = Path.Combine(Path.GetTempPath(), $"mhc-bpe-{Guid.NewGuid():N}.zip");
        try
        {
            var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "the" } });
            ml.Model.Save(model, prompts.Schema, path);
            var fresh = new MLContext();
            var loaded = fresh.Model.Load(path, out _);
            TokenizerVocabulary.RegisterTokenizer("bpe-for-trainer-test", SmallBpe());
            Assert.Equal(metrics.TotalNats, fresh.TextGeneration().CreateGenerator(loaded).Score("the cat sat on the mat.").TotalNats, 3);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
