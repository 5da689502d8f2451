namespace Mhc.Samples.Data;

/// <summary>R's <c>NULL</c> (NILSXP / NILVALUE_SXP in the stream).</summary>
public sealed class RNull : RObject
{
    private RNull()
    {
    }

    /// <summary>The single NULL value.</summary>
    public static RNull Instance { get; } = new();

    /// <inheritdoc/>
    public override string ToString() => "NULL";
}
