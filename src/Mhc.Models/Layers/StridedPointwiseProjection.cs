using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Runs a stage transition's projection. A 1x1 convolution with stride s and no padding (a ResNet's shortcut
/// projection) reads only every s-th position, so it is computed as that subsample followed by a 1x1 convolution
/// with stride 1, with the module's own weight and bias: the same map and the same parameters, but libtorch's CPU
/// backward of the strided form (oneDNN's strided brgemm kernel) measured 3-4x slower than the backward of the
/// subsample plus the unstrided convolution at the Hyper-ResNet's shapes (256 stream images, 16 to 32 channels).
/// Any other projection runs as it is.
/// </summary>
internal static class StridedPointwiseProjection
{
    /// <summary><paramref name="projection"/>(<paramref name="x"/>).</summary>
    public static Tensor Forward(Module<Tensor, Tensor> projection, Tensor x)
    {
        if (projection is not Conv2d conv || x.dim() != 4 || !IsStridedPointwise(conv)) return projection.forward(x);
        return OnSubsample(conv, Subsample(x, conv.stride[0], conv.stride[1]).contiguous());
    }

    /// <summary>Every <paramref name="strideHeight"/>-th row and <paramref name="strideWidth"/>-th column of images (N, C, H, W), a view.</summary>
    public static Tensor Subsample(Tensor images, long strideHeight, long strideWidth) =>
        images[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, strideHeight), TensorIndex.Slice(null, null, strideWidth)];

    /// <summary>
    /// The stride of <paramref name="projection"/> when it is a plain 1x1 convolution with a stride above 1 and no
    /// bias (a linear map that commutes with the stream mixing), else null.
    /// </summary>
    public static (long Height, long Width)? LinearStride(Module<Tensor, Tensor>? projection) =>
        projection is Conv2d conv && conv.bias is null && IsStridedPointwise(conv) ? (conv.stride[0], conv.stride[1]) : null;

    /// <summary>The projection's 1x1 convolution, unstrided, on a subsample it has already been given.</summary>
    public static Tensor OnSubsample(Module<Tensor, Tensor> projection, Tensor subsample)
    {
        var conv = (Conv2d)projection;
        return functional.conv2d(subsample, conv.weight!, conv.bias);
    }

    /// <summary>The weight of a projection <see cref="LinearStride"/> accepts, as its M x K matrix (a view).</summary>
    public static Tensor Matrix(Module<Tensor, Tensor> projection)
    {
        var weight = ((Conv2d)projection).weight!;
        return weight.view(weight.shape[0], weight.shape[1]);
    }

    /// <summary>A plain 1x1 convolution (no padding, dilation, groups or transposition) with a stride above 1.</summary>
    private static bool IsStridedPointwise(Conv2d conv) =>
        !conv.transposed && conv.groups == 1 && (conv.padding_type is null or TorchSharp.Padding.Valid)
        && conv.kernel_size is [1, 1] && conv.padding is [0, 0] && conv.dilation is [1, 1]
        && conv.stride is [> 0, > 0] && (conv.stride[0] > 1 || conv.stride[1] > 1);
}
