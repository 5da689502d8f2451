using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace OnnxServingSample;

/// <summary>
/// Generates text one token at a time from an mHC decoder exported to ONNX (<c>ml.Model.ExportToOnnx</c> on a
/// text-generation model), with ONNX Runtime alone: the prompt goes in once with empty pasts, then each sampled token
/// goes in with the previous step's presents as pasts, so a token costs one step over the new position only.
/// </summary>
/// <remarks>
/// The model's metadata carries the vocabulary (<c>mhc.tokens</c>: the text of every id; <c>mhc.document_separator</c>:
/// the ids a row starts after) and the context length. Prompts are encoded character by character, so this loop
/// serves character-level models. When the cache is full it starts again from the last half of the context, as the
/// library's generator does, so greedy output is the same as the TorchSharp model's.
/// </remarks>
public sealed class OnnxTextGenerator : IDisposable
{
    private readonly InferenceSession session;
    private readonly string[] tokens;
    private readonly Dictionary<string, int> ids;
    private readonly int[] separator;
    private readonly int layers;
    private readonly long heads;
    private readonly long width;
    private readonly string[] inputNames;
    private readonly string[] outputNames;

    /// <summary>Loads the decoder at <paramref name="modelPath"/>.</summary>
    /// <exception cref="InvalidDataException">The model is not an exported mHC text-generation model.</exception>
    public OnnxTextGenerator(string modelPath, SessionOptions? options = null)
    {
        session = options is null ? new InferenceSession(modelPath) : new InferenceSession(modelPath, options);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        string Read(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new InvalidDataException($"{modelPath} has no '{key}' metadata; export a text-generation model with ml.Model.ExportToOnnx.");
        tokens = JsonSerializer.Deserialize<string[]>(Read("mhc.tokens")) ?? [];
        separator = JsonSerializer.Deserialize<int[]>(Read("mhc.document_separator")) ?? [];
        ContextLength = int.Parse(Read("mhc.context_length"), CultureInfo.InvariantCulture);
        layers = int.Parse(Read("mhc.layers"), CultureInfo.InvariantCulture);
        ids = tokens.Select((t, i) => (t, i)).GroupBy(p => p.t).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var past = session.InputMetadata["past_key_0"].Dimensions;   // (batch, heads, past, width)
        (heads, width) = (past[1], past[3]);
        inputNames = ["input_ids", .. Enumerable.Range(0, layers).SelectMany(i => new[] { $"past_key_{i}", $"past_value_{i}" })];
        outputNames = ["logits", .. Enumerable.Range(0, layers).SelectMany(i => new[] { $"present_key_{i}", $"present_value_{i}" })];
    }

    /// <summary>Positions the decoder can attend over.</summary>
    public int ContextLength { get; }

    /// <summary>The token ids of <paramref name="prompt"/>, after the row separator (as the model saw rows in training).</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary.</exception>
    public int[] Encode(string prompt)
    {
        var encoded = new List<int>(separator);
        foreach (var rune in prompt.EnumerateRunes())
            encoded.Add(ids.TryGetValue(rune.ToString(), out int id) ? id
                : throw new ArgumentException($"The character '{rune}' (U+{rune.Value:X4}) is not in the model's vocabulary of {tokens.Length} tokens.", nameof(prompt)));
        if (encoded.Count == 0) throw new ArgumentException("The prompt is empty and the vocabulary has no row separator to start from.", nameof(prompt));
        return [.. encoded];
    }

    /// <summary>
    /// The continuation of <paramref name="prompt"/>, token by token: greedy when <paramref name="temperature"/> is 0,
    /// else sampled from softmax(logits / temperature) with <paramref name="random"/>.
    /// </summary>
    public IEnumerable<string> Generate(string prompt, int maxNewTokens, double temperature = 0, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (temperature < 0 || double.IsNaN(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "0 (greedy) or more.");
        var history = Encode(prompt).ToList();
        return Tokens(history, maxNewTokens, temperature, random ?? new Random());
    }

    private IEnumerable<string> Tokens(List<int> history, int maxNewTokens, double temperature, Random random)
    {
        if (maxNewTokens == 0) yield break;
        Cache? cache = null;
        try
        {
            float[] logits;
            (logits, cache) = Run(Last(history, ContextLength), null);
            for (int produced = 0; produced < maxNewTokens; produced++)
            {
                int next = temperature == 0 ? ArgMax(logits) : Sample(logits, temperature, random);
                history.Add(next);
                yield return tokens[next];
                if (produced + 1 == maxNewTokens) yield break;
                var previous = cache;
                (logits, cache) = cache.Length < ContextLength
                    ? Run([next], cache)
                    : Run(Last(history, Math.Max(1, ContextLength / 2)), null);   // full: start again from the last half
                previous.Dispose();
            }
        }
        finally
        {
            cache?.Dispose();
        }
    }

    private static int[] Last(List<int> history, int count) => history.GetRange(Math.Max(0, history.Count - count), Math.Min(count, history.Count)).ToArray();

    // One decoder step for a batch of one: the new ids with the pasts (empty when null); the last position's logits and the presents.
    private (float[] Logits, Cache Present) Run(int[] newIds, Cache? past)
    {
        var inputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(newIds.Select(i => (long)i).ToArray(), [1, newIds.Length]) };
        try
        {
            for (int i = 0; i < 2 * layers; i++)
                inputs.Add(past?.Values[i] is { } value ? value : OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, heads, 0, width]));
            using var run = new RunOptions();
            var outputs = session.Run(run, inputNames, inputs, outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            int vocabulary = tokens.Length;
            var last = logits[^vocabulary..].ToArray();
            outputs[0].Dispose();
            return (last, new Cache(outputs.Skip(1).ToArray(), (past?.Length ?? 0) + newIds.Length));
        }
        finally
        {
            // The pasts belong to the cache (disposed by the caller); only the values made here are freed.
            for (int i = 0; i < inputs.Count; i++)
                if (i == 0 || past is null) inputs[i].Dispose();
        }
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static int Sample(float[] logits, double temperature, Random random)
    {
        double max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        double u = random.NextDouble() * weights.Sum();
        for (int i = 0; i < weights.Length; i++)
            if ((u -= weights[i]) <= 0) return i;
        return weights.Length - 1;
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();

    /// <summary>The presents of one step (keys and values of every layer, in input order) and the positions they hold.</summary>
    private sealed class Cache(OrtValue[] values, int length) : IDisposable
    {
        public OrtValue[] Values { get; } = values;

        public int Length { get; } = length;

        public void Dispose()
        {
            foreach (var v in Values) v.Dispose();
        }
    }
}
