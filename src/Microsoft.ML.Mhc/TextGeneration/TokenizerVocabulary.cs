using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Sub-word tokens from a <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, restricted to the token ids
/// that occur in the training text and renumbered compactly (a 50k-token tokenizer on one book uses a
/// few thousand ids; the decoder's embedding and head only pay for those).
/// </summary>
/// <remarks>
/// Token ids the training text never produced are skipped when encoding and count as unknown. A saved
/// model records the tokenizer's <see cref="TokenizerName"/>, not the tokenizer itself (tokenizers are
/// built from their own model files): register the same tokenizer under that name with
/// <see cref="RegisterTokenizer"/> before loading such a model in a new process.
/// </remarks>
public sealed class TokenizerVocabulary : TextVocabulary
{
    internal const string Kind = "tokenizer";
    private static readonly ConcurrentDictionary<string, Tokenizer> Registry = new(StringComparer.Ordinal);
    private readonly int[] originalIds;
    private readonly Dictionary<int, int> compact;

    /// <summary>Creates the vocabulary over <paramref name="originalIds"/> of <paramref name="tokenizer"/> (id order).</summary>
    public TokenizerVocabulary(Tokenizer tokenizer, string tokenizerName, IEnumerable<int> originalIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenizerName);
        ArgumentNullException.ThrowIfNull(originalIds);
        Tokenizer = tokenizer;
        TokenizerName = tokenizerName;
        this.originalIds = originalIds.ToArray();
        if (this.originalIds.Length < 2)
            throw new ArgumentException($"The tokenized training text has {this.originalIds.Length} distinct token(s); at least two are needed.", nameof(originalIds));
        compact = new Dictionary<int, int>(this.originalIds.Length);
        for (int i = 0; i < this.originalIds.Length; i++)
            if (!compact.TryAdd(this.originalIds[i], i))
                throw new ArgumentException($"Token id {this.originalIds[i]} appears twice.", nameof(originalIds));
        var separator = tokenizer.EncodeToIds(Separator);
        DocumentSeparator = separator.All(compact.ContainsKey) ? separator.Select(id => compact[id]).ToArray() : [];
    }

    /// <summary>The vocabulary of the token ids <paramref name="tokenizer"/> produces on <paramref name="text"/>.</summary>
    public static TokenizerVocabulary Build(Tokenizer tokenizer, string tokenizerName, string text)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(text);
        var seen = new HashSet<int>(tokenizer.EncodeToIds(text));
        foreach (var id in tokenizer.EncodeToIds(Separator)) seen.Add(id);
        return new TokenizerVocabulary(tokenizer, tokenizerName, seen.OrderBy(i => i));
    }

    /// <summary>Makes <paramref name="tokenizer"/> available, under <paramref name="name"/>, to models loaded later in this process.</summary>
    public static void RegisterTokenizer(string name, Tokenizer tokenizer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(tokenizer);
        Registry[name] = tokenizer;
    }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The name the tokenizer is recorded under in saved models.</summary>
    public string TokenizerName { get; }

    /// <inheritdoc />
    public override int Count => originalIds.Length;

    /// <inheritdoc />
    public override string Description => $"tokenizer '{TokenizerName}' ({originalIds.Length} of its tokens)";

    /// <inheritdoc />
    public override int[] DocumentSeparator { get; }

    /// <inheritdoc />
    public override int[] Encode(string text, out int unknown)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<int>();
        unknown = 0;
        foreach (int id in Tokenizer.EncodeToIds(text))
        {
            if (compact.TryGetValue(id, out int c)) result.Add(c);
            else unknown++;
        }
        return result.ToArray();
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> UnknownPieces(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenizer.EncodeToIds(text).Where(id => !compact.ContainsKey(id)).Distinct().Select(id => Tokenizer.Decode([id]) ?? $"#{id}").ToList();
    }

    /// <inheritdoc />
    public override string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var original = new int[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            if ((uint)ids[i] >= (uint)originalIds.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Token id outside the vocabulary (0..{originalIds.Length - 1}).");
            original[i] = originalIds[ids[i]];
        }
        return Tokenizer.Decode(original);
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["kind"] = Kind,
        ["tokenizerName"] = TokenizerName,
        ["tokenizerType"] = Tokenizer.GetType().FullName,
        ["tokenIds"] = new JsonArray(originalIds.Select(i => (JsonNode)i).ToArray()),
    };

    internal static TokenizerVocabulary FromJsonObject(JsonObject json)
    {
        string name = json["tokenizerName"]?.GetValue<string>() ?? throw new InvalidDataException("The tokenizer vocabulary has no 'tokenizerName'.");
        var ids = json["tokenIds"]?.AsArray() ?? throw new InvalidDataException("The tokenizer vocabulary has no 'tokenIds'.");
        if (!Registry.TryGetValue(name, out var tokenizer))
            throw new InvalidOperationException(
                $"This model was trained with the tokenizer '{name}' ({json["tokenizerType"]?.GetValue<string>()}), which is not registered in this process. " +
                $"Call TokenizerVocabulary.RegisterTokenizer(\"{name}\", tokenizer) with the same tokenizer before loading the model.");
        return new TokenizerVocabulary(tokenizer, name, ids.Select(i => i!.GetValue<int>()));
    }
}
