namespace Mhc.Samples.Data;

/// <summary>One cell of an R pairlist: an optional tag (name) and a value.</summary>
/// <param name="Tag">The cell's tag, or null when untagged.</param>
/// <param name="Value">The cell's value (CAR).</param>
public sealed record RPairListEntry(string? Tag, RObject Value);

/// <summary>
/// An R pairlist (LISTSXP), the linked list R uses for attributes and some internal state.
/// Attributes of the first cell are kept; R never sets them on later cells of data objects.
/// </summary>
/// <param name="entries">The cells in order.</param>
/// <param name="tail">The final CDR when the list is dotted (not NULL-terminated), else null.</param>
public sealed class RPairList(IReadOnlyList<RPairListEntry> entries, RObject? tail = null) : RObject
{
    /// <summary>The cells in order.</summary>
    public IReadOnlyList<RPairListEntry> Entries { get; } = entries;

    /// <summary>The final CDR of a dotted pair (R's <c>CONS(a, b)</c> with non-list <c>b</c>), else null.</summary>
    public RObject? Tail { get; } = tail;

    /// <summary>The value of the first cell tagged <paramref name="tag"/>, or null.</summary>
    /// <param name="tag">The tag to look up.</param>
    public RObject? this[string tag] => Entries.FirstOrDefault(e => e.Tag == tag)?.Value;
}
