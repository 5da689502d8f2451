using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// A segmentation network as trained and saved: per-channel input standardisation (training-set statistics,
/// kept as buffers so they travel with the weights) in front of a <see cref="HyperUNet"/>.
/// Input: (B, C x H x W) or (B, C, H, W) raw values; output: per-pixel logits (B, K, H, W).
/// </summary>
public sealed class SegmentationNetwork : Module<Tensor, Tensor>
{
    private readonly HyperUNet unet;
    private readonly Tensor input_mean;
    private readonly Tensor input_std;

    /// <summary>Builds the network; <paramref name="mean"/> and <paramref name="std"/> have one value per channel (null: 0 and 1, to be loaded).</summary>
    public SegmentationNetwork(SegmentationSpec spec, float[]? mean = null, float[]? std = null) : base("segmentation_network")
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        int c = spec.Channels;
        if (mean is not null && mean.Length != c || std is not null && std.Length != c)
            throw new ArgumentException($"Channel statistics must have {c} values.");
        unet = new HyperUNet(spec.UNet);
        input_mean = tensor(mean ?? new float[c]).view(1, c, 1, 1);
        input_std = tensor(std ?? Enumerable.Repeat(1f, c).ToArray()).view(1, c, 1, 1);
        RegisterComponents();
    }

    /// <summary>The configuration this network was built from.</summary>
    public SegmentationSpec Spec { get; }

    /// <summary>The UNet.</summary>
    public HyperUNet UNet => unet;

    /// <summary>The UNet's hyper-connections, in depth order.</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => unet.HyperConnections;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var images = input.dim() == 2 ? input.view(-1, Spec.Channels, Spec.ImageHeight, Spec.ImageWidth) : input;
        return unet.forward((images - input_mean) / input_std);
    }
}
