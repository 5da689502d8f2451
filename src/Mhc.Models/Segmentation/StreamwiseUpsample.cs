using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Segmentation;

/// <summary>
/// Doubles the resolution of every stream with one shared 2x2 transposed convolution,
/// (B, n, C_in, h, w) to (B, n, C_out, 2h, 2w). Being linear and shared, it commutes with stream mixing,
/// the property <see cref="Layers.HyperConnection"/> relies on for its own projections.
/// </summary>
public sealed class StreamwiseUpsample : Module<Tensor, Tensor>
{
    private readonly ConvTranspose2d up;

    /// <summary>Creates the upsampling from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public StreamwiseUpsample(int inChannels, int outChannels, string name = "up") : base(name)
    {
        up = ConvTranspose2d(inChannels, outChannels, 2, stride: 2, bias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor streams)
    {
        if (streams.dim() != 5)
            throw new ArgumentException($"{GetName()} expects streams (B, n, C, H, W); got [{string.Join(", ", streams.shape)}].", nameof(streams));
        long b = streams.shape[0], n = streams.shape[1];
        var y = up.forward(streams.flatten(0, 1));
        return y.unflatten(0, [b, n]);
    }
}
