using Mhc.Models.Layers;
using static TorchSharp.torch;

namespace Mhc.Models.Fused;

/// <summary>
/// The stride-s subsample of every stream image that a stage transition's shortcut projection reads (a 1x1, stride-s
/// convolution is that subsample followed by a 1x1 convolution; see <c>StridedPointwiseProjection</c>), taken by the
/// read-out node from the streams it already holds. Its gradient is added to the rows of the streams' gradient that
/// the read-out node writes anyway: libtorch's own backward of the slice makes a zero tensor of the full streams,
/// scatters into it and then sums it with the read-out's gradient, three extra passes over the largest tensor of
/// the transition (measured 3.1 ms of a 5.4 ms projection backward at the Hyper-ResNet's first transition).
/// </summary>
/// <param name="Channels">Channels C per stream.</param>
/// <param name="Height">Stream image height H.</param>
/// <param name="Width">Stream image width W.</param>
/// <param name="StrideHeight">Row stride.</param>
/// <param name="StrideWidth">Column stride.</param>
internal sealed record StreamSubsample(long Channels, long Height, long Width, long StrideHeight, long StrideWidth)
{
    /// <summary>The subsample of streams (B, n, C H W) as contiguous stream images (B n, C, ceil(H / s), ceil(W / s)).</summary>
    public Tensor Take(Tensor streams) => Grid(streams).contiguous();

    /// <summary>Adds the subsample's gradient (B n, C, H', W') into the streams' gradient (B, n, C H W) in place.</summary>
    public void AddGradient(Tensor streamsGradient, Tensor subsampleGradient)
    {
        using var grid = Grid(streamsGradient);
        grid.add_(subsampleGradient);
    }

    private Tensor Grid(Tensor streams) => StridedPointwiseProjection.Subsample(
        streams.view(streams.shape[0] * streams.shape[1], Channels, Height, Width), StrideHeight, StrideWidth);
}
