namespace Mhc.Samples.Data;

/// <summary>An R logical vector (LGLSXP). A null element is <c>NA</c>.</summary>
/// <param name="values">The logicals; null = NA.</param>
public sealed class RLogicalVector(bool?[] values) : RObject
{
    /// <summary>The logicals; null = NA.</summary>
    public IReadOnlyList<bool?> Values { get; } = values;
}
