using Mhc.Models;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Vision;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The exported graph of a Hyper-ResNet image classifier (as the image trainer builds it, input standardisation
/// included) scored by ONNX Runtime equals the TorchSharp network, for every connection kind and mixing variant, at
/// batch sizes 1 and 17. Weights are random (biases, gates, Phi and batch-norm statistics far from their init), so
/// the dynamic mixing actually depends on the input.
/// </summary>
public sealed class HyperResNetOnnxTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Cases() => OnnxComparison.Cases(Variants.Keys);

    // Name -> (mixing, HyperResNet tweaks).
    private static readonly Dictionary<string, (MixingSettings Mixing, Action<HyperResNetOptions>? Tweak)> Variants = new()
    {
        ["residual"] = (new MixingSettings { Connection = ConnectionKind.Residual }, null),
        ["hc-dynamic"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2 }, null),
        ["hc-static"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2, DynamicMixing = false }, null),
        ["hc-per-pixel"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2 }, o => o.PerPixelMixing = true),
        ["mhc-expfirst"] = (new MixingSettings { ExpansionRate = 4 }, null),
        ["mhc-softmaxfirst"] = (new MixingSettings { ExpansionRate = 4, Sinkhorn = SinkhornVariant.SoftmaxFirst }, null),
        ["mhc-logdomain"] = (new MixingSettings { ExpansionRate = 4, Sinkhorn = SinkhornVariant.LogDomain }, null),
        ["mhc-unbounded-7-iterations"] = (new MixingSettings { ExpansionRate = 2, ResidualLogitBound = null, SinkhornIterations = 7 }, null),
        ["mhc-static"] = (new MixingSettings { ExpansionRate = 4, DynamicMixing = false }, null),
        ["mhc-per-pixel"] = (new MixingSettings { ExpansionRate = 2 }, o => o.PerPixelMixing = true),
        ["mhc-bottleneck-large-stem-learned-collapse"] = (new MixingSettings { ExpansionRate = 2 }, o =>
        {
            o.Block = ResNetBlockKind.Bottleneck;
            o.LargeStem = true;
            o.Collapse = StreamCollapseMode.Learned;
        }),
        ["mhc-sum-collapse"] = (new MixingSettings { ExpansionRate = 2 }, o => o.Collapse = StreamCollapseMode.Sum),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportedGraphMatchesTorchSharp(string variant, int batch)
    {
        MhcEnvironment.EnsureTorch();
        var (mixing, tweak) = Variants[variant];
        using var network = RandomNetwork(mixing, tweak, seed: 3);
        OnnxComparison.AssertMatchesTorchSharp(network, variant, batch, output);
    }

    /// <summary>A classifier as the trainer specifies it (two stages, so a stride-2 transition with its projection), random weights, eval mode.</summary>
    internal static ImageClassifierNetwork RandomNetwork(MixingSettings mixing, Action<HyperResNetOptions>? tweak, int seed)
    {
        var options = TestData.TinyOptions();
        options.Channels = 2;
        options.Mixing = mixing;
        var spec = MhcImageClassificationTrainer.CreateSpec(options, classes: 5);
        tweak?.Invoke(spec.HyperResNet!);
        random.manual_seed(seed);
        var network = new ImageClassifierNetwork(spec, mean: [90f, 110f], std: [60f, 45f]);
        OnnxTestWeights.Perturb(network, seed);
        return network;
    }

    internal static float[] Rows(int batch, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, batch * length).Select(_ => (float)(random.NextDouble() * 255)).ToArray();
    }
}
