using System.Diagnostics;
using System.Text.Json.Nodes;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;

namespace Benchmarks;

/// <summary>
/// Generation speed of the text sample's mHC decoder with the key/value cache: characters per second over a
/// whole generation (prompt prefill, sampling and the window refills included), and a per-token profile.
/// </summary>
public sealed class MixingGeneration : IDisposable
{
    /// <summary>The text sample's prompt.</summary>
    public const string PromptText = "It is a truth universally acknowledged";

    private readonly HyperDecoderTransformer model;
    private readonly AutoregressiveGenerator generator;
    private readonly int[] prompt;
    private readonly TokenSampler sampler = new(temperature: 0.8, topP: 0.95);

    /// <summary>Builds the decoder of <paramref name="sizes"/> (mHC, n = 4) over <paramref name="data"/>'s vocabulary.</summary>
    public MixingGeneration(MixingSizes sizes, MixingData data)
    {
        TorchSharp.torch.manual_seed(1);
        model = new HyperDecoderTransformer(MixingWorkload.DecoderOptions(ConnectionKind.Mhc, sizes, data.VocabularySize));
        model.eval();
        generator = new AutoregressiveGenerator(model);
        prompt = data.Encode(PromptText);
    }

    /// <summary>Generates <paramref name="characters"/> characters; returns the seconds taken.</summary>
    public double Generate(int characters)
    {
        long start = Stopwatch.GetTimestamp();
        int produced = generator.Generate(prompt, characters, sampler, new Random(7)).Count();
        if (produced != characters) throw new InvalidOperationException($"Generated {produced} of {characters} characters.");
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Median characters per second over <paramref name="repeats"/> generations, after a short warm-up.</summary>
    public double CharactersPerSecond(int characters, int repeats)
    {
        Generate(Math.Min(characters, 20));
        var rates = Enumerable.Range(0, repeats).Select(_ => characters / Generate(characters)).ToList();
        return InterleavedTimer.Median(rates);
    }

    /// <summary>Forward milliseconds per generated token by section, over one generation of <paramref name="characters"/>.</summary>
    public JsonObject Profile(int characters)
    {
        using var profiler = MixingProfiler.Start();
        double seconds = Generate(characters);
        double perToken = seconds * 1000 / characters;
        var row = new Dictionary<string, double>();
        MixingProfile.Split("forward", profiler.ForwardMilliseconds.ToDictionary(kv => kv.Key, kv => kv.Value / characters), perToken, row);
        var result = new JsonObject { ["token"] = MixingProfile.Round(perToken) };
        foreach (var (key, value) in row) result[key["forward_".Length..]] = MixingProfile.Round(value);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => model.Dispose();
}
