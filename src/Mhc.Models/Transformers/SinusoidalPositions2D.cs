using static TorchSharp.torch;

namespace Mhc.Models.Transformers;

/// <summary>
/// Fixed 2-D sinusoidal position codes for a grid of patches: the transformer's sinusoids (Vaswani et al. 2017,
/// sec. 3.5), PE(p, 2k) = sin(p w_k), PE(p, 2k+1) = cos(p w_k), w_k = 10000^(-2k/d), applied with d = D/2 to the
/// patch row in the first half of the channels and to the patch column in the second half.
/// </summary>
public static class SinusoidalPositions2D
{
    /// <summary>The codes of a <paramref name="rows"/> x <paramref name="columns"/> grid in row-major patch order, (rows x columns, <paramref name="dim"/>) float32.</summary>
    /// <param name="rows">Patch rows.</param>
    /// <param name="columns">Patch columns.</param>
    /// <param name="dim">Channels; a multiple of 4 (two halves of sine/cosine pairs).</param>
    public static Tensor Create(int rows, int columns, int dim)
    {
        if (rows < 1 || columns < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"The grid must have at least one patch; got {rows}x{columns}.");
        if (dim < 4 || dim % 4 != 0) throw new ArgumentException($"2-D sinusoidal positions need a width divisible by 4; got {dim}.", nameof(dim));
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var row = arange(rows, dtype: ScalarType.Float32).unsqueeze(1).expand(rows, columns).reshape(-1);
        var column = arange(columns, dtype: ScalarType.Float32).unsqueeze(0).expand(rows, columns).reshape(-1);
        var frequencies = exp(arange(0, half, 2, dtype: ScalarType.Float32) * (-Math.Log(10000.0) / half));
        Tensor Encode(Tensor position)
        {
            var angle = position.unsqueeze(1) * frequencies.unsqueeze(0);            // (P, half/2)
            return stack(new[] { angle.sin(), angle.cos() }, 2).reshape(position.shape[0], half);   // sin, cos interleaved
        }
        return cat(new[] { Encode(row), Encode(column) }, 1).MoveToOuterDisposeScope();
    }
}
