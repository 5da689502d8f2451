using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Maps text to the compact token ids a decoder is trained on and back. Built from the training text,
/// so every id was seen in training; text the vocabulary cannot represent is handled, never fatal
/// (see each implementation).
/// </summary>
public abstract class TextVocabulary
{
    /// <summary>Number of token ids (the decoder's vocabulary size).</summary>
    public abstract int Count { get; }

    /// <summary>A short description, e.g. "characters (83)".</summary>
    public abstract string Description { get; }

    /// <summary>Token ids of <paramref name="text"/>; unrepresentable pieces are mapped or skipped.</summary>
    public int[] Encode(string text) => Encode(text, out _);

    /// <summary>Token ids of <paramref name="text"/>; <paramref name="unknown"/> counts the pieces that had to be mapped or skipped.</summary>
    public abstract int[] Encode(string text, out int unknown);

    /// <summary>
    /// The distinct pieces of <paramref name="text"/> (characters, or tokens' text) that <see cref="Encode(string, out int)"/>
    /// has to map or skip because training never saw them, in order of first appearance.
    /// </summary>
    public virtual IReadOnlyList<string> UnknownPieces(string text) => [];

    /// <summary>The text of a sequence of token ids.</summary>
    public abstract string Decode(IReadOnlyList<int> ids);

    /// <summary>
    /// Token ids that separate documents (rows) in the training stream, or an empty array when the
    /// separator cannot be represented. Scoring a row prefixes them so that its first token is predicted
    /// in the same situation as in training.
    /// </summary>
    public abstract int[] DocumentSeparator { get; }

    /// <summary>The text placed between rows when the training stream is built.</summary>
    public const string Separator = "\n";

    /// <summary>A JSON description from which <see cref="FromJson"/> rebuilds the vocabulary.</summary>
    public abstract JsonObject ToJson();

    /// <summary>Rebuilds a vocabulary written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a vocabulary this version knows.</exception>
    public static TextVocabulary FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json["kind"]?.GetValue<string>() switch
        {
            CharacterVocabulary.Kind => CharacterVocabulary.FromJsonObject(json),
            TokenizerVocabulary.Kind => TokenizerVocabulary.FromJsonObject(json),
            var other => throw new InvalidDataException($"Unknown text vocabulary kind '{other}'; expected '{CharacterVocabulary.Kind}' or '{TokenizerVocabulary.Kind}'."),
        };
    }
}
