using Microsoft.ML.Data;
using Mhc.Models.Transformers;
using Microsoft.ML.Mhc.DataViews;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Direct access to a trained text-generation model, outside data views: generate from one prompt (at
/// once or streamed piece by piece, for chat-like use) and score texts. Get one from
/// <see cref="MhcTextGenerationTransformer.Generator"/> or, for a model loaded from a file,
/// <see cref="TextGenerationCatalog.CreateGenerator"/>. Thread-safe.
/// </summary>
public sealed class TextGenerator
{
    internal TextGenerator(TextGenerationEngine engine, TextGenerationOptions defaults)
    {
        Engine = engine;
        DefaultOptions = defaults;
    }

    internal TextGenerationEngine Engine { get; }

    /// <summary>The sampling settings used when a call passes none (a copy is used per call).</summary>
    public TextGenerationOptions DefaultOptions { get; }

    /// <summary>The trained network.</summary>
    public HyperDecoderTransformer Network => Engine.Network;

    /// <summary>The vocabulary (characters or tokenizer ids).</summary>
    public TextVocabulary Vocabulary => Engine.Vocabulary;

    /// <summary>The continuation of <paramref name="prompt"/> (the prompt itself is not repeated).</summary>
    /// <param name="prompt">The text to continue; characters the model does not know are mapped or skipped. May be empty.</param>
    /// <param name="options">Sampling settings; null uses <see cref="DefaultOptions"/>.</param>
    public string Generate(string? prompt, TextGenerationOptions? options = null) => Engine.Generate(prompt, options ?? DefaultOptions);

    /// <summary>
    /// The continuation of <paramref name="prompt"/> as it is generated, one piece (a character, or a
    /// token's text) at a time. Lazy: each piece costs one decoder step when enumerated.
    /// </summary>
    public IEnumerable<string> GenerateStream(string? prompt, TextGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Engine.Stream(prompt, options ?? DefaultOptions, cancellationToken);

    /// <summary>How well the model predicts <paramref name="text"/>, read as one document.</summary>
    /// <exception cref="ArgumentException">The text has fewer than two tokens the model knows.</exception>
    public TextGenerationMetrics Score(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (nats, tokens) = Engine.Score(text);
        if (tokens == 0) throw new ArgumentException("The text has no token to predict.", nameof(text));
        return new TextGenerationMetrics(nats, tokens, CountCharacters(text));
    }

    /// <summary>Scores every row of <paramref name="textColumnName"/> in <paramref name="data"/> (each row on its own) and sums up.</summary>
    public TextGenerationMetrics Evaluate(IDataView data, string textColumnName = DefaultColumnNames.Text)
    {
        ArgumentNullException.ThrowIfNull(data);
        var column = ColumnChecks.Require(data.Schema, textColumnName, "text", "text");
        if (column.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(textColumnName), $"The text column '{textColumnName}' must be text; found {column.Type}.");
        double nats = 0;
        long tokens = 0, characters = 0;
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            var text = value.ToString();
            var (n, t) = Engine.Score(text);
            nats += n;
            tokens += t;
            characters += CountCharacters(text);
        }
        if (tokens == 0) throw new ArgumentException($"The text column '{textColumnName}' has no token to predict.", nameof(data));
        return new TextGenerationMetrics(nats, tokens, characters);
    }

    internal static long CountCharacters(string text)
    {
        long count = 0;
        foreach (var _ in text.EnumerateRunes()) count++;
        return count;
    }
}
