using Mhc.Models;
using Mhc.Models.Transformers;
using Microsoft.ML.Mhc.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// A trained decoder with its vocabulary: generates text from prompts and scores texts. Thread-safe:
/// forward passes are serialised on the network, every generation has its own cache and random source.
/// <see cref="NetworkHost{TNetwork}.Dispose"/> waits for the token or score in flight; later calls (and streams already started) throw
/// <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed class TextGenerationEngine : NetworkHost<HyperDecoderTransformer>
{
    private readonly AutoregressiveGenerator generator;

    public TextGenerationEngine(HyperDecoderTransformer network, TextVocabulary vocabulary, string ownerName)
        : base(network, network.parameters().First().device, ownerName)
    {
        Vocabulary = vocabulary;
        if (vocabulary.Count != network.Options.VocabSize)
            throw new InvalidDataException($"The vocabulary has {vocabulary.Count} tokens but the network expects {network.Options.VocabSize}.");
        generator = new AutoregressiveGenerator(network);
    }

    public TextVocabulary Vocabulary { get; }

    /// <summary>The continuation of <paramref name="prompt"/>, piece by piece (one token's text each, for characters).</summary>
    public IEnumerable<string> Stream(string? prompt, TextGenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        var sampler = options.CreateSampler();
        var ids = PromptIds(prompt ?? "", options.RejectUnknownCharacters);
        var random = options.Seed is { } seed ? new Random(seed) : new Random();
        return Pieces(ids, options.MaxNewTokens, sampler, random, options.UseCache, cancellationToken);
    }

    /// <summary>The whole continuation of <paramref name="prompt"/>.</summary>
    public string Generate(string? prompt, TextGenerationOptions options) => string.Concat(Stream(prompt, options));

    private int[] PromptIds(string prompt, bool rejectUnknown)
    {
        // Rows are separated by the separator in training, so a prompt starts like a new row.
        var separator = Vocabulary.DocumentSeparator;
        var encoded = Vocabulary.Encode(prompt, out int unknown);
        if (unknown > 0 && rejectUnknown)
        {
            var pieces = Vocabulary.UnknownPieces(prompt);
            throw new ArgumentException(
                $"The prompt has {unknown} character(s) the model never saw in training ({Vocabulary.Description}): " +
                $"{string.Join(", ", pieces.Take(20).Select(p => $"'{p}' (U+{(p.Length > 0 ? char.ConvertToUtf32(p, 0) : 0):X4})"))}" +
                $"{(pieces.Count > 20 ? ", ..." : "")}. Remove them, or set {nameof(TextGenerationOptions.RejectUnknownCharacters)} = false " +
                "to map them (base letter, else a space, else skipped).", nameof(prompt));
        }
        var ids = separator.Concat(encoded).ToArray();
        if (ids.Length == 0)
            throw new ArgumentException(
                $"The prompt '{prompt}' has no character this model knows, and its vocabulary ({Vocabulary.Description}) has no row separator to start from. " +
                "Give a prompt with known characters.", nameof(prompt));
        return ids;
    }

    private IEnumerable<string> Pieces(int[] prompt, int maxNewTokens, TokenSampler sampler, Random random, bool useCache, CancellationToken cancellationToken)
    {
        if (Vocabulary is CharacterVocabulary characters)
        {
            foreach (int id in Tokens(prompt, maxNewTokens, sampler, random, useCache))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return characters.Characters[id].ToString();
            }
            yield break;
        }
        // Sub-word tokens may end inside a character (byte-level BPE): emit what the decoded text gained,
        // once it extends what was emitted.
        var generated = new List<int>();
        string emitted = "";
        foreach (int id in Tokens(prompt, maxNewTokens, sampler, random, useCache))
        {
            cancellationToken.ThrowIfCancellationRequested();
            generated.Add(id);
            var text = Vocabulary.Decode(generated);
            if (text.Length > emitted.Length && text.StartsWith(emitted, StringComparison.Ordinal) && !text.EndsWith('\uFFFD'))
            {
                yield return text[emitted.Length..];
                emitted = text;
            }
        }
        var final = Vocabulary.Decode(generated);
        if (final.Length > emitted.Length && final.StartsWith(emitted, StringComparison.Ordinal)) yield return final[emitted.Length..];
    }

    // The generator's tokens, each decoder step inside a use of the network, so Dispose never frees it mid-step, and
    // within the single-row scoring thread limit (MhcRuntimeOptions.SingleRowScoringThreads) on whichever thread asks
    // for the next token; the limit is lifted between steps.
    private IEnumerable<int> Tokens(int[] prompt, int maxNewTokens, TokenSampler sampler, Random random, bool useCache)
    {
        using var tokens = generator.Generate(prompt, maxNewTokens, sampler, random, useCache).GetEnumerator();
        while (true)
        {
            using (Use())
            using (MhcEnvironment.EnterSingleRowScoring())
            {
                if (!tokens.MoveNext()) yield break;
            }
            yield return tokens.Current;
        }
    }

    /// <summary>
    /// Summed negative log-likelihood (nats) of <paramref name="text"/> read as one row, and the tokens
    /// predicted: every token when the vocabulary has a row separator (it is prefixed, as in training),
    /// all but the first otherwise.
    /// </summary>
    public (double Nats, long Tokens) Score(string text)
    {
        var separator = Vocabulary.DocumentSeparator;
        var ids = separator.Concat(Vocabulary.Encode(text)).ToArray();
        using var use = Use();
        return DecoderScorer.NegativeLogLikelihood(Network, ids, separator.Length, Device, Network);
    }
}
