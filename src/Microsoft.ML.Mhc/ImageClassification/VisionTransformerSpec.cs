using Mhc.Models.Transformers;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>The hyper-connected vision transformer's options for an image classifier.</summary>
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
        Dim = o.TransformerDim,
        Layers = o.TransformerLayers,
        Heads = o.TransformerHeads,
        ExpansionRate = o.ExpansionRate,
        Connection = o.Connection,
        DynamicMixing = o.DynamicMixing,
        Init = o.MixingInit,
        Dropout = o.Dropout,
        MaskRatio = o.MaskRatio,
    };
}
