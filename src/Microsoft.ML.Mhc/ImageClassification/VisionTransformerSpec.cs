using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>The vision transformer's options as stored in an <see cref="ImageClassifierSpec"/>.</summary>
internal static class VisionTransformerSpec
{
    /// <summary>The options JSON for <paramref name="classes"/> classes.</summary>
    public static JsonObject Create(MhcImageClassificationTrainer.Options o, int classes) => new()
    {
        ["InChannels"] = o.Channels,
        ["NumClasses"] = classes,
        ["ImageHeight"] = o.ImageHeight,
        ["ImageWidth"] = o.ImageWidth,
        ["PatchSize"] = o.PatchSize,
        ["Dim"] = o.TransformerDim,
        ["Layers"] = o.TransformerLayers,
        ["Heads"] = o.TransformerHeads,
        ["ExpansionRate"] = o.ExpansionRate,
        ["Connection"] = o.Connection.ToString(),
        ["DynamicMixing"] = o.DynamicMixing,
        ["Init"] = o.MixingInit.ToString(),
        ["Dropout"] = o.Dropout,
        ["MaskRatio"] = o.MaskRatio,
    };
}
