using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Models.Onnx;
using Mhc.Models.Transformers;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The exported decoder (past keys and values in, presents out) scored by ONNX Runtime equals the TorchSharp decoder
/// for residual, HC and mHC connections, at batch sizes 1 and 17: on a whole sequence with empty pasts, and decoding
/// incrementally (a prompt, then one token, then two more with the presents fed back as pasts) against the logits
/// of the whole prefix.
/// </summary>
public sealed class DecoderOnnxTests(ITestOutputHelper output)
{
    private const double Tolerance = OnnxComparison.Tolerance;
    private const int Vocabulary = 11;

    private static readonly Dictionary<string, (MixingSettings Mixing, bool Tied)> Variants = new()
    {
        ["residual"] = (new MixingSettings { Connection = ConnectionKind.Residual }, false),
        ["hc"] = (new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2 }, false),
        ["mhc"] = (new MixingSettings { ExpansionRate = 4 }, false),
        ["mhc-static-tied-embeddings"] = (new MixingSettings { ExpansionRate = 2, DynamicMixing = false }, true),
    };

    public static TheoryData<string, int> Cases() => OnnxComparison.Cases(Variants.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void IncrementalDecodingMatchesTorchSharp(string variant, int batch)
    {
        MhcEnvironment.EnsureTorch();
        var (mixing, tied) = Variants[variant];
        using var network = new HyperDecoderTransformer(new HyperDecoderTransformerOptions
        {
            VocabSize = Vocabulary,
            ContextLength = 12,
            Transformer = new() { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0 },
            Mixing = mixing,
            TieEmbeddings = tied,
        });
        OnnxTestWeights.Perturb(network, seed: 9, matrixScale: 8);
        var random = new Random(batch);
        var ids = Enumerable.Range(0, batch * 7).Select(_ => (long)random.Next(Vocabulary)).ToArray();   // (B, 7)

        using var stream = new MemoryStream();
        DecoderOnnxExport.Write(network, stream);
        using var session = new InferenceSession(stream.ToArray(), new SessionOptions { IntraOpNumThreads = 1 });
        int layers = network.Options.Transformer.Layers;
        var past = Enumerable.Range(0, 2 * layers).Select(_ => (Data: Array.Empty<float>(), Shape: new long[] { batch, 2, 0, 8 })).ToArray();

        // The whole sequence at once, then the same positions decoded as 4 + 1 + 2 tokens.
        var whole = Step(session, ids, batch, 0, 7, past.ToArray(), layers).Logits;
        AssertClose(Torch(network, ids, batch, 7, 0, 7), whole, $"{variant}, batch {batch}, whole sequence");
        int start = 0;
        foreach (int count in new[] { 4, 1, 2 })
        {
            var (logits, present) = Step(session, ids, batch, start, count, past, layers);
            AssertClose(Torch(network, ids, batch, 7, start, count), logits, $"{variant}, batch {batch}, positions {start}..{start + count - 1}");
            Assert.Equal(start + count, present[0].Shape[2]);
            past = present;
            start += count;
        }
    }

    // Logits (B, count, V) of positions start..start+count-1 from the TorchSharp forward on the prefix up to them.
    private static float[] Torch(HyperDecoderTransformer network, long[] ids, int batch, int length, int start, int count)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prefix = tensor(ids).view(batch, length)[.., ..(start + count)];
        return network.forward(prefix)[.., start..].contiguous().data<float>().ToArray();
    }

    private static (float[] Logits, (float[] Data, long[] Shape)[] Present) Step(InferenceSession session, long[] ids, int batch, int start, int count,
        (float[] Data, long[] Shape)[] past, int layers)
    {
        var tokens = new long[batch * count];
        for (int b = 0; b < batch; b++) Array.Copy(ids, b * 7 + start, tokens, b * count, count);
        var names = new List<string> { DecoderOnnxExport.InputIds };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(tokens, [batch, count]) };
        for (int i = 0; i < layers; i++)
        {
            names.Add(DecoderOnnxExport.PastKeys(i));
            names.Add(DecoderOnnxExport.PastValues(i));
            values.Add(OrtValue.CreateTensorValueFromMemory(past[2 * i].Data, past[2 * i].Shape));
            values.Add(OrtValue.CreateTensorValueFromMemory(past[2 * i + 1].Data, past[2 * i + 1].Shape));
        }
        var outputs = new List<string> { DecoderOnnxExport.Logits };
        for (int i = 0; i < layers; i++)
        {
            outputs.Add(DecoderOnnxExport.PresentKeys(i));
            outputs.Add(DecoderOnnxExport.PresentValues(i));
        }
        try
        {
            using var run = new RunOptions();
            using var results = session.Run(run, names, values, outputs);
            var present = results.Skip(1).Select(r => (r.GetTensorDataAsSpan<float>().ToArray(), r.GetTensorTypeAndShape().Shape)).ToArray();
            return (results[0].GetTensorDataAsSpan<float>().ToArray(), present);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private void AssertClose(float[] expected, float[] actual, string what)
    {
        double diff = OnnxScoring.MaxAbsDiff(expected, actual);
        output.WriteLine($"{what}: max |logit diff| {diff:E2}, logit range {expected.Min():F2}..{expected.Max():F2}");
        Assert.True(diff <= Tolerance, $"{what}: logits differ by {diff:E3}.");
    }
}
