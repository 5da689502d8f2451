namespace Mhc.Samples.Data;

/// <summary>An R numeric vector (REALSXP). R's <c>NA_real_</c> is a NaN payload and reads as NaN.</summary>
/// <param name="values">The doubles.</param>
public sealed class RDoubleVector(double[] values) : RObject
{
    /// <summary>The doubles.</summary>
    public IReadOnlyList<double> Values { get; } = values;
}
