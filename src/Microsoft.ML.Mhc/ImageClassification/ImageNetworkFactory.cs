using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>Builds the backbone network of an <see cref="ImageClassifierSpec"/>: one case per <see cref="MhcImageArchitecture"/>.</summary>
internal static class ImageNetworkFactory
{
    /// <summary>A backbone (images (B, C, H, W) to logits (B, classes)) and its hyper-connections.</summary>
    /// <exception cref="NotSupportedException">The architecture is not available in this build.</exception>
    public static (nn.Module<Tensor, Tensor> Network, IReadOnlyList<HyperConnection> HyperConnections) Create(ImageClassifierSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (spec.Architecture)
        {
            case MhcImageArchitecture.HyperResNet:
                var options = spec.HyperResNet ?? throw new InvalidDataException("The spec names HyperResNet but has no HyperResNet options.");
                if (options.InChannels != spec.Channels || options.ImageHeight != spec.ImageHeight || options.ImageWidth != spec.ImageWidth || options.NumClasses != spec.NumClasses)
                    throw new InvalidDataException("The HyperResNet options disagree with the spec's input shape or class count.");
                var resnet = new HyperResNet(options);
                return (resnet, resnet.HyperConnections);
            case MhcImageArchitecture.VisionTransformer:
                var node = spec.VisionTransformer ?? throw new InvalidDataException("The spec names VisionTransformer but has no VisionTransformer options.");
                var vitOptions = VisionTransformerSpec.Read(node);
                if (vitOptions.InChannels != spec.Channels || vitOptions.ImageHeight != spec.ImageHeight || vitOptions.ImageWidth != spec.ImageWidth || vitOptions.NumClasses != spec.NumClasses)
                    throw new InvalidDataException("The vision transformer options disagree with the spec's input shape or class count.");
                var vit = new HyperVisionTransformer(vitOptions);
                return (vit, vit.HyperConnections);
            default:
                throw new NotSupportedException($"Unknown image architecture {spec.Architecture}.");
        }
    }
}
