using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>What the exporter's tests share: the theory grid (variant x batch 1, 17) and the classifier comparison.</summary>
internal static class OnnxComparison
{
    public const double Tolerance = 1e-4;

    /// <summary>Every variant at batch sizes 1 and 17.</summary>
    public static TheoryData<string, int> Cases(IEnumerable<string> variants)
    {
        var data = new TheoryData<string, int>();
        foreach (var name in variants)
            foreach (var batch in new[] { 1, 17 })
                data.Add(name, batch);
        return data;
    }

    /// <summary>
    /// The exported <paramref name="network"/> scored by ONNX Runtime on <paramref name="batch"/> random rows gives the
    /// TorchSharp logits and probabilities within <see cref="Tolerance"/>, and the rows get different logits.
    /// </summary>
    public static void AssertMatchesTorchSharp(ImageClassifierNetwork network, string variant, int batch, ITestOutputHelper output)
    {
        var rows = HyperResNetOnnxTests.Rows(batch, network.Spec.InputLength, seed: batch);
        float[] torchLogits, torchProbabilities;
        using (no_grad())
        using (NewDisposeScope())
        {
            var logits = network.forward(tensor(rows).view(batch, -1));
            torchLogits = logits.data<float>().ToArray();
            torchProbabilities = nn.functional.softmax(logits, 1).data<float>().ToArray();
        }

        using var stream = new MemoryStream();
        MhcOnnx.Export(network, stream);
        var (onnxLogits, onnxProbabilities) = OnnxScoring.Run(stream.ToArray(), rows, batch);

        double logitDiff = OnnxScoring.MaxAbsDiff(torchLogits, onnxLogits);
        double probabilityDiff = OnnxScoring.MaxAbsDiff(torchProbabilities, onnxProbabilities);
        output.WriteLine($"{variant} batch {batch}: max |logit diff| {logitDiff:E2}, max |probability diff| {probabilityDiff:E2}, " +
            $"logit range {torchLogits.Min():F2}..{torchLogits.Max():F2}");
        Assert.True(logitDiff <= Tolerance, $"{variant}, batch {batch}: logits differ by {logitDiff:E3}.");
        Assert.True(probabilityDiff <= Tolerance, $"{variant}, batch {batch}: probabilities differ by {probabilityDiff:E3}.");
        // Not a constant function: the rows get different logits.
        if (batch > 1) Assert.NotEqual(torchLogits[0], torchLogits[network.Spec.NumClasses]);
    }
}
