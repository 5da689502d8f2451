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
}
