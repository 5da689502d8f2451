using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

/// <summary>
/// The decoder's fast paths (fused mixing kernels, token-row streams, the graph-free RMS norm and inference mode
/// of generation) give the logits of the reference tensor path.
/// </summary>
public class DecoderFastPathTests
{
    private static HyperDecoderTransformer Net(ConnectionKind kind)
    {
        T.Init(81);
        var net = new HyperDecoderTransformer(new HyperDecoderTransformerOptions
        {
            VocabSize = 13, ContextLength = 12, Transformer = new() { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0 }, Mixing = new() { Connection = kind },
        });
        // Gates of order one, so the dynamic mixing matters (at init alpha = 0.01).
        using (no_grad())
            foreach (var (name, p) in net.named_parameters())
                if (name.EndsWith("gates", StringComparison.Ordinal)) p.copy_(tensor(new[] { 0.8f, -0.5f, 0.9f }));
        net.eval();
        return net;
    }

    [Theory]
    [InlineData(ConnectionKind.Mhc)]
    [InlineData(ConnectionKind.Hc)]
    public void FusedFloat32Logits_MatchTheTensorPathInFloat64(ConnectionKind kind)
    {
        using var scope = NewDisposeScope();
        var net = Net(kind);
        var tokens = randint(0, 13, new long[] { 3, 12 });
        var fused = net.forward(tokens);                          // float32 on the CPU: the fused kernels
        net.to(ScalarType.Float64);                                // float64 streams: the tensor path
        var reference = net.forward(tokens);
        double scale = reference.abs().max().ToDouble();
        Assert.True(T.MaxAbsDiff(fused, reference) < 1e-5 * Math.Max(1, scale), $"max diff {T.MaxAbsDiff(fused, reference)} (scale {scale})");
    }

    [Fact]
    public void IncrementalDecodingInInferenceMode_GivesTheFullForwardLogits()
    {
        using var scope = NewDisposeScope();
        var net = Net(ConnectionKind.Mhc);
        var tokens = randint(0, 13, new long[] { 1, 10 });
        var full = net.forward(tokens);                            // gradients enabled: graph, tensor RMS norm
        using var cache = net.CreateCache();
        Tensor prefill, step;
        using (inference_mode())
        {
            prefill = net.Forward(tokens[.., ..7], cache);
            step = net.Forward(tokens[.., 7..], cache);
        }
        Assert.True(T.MaxAbsDiff(full[.., ..7], prefill) < 1e-5, $"prefill differs by {T.MaxAbsDiff(full[.., ..7], prefill)}");
        Assert.True(T.MaxAbsDiff(full[.., 7..], step) < 1e-5, $"steps differ by {T.MaxAbsDiff(full[.., 7..], step)}");
    }
}
