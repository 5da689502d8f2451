using Mhc.Models;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The exported vision-transformer classifier (input standardisation included) scored by ONNX Runtime equals the
/// TorchSharp network for residual, HC and mHC connections, both heads (mean pool with learned positions, token grid
/// with sinusoidal positions, on the full grid or resampled to a smaller one), at batch sizes 1 and 17.
/// </summary>
public sealed class VisionTransformerOnnxTests(ITestOutputHelper output)
{
    // Name -> (mixing, head, positions, head grid size).
    private static readonly Dictionary<string, (MixingSettings Mixing, VisionTransformerHead Head, PatchPositionEncoding Positions, int Grid)> Variants = new()
    {
        ["residual-meanpool-learned"] = (new MixingSettings { Connection = ConnectionKind.Residual }, VisionTransformerHead.MeanPool, PatchPositionEncoding.Learned, 0),
        ["hc-tokengrid-sinusoidal"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2 }, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D, 0),
        ["mhc-tokengrid-resampled"] = (new MixingSettings { ExpansionRate = 4 }, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D, 3),
        ["mhc-meanpool-learned-logdomain"] = (new MixingSettings { ExpansionRate = 2, Sinkhorn = SinkhornVariant.LogDomain }, VisionTransformerHead.MeanPool, PatchPositionEncoding.Learned, 0),
        ["mhc-static"] = (new MixingSettings { ExpansionRate = 2, DynamicMixing = false }, VisionTransformerHead.TokenGrid, PatchPositionEncoding.Sinusoidal2D, 2),
    };

    public static TheoryData<string, int> Cases() => OnnxComparison.Cases(Variants.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportedGraphMatchesTorchSharp(string variant, int batch)
    {
        MhcEnvironment.EnsureTorch();
        using var network = RandomNetwork(variant, seed: 5);
        OnnxComparison.AssertMatchesTorchSharp(network, variant, batch, output);
    }

    /// <summary>A tiny classifier (8x8 images, 2x2 patches, width 16, 2 heads, 2 blocks) with random weights, eval mode.</summary>
    private static ImageClassifierNetwork RandomNetwork(string variant, int seed)
    {
        var (mixing, head, positions, grid) = Variants[variant];
        var options = TestData.TinyOptions();
        options.Channels = 2;
        options.Architecture = MhcImageArchitecture.VisionTransformer;
        options.Mixing = mixing;
        options.PatchSize = 2;
        options.TransformerDim = 16;
        options.TransformerHeads = 2;
        options.TransformerLayers = 2;
        options.TransformerHead = head;
        options.TransformerPositions = positions;
        options.TransformerHeadGridSize = grid;
        var spec = MhcImageClassificationTrainer.CreateSpec(options, classes: 5);
        random.manual_seed(seed);
        var network = new ImageClassifierNetwork(spec, mean: [90f, 110f], std: [60f, 45f]);
        OnnxTestWeights.Perturb(network, seed, matrixScale: 5);
        return network;
    }
}
