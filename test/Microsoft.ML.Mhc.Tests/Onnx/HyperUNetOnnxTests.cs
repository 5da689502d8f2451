using Mhc.Models;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.Onnx;
using Microsoft.ML.Mhc.Segmentation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The exported segmentation network (standardisation, Hyper-UNet with history-window skips, softmax, arg-max) scored
/// by ONNX Runtime: logits and probabilities within 1e-4 of TorchSharp and the masks identical, for residual
/// (concatenation skips), HC and mHC with every skip constraint, at batch sizes 1 and 17.
/// </summary>
public sealed class HyperUNetOnnxTests(ITestOutputHelper output)
{
    private const double Tolerance = OnnxComparison.Tolerance;

    // Name -> (mixing, UNet tweaks). Depth 3 with a history of 3: the finest decoder level mixes three encoder states,
    // two of them finer than itself (strided projections); coarser states are upsampled (nearest) first.
    private static readonly Dictionary<string, (MixingSettings Mixing, Action<HyperUNetOptions>? Tweak)> Variants = new()
    {
        ["residual"] = (new MixingSettings { Connection = ConnectionKind.Residual }, null),
        ["hc"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2 }, null),
        ["mhc-doubly-stochastic"] = (new MixingSettings { ExpansionRate = 2 }, null),
        ["mhc-simplex-no-gate-two-blocks"] = (new MixingSettings { ExpansionRate = 2, Constraint = ConstraintKind.Simplex }, o =>
        {
            o.LearnedSkipGate = false;
            o.BlocksPerStage = 2;
        }),
        ["mhc-identity-simplex-learned-collapse"] = (new MixingSettings { ExpansionRate = 2, Constraint = ConstraintKind.IdentityPreservingSimplex },
            o => o.Collapse = StreamCollapseMode.Learned),
        ["mhc-static-logdomain"] = (new MixingSettings { ExpansionRate = 4, DynamicMixing = false, Sinkhorn = SinkhornVariant.LogDomain }, null),
    };

    public static TheoryData<string, int> Cases() => OnnxComparison.Cases(Variants.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportedGraphMatchesTorchSharp(string variant, int batch)
    {
        MhcEnvironment.EnsureTorch();
        using var network = RandomNetwork(variant, seed: 7);
        var spec = network.Spec;
        var rows = HyperResNetOnnxTests.Rows(batch, spec.InputLength, seed: batch);

        float[] torchLogits, torchProbabilities;
        long[] torchMask;
        using (no_grad())
        using (NewDisposeScope())
        {
            var logits = network.forward(tensor(rows).view(batch, -1));
            torchLogits = logits.data<float>().ToArray();
            torchProbabilities = nn.functional.softmax(logits, 1).data<float>().ToArray();
            torchMask = logits.argmax(1).data<long>().ToArray();
        }

        using var stream = new MemoryStream();
        MhcOnnx.Export(network, stream);
        using var outputs = OnnxScoring.Run(stream.ToArray(), [(MhcOnnxNames.Features, OnnxScoring.Tensor(rows, [batch, spec.InputLength]))],
            [MhcOnnxNames.Logits, MhcOnnxNames.Probabilities, MhcOnnxNames.Mask]);
        var onnxLogits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var onnxProbabilities = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        var onnxMask = outputs[2].GetTensorDataAsSpan<long>().ToArray();

        double logitDiff = OnnxScoring.MaxAbsDiff(torchLogits, onnxLogits);
        double probabilityDiff = OnnxScoring.MaxAbsDiff(torchProbabilities, onnxProbabilities);
        int maskDifferences = torchMask.Zip(onnxMask).Count(p => p.First != p.Second);
        output.WriteLine($"{variant} batch {batch}: max |logit diff| {logitDiff:E2}, max |probability diff| {probabilityDiff:E2}, " +
            $"{maskDifferences} of {torchMask.Length} mask pixels differ, classes predicted {torchMask.Distinct().Count()}");
        Assert.True(logitDiff <= Tolerance, $"{variant}, batch {batch}: logits differ by {logitDiff:E3}.");
        Assert.True(probabilityDiff <= Tolerance, $"{variant}, batch {batch}: probabilities differ by {probabilityDiff:E3}.");
        Assert.Equal(torchMask, onnxMask);
        // Not a constant map: the pixels get different classes.
        Assert.True(torchMask.Distinct().Count() > 1, $"{variant}: every pixel has the same class.");
    }

    /// <summary>A tiny UNet (2 x 16 x 16 in, 3 classes, depth 3, width 8) with random weights, eval mode.</summary>
    private static SegmentationNetwork RandomNetwork(string variant, int seed)
    {
        var (mixing, tweak) = Variants[variant];
        var unet = new HyperUNetOptions { InChannels = 2, NumClasses = 3, Depth = 3, BaseWidth = 8, MaxHistory = 3, Mixing = mixing };
        tweak?.Invoke(unet);
        var spec = new SegmentationSpec { Channels = 2, ImageHeight = 16, ImageWidth = 16, NumClasses = 3, ClassNames = ["a", "b", "c"], UNet = unet };
        random.manual_seed(seed);
        var network = new SegmentationNetwork(spec, mean: [90f, 110f], std: [60f, 45f]);
        OnnxTestWeights.Perturb(network, seed);
        return network;
    }
}
