using System.Text.Json.Nodes;
using Mhc.Models.Transformers;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>The hyper-connected vision transformer's options for an image classifier, and their saved form.</summary>
internal static class VisionTransformerSpec
{
    /// <summary>The options for <paramref name="classes"/> classes.</summary>
    public static HyperVisionTransformerOptions Create(MhcImageClassificationTrainer.Options o, int classes) => new()
    {
        InChannels = o.Channels,
        NumClasses = classes,
        ImageHeight = o.ImageHeight,
        ImageWidth = o.ImageWidth,
        PatchSize = o.PatchSize,
        Transformer = new() { Dim = o.TransformerDim, Layers = o.TransformerLayers, Heads = o.TransformerHeads, Dropout = o.Dropout },
        Head = o.TransformerHead,
        HeadGridSize = o.TransformerHeadGridSize,
        Positions = o.TransformerPositions,
        Mixing = o.Mixing,
        MaskRatio = o.MaskRatio,
    };

    /// <summary>
    /// The options stored in a saved spec. Models saved before the head and position settings existed
    /// lack them and were built with the mean pool and learned positions; they are read as such, not with
    /// today's defaults, so that their weights still fit.
    /// </summary>
    public static HyperVisionTransformerOptions Read(JsonObject node)
    {
        var options = ImageClassifierSpec.Options<HyperVisionTransformerOptions>(node);
        if (!node.ContainsKey(nameof(HyperVisionTransformerOptions.Head))) options.Head = VisionTransformerHead.MeanPool;
        if (!node.ContainsKey(nameof(HyperVisionTransformerOptions.Positions))) options.Positions = PatchPositionEncoding.Learned;
        return options;
    }
}
