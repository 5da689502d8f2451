namespace Mhc.Samples.Data;

/// <summary>An R character vector (STRSXP). A null element is <c>NA_character_</c>.</summary>
/// <param name="values">The strings, already decoded from their declared encodings.</param>
public sealed class RCharacterVector(string?[] values) : RObject
{
    /// <summary>The strings; null = NA.</summary>
    public IReadOnlyList<string?> Values { get; } = values;
}
