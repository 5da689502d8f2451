namespace Mhc.Samples.Data;

/// <summary>An R integer vector (INTSXP). <see cref="NA"/> marks missing values, as in R.</summary>
/// <param name="values">The integers.</param>
public sealed class RIntegerVector(int[] values) : RObject
{
    /// <summary>R's <c>NA_integer_</c> (the smallest int32).</summary>
    public const int NA = int.MinValue;

    /// <summary>The integers; <see cref="NA"/> = missing.</summary>
    public IReadOnlyList<int> Values { get; } = values;
}
