using Mhc.Models;
using Mhc.Models.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// A trained decoder with its vocabulary: generates text from prompts and scores texts. Thread-safe:
/// forward passes are serialised on the network, every generation has its own cache and random source.
/// </summary>
internal sealed class TextGenerationEngine
{
    private readonly AutoregressiveGenerator generator;

    public TextGenerationEngine(HyperDecoderTransformer network, TextVocabulary vocabulary)
    {
        Network = network;
        Vocabulary = vocabulary;
        if (vocabulary.Count != network.Options.VocabSize)
            throw new InvalidDataException($"The vocabulary has {vocabulary.Count} tokens but the network expects {network.Options.VocabSize}.");
        network.eval();
        Device = network.parameters().First().device;
        generator = new AutoregressiveGenerator(network);
    }

    public HyperDecoderTransformer Network { get; }

    public TextVocabulary Vocabulary { get; }

    public Device Device { get; }

    /// <summary>The continuation of <paramref name="prompt"/>, piece by piece (one token's text each, for characters).</summary>
    public IEnumerable<string> Stream(string? prompt, TextGenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sampler = options.CreateSampler();
        var ids = PromptIds(prompt ?? "");
        var random = options.Seed is { } seed ? new Random(seed) : new Random();
        return Pieces(ids, options.MaxNewTokens, sampler, random, options.UseCache, cancellationToken);
    }

    /// <summary>The whole continuation of <paramref name="prompt"/>.</summary>
    public string Generate(string? prompt, TextGenerationOptions options) => string.Concat(Stream(prompt, options));

    private int[] PromptIds(string prompt)
    {
        // Rows are separated by the separator in training, so a prompt starts like a new row.
        var separator = Vocabulary.DocumentSeparator;
        var ids = separator.Concat(Vocabulary.Encode(prompt)).ToArray();
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
            foreach (int id in OneRowSteps(generator.Generate(prompt, maxNewTokens, sampler, random, useCache)))
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
        foreach (int id in OneRowSteps(generator.Generate(prompt, maxNewTokens, sampler, random, useCache)))
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

    /// <summary>
    /// Runs each step of a generation (one single-row forward pass) within the single-row scoring thread limit, on
    /// whichever thread asks for the next token, and lifts the limit between steps (see
    /// <see cref="MhcRuntimeOptions.SingleRowScoringThreads"/>).
    /// </summary>
    private static IEnumerable<int> OneRowSteps(IEnumerable<int> ids)
    {
        using var steps = ids.GetEnumerator();
        while (true)
        {
            bool more;
            using (MhcEnvironment.EnterSingleRowScoring()) more = steps.MoveNext();
            if (!more) yield break;
            yield return steps.Current;
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
        return DecoderScorer.NegativeLogLikelihood(Network, ids, separator.Length, Device, Network);
    }
}
