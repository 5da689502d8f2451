namespace Mhc.Samples.Data;

/// <summary>An unsigned-byte tensor read from an IDX file (the MNIST/Fashion-MNIST format).</summary>
/// <param name="Shape">Dimension sizes, outermost first (e.g. [60000, 28, 28]).</param>
/// <param name="Data">Row-major values; length is the product of <paramref name="Shape"/>.</param>
public sealed record IdxArray(int[] Shape, byte[] Data)
{
    /// <summary>Number of items along the first dimension.</summary>
    public int Count => Shape.Length == 0 ? 0 : Shape[0];

    /// <summary>Values per item (product of all dimensions after the first).</summary>
    public int ItemSize => Shape.Skip(1).Aggregate(1, (a, b) => a * b);
}
