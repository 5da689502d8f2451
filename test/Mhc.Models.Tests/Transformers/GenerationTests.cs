using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

public class GenerationTests
{
    private static HyperDecoderTransformer Net(int context = 16)
    {
        T.Init(31);
        return new HyperDecoderTransformer(new HyperDecoderTransformerOptions
        {
            VocabSize = 9, ContextLength = context, Transformer = new() { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0.1 }, Mixing = new() { Connection = ConnectionKind.Mhc },
        });
    }

    [Fact]
    public void Greedy_CachedEqualsUncached_WithinTheWindow()
    {
        var net = Net();
        var gen = new AutoregressiveGenerator(net);
        var greedy = new TokenSampler(topK: 1);
        var prompt = new[] { 1, 2, 3 };
        var cached = gen.Generate(prompt, 13, greedy, new Random(1), useCache: true).ToArray();
        var uncached = gen.Generate(prompt, 13, greedy, new Random(1), useCache: false).ToArray();
        Assert.Equal(13, cached.Length);
        Assert.Equal(uncached, cached);
        Assert.True(net.training, "the generator restores the training mode it found");
    }

    [Fact]
    public void Generation_PastTheWindow_KeepsGoing_AndSeededRunsRepeat()
    {
        var net = Net(context: 8);
        var gen = new AutoregressiveGenerator(net);
        var sampler = new TokenSampler(temperature: 0.9, topK: 5, topP: 0.95);
        var a = gen.Generate(new[] { 4 }, 30, sampler, new Random(7)).ToArray();
        var b = gen.Generate(new[] { 4 }, 30, sampler, new Random(7)).ToArray();
        var c = gen.Generate(new[] { 4 }, 30, sampler, new Random(8)).ToArray();
        Assert.Equal(30, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, id => Assert.InRange(id, 0, 8));
        // A prompt longer than the context is cut to its last window rather than refused.
        Assert.Equal(3, gen.Generate(Enumerable.Range(0, 20).Select(i => i % 9).ToArray(), 3, sampler, new Random(1)).Count());
    }

    [Fact]
    public void Stop_EndsGenerationAfterTheStopToken()
    {
        var net = Net();
        var gen = new AutoregressiveGenerator(net);
        var sampler = new TokenSampler();
        var ids = gen.Generate(new[] { 0 }, 200, sampler, new Random(3), stop: id => id == 5).ToArray();
        Assert.True(ids.Length == 200 || ids[^1] == 5);
        Assert.DoesNotContain(5, ids[..^1]);
    }

    [Fact]
    public void BadArguments_AreExplained()
    {
        var gen = new AutoregressiveGenerator(Net());
        Assert.Throws<ArgumentException>(() => gen.Generate(Array.Empty<int>(), 3, new TokenSampler(), new Random()));
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => gen.Generate(new[] { 9 }, 3, new TokenSampler(), new Random())).Message);
    }
}
