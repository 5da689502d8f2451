using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// An image classifier as trained and saved: per-channel input standardisation (statistics of the
/// training set, kept as buffers so they travel with the weights) in front of the backbone of an
/// <see cref="ImageClassifierSpec"/>. Input: (B, C x H x W) or (B, C, H, W) raw values; output: logits (B, classes).
/// </summary>
public sealed class ImageClassifierNetwork : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> backbone;
    private readonly Tensor input_mean;
    private readonly Tensor input_std;

    /// <summary>Builds the network; <paramref name="mean"/> and <paramref name="std"/> have one value per channel (null: 0 and 1, to be loaded).</summary>
    public ImageClassifierNetwork(ImageClassifierSpec spec, float[]? mean = null, float[]? std = null) : base("image_classifier")
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        (backbone, HyperConnections) = ImageNetworkFactory.Create(spec);
        int c = spec.Channels;
        if (mean is not null && mean.Length != c || std is not null && std.Length != c)
            throw new ArgumentException($"Channel statistics must have {c} values.");
        input_mean = tensor(mean ?? new float[c]).view(1, c, 1, 1);
        input_std = tensor(std ?? Enumerable.Repeat(1f, c).ToArray()).view(1, c, 1, 1);
        RegisterComponents();
    }

    /// <summary>The configuration this network was built from.</summary>
    public ImageClassifierSpec Spec { get; }

    /// <summary>The backbone's hyper-connections, in depth order.</summary>
    public IReadOnlyList<HyperConnection> HyperConnections { get; }

    /// <summary>The backbone (Hyper-ResNet or vision transformer).</summary>
    public Module<Tensor, Tensor> Backbone => backbone;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var images = input.dim() == 2 ? input.view(-1, Spec.Channels, Spec.ImageHeight, Spec.ImageWidth) : input;
        return backbone.forward((images - input_mean) / input_std);
    }
}
