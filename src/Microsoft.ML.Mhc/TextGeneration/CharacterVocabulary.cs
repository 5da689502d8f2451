using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// One token per Unicode scalar value (a <see cref="Rune"/>) seen in the training text, in code-point order.
/// </summary>
/// <remarks>
/// An unknown character is first reduced to its base letter (é to e, by canonical decomposition without
/// combining marks); if that is still unknown it becomes a space when the vocabulary has one, and is
/// skipped otherwise. Each such character counts as unknown.
/// </remarks>
public sealed class CharacterVocabulary : TextVocabulary
{
    internal const string Kind = "characters";
    private readonly Rune[] runes;
    private readonly Dictionary<Rune, int> ids;
    private readonly int space;

    /// <summary>Creates the vocabulary from its characters (distinct; order is the id order).</summary>
    public CharacterVocabulary(IEnumerable<Rune> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        runes = characters.ToArray();
        if (runes.Length < 2)
            throw new ArgumentException(
                $"A character vocabulary needs at least two distinct characters; the text has {runes.Length}.", nameof(characters));
        ids = new Dictionary<Rune, int>(runes.Length);
        for (int i = 0; i < runes.Length; i++)
            if (!ids.TryAdd(runes[i], i))
                throw new ArgumentException($"The character U+{runes[i].Value:X4} appears twice.", nameof(characters));
        space = ids.TryGetValue(new Rune(' '), out int s) ? s : -1;
        DocumentSeparator = ids.TryGetValue(new Rune('\n'), out int nl) ? [nl] : [];
    }

    /// <summary>The vocabulary of every distinct character of <paramref name="text"/>, in code-point order.</summary>
    public static CharacterVocabulary Build(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var set = new HashSet<Rune>();
        foreach (var r in text.EnumerateRunes()) set.Add(r);
        return new CharacterVocabulary(set.OrderBy(r => r.Value));
    }

    /// <summary>The characters, in id order.</summary>
    public IReadOnlyList<Rune> Characters => runes;

    /// <inheritdoc />
    public override int Count => runes.Length;

    /// <inheritdoc />
    public override string Description => $"characters ({runes.Length})";

    /// <inheritdoc />
    public override int[] DocumentSeparator { get; }

    /// <inheritdoc />
    public override int[] Encode(string text, out int unknown)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<int>(text.Length);
        unknown = 0;
        foreach (var r in text.EnumerateRunes())
        {
            if (ids.TryGetValue(r, out int id))
            {
                result.Add(id);
                continue;
            }
            unknown++;
            if (TryBaseLetter(r, out int baseId)) result.Add(baseId);
            else if (space >= 0) result.Add(space);
        }
        return result.ToArray();
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> UnknownPieces(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.EnumerateRunes().Where(r => !ids.ContainsKey(r)).Distinct().Select(r => r.ToString()).ToList();
    }

    private bool TryBaseLetter(Rune r, out int id)
    {
        id = -1;
        var decomposed = r.ToString().Normalize(NormalizationForm.FormD);
        foreach (var part in decomposed.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(part) == UnicodeCategory.NonSpacingMark) continue;
            return ids.TryGetValue(part, out id);
        }
        return false;
    }

    /// <inheritdoc />
    public override string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder(ids.Count);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)runes.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id outside the vocabulary (0..{runes.Length - 1}).");
            sb.Append(runes[id].ToString());
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["kind"] = Kind,
        ["codePoints"] = new JsonArray(runes.Select(r => (JsonNode)r.Value).ToArray()),
    };

    internal static CharacterVocabulary FromJsonObject(JsonObject json)
    {
        var points = json["codePoints"]?.AsArray()
            ?? throw new InvalidDataException("The character vocabulary has no 'codePoints'.");
        return new CharacterVocabulary(points.Select(p => new Rune(p!.GetValue<int>())));
    }
}
