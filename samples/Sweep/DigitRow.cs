using Microsoft.ML.Data;

namespace Mhc.Samples.Sweep;

/// <summary>One MNIST digit as the sweep reads it: 784 pixels in 0..1 and the digit as a number.</summary>
public sealed class DigitRow
{
    /// <summary>Pixels, row-major 28 x 28.</summary>
    [VectorType(28 * 28)]
    public float[] Features { get; set; } = [];

    /// <summary>The digit 0..9 (mapped to a key before training).</summary>
    public float Label { get; set; }
}
