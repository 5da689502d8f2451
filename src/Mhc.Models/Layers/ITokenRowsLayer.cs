using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>
/// A stream-aware layer that can also run on streams kept as token rows (B T, n, C), the layout in which a
/// transformer trunk holds them between its blocks (see <see cref="HyperSequential"/>'s token-row path).
/// </summary>
internal interface ITokenRowsLayer
{
    /// <summary>The layer on token rows (B T, n, C) of a batch of <paramref name="batch"/> sequences; same result as on streams (B, n, T, C).</summary>
    Tensor ForwardRows(Tensor rows, long batch);

    /// <summary>
    /// The layer on the token rows that are n copies of <paramref name="x"/> (B T, C), the first layer after the
    /// expansion: same result as <see cref="ForwardRows"/> on <paramref name="expand"/>(x), which a layer calls where it
    /// cannot read the copies from x itself.
    /// </summary>
    Tensor ForwardSharedRows(Tensor x, long batch, Func<Tensor, Tensor> expand);
}
