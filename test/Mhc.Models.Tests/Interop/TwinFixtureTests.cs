using Mhc.Interop.Tests;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Mhc.Models.Weights;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Interop;

/// <summary>
/// PyTorch to C#: weights the PyTorch twin wrote (safetensors from interop/pytorch/safetensors_io.py) load into the C#
/// networks under the same names and reproduce the twin's logits; a wrong tensor shows.
/// </summary>
public sealed class TwinFixtureTests
{
    // interop/pytorch/make_fixtures.py: IMAGE and DECODER.
    private static HyperResNetOptions Image(ConnectionKind connection, int streams = 4) => new()
    {
        InChannels = 1, NumClasses = 10, ImageHeight = 12, ImageWidth = 12, StageDepths = [2, 1], BaseWidth = 4,
        Mixing = new MixingSettings { Connection = connection, ExpansionRate = streams },
    };

    private static HyperDecoderTransformerOptions Decoder() => new()
    {
        VocabSize = 17, ContextLength = 8, Transformer = new TransformerSettings { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2 },
    };

    private static HyperResNet LoadedResNet(string name, ConnectionKind connection)
    {
        T.Init();
        var net = new HyperResNet(Image(connection));
        ModuleWeights.Load(net, TwinFixtureFiles.PathOf($"{name}.safetensors"));
        net.eval();
        return net;
    }

    private static HyperDecoderTransformer LoadedDecoder()
    {
        T.Init();
        var net = new HyperDecoderTransformer(Decoder());
        ModuleWeights.Load(net, TwinFixtureFiles.PathOf("decoder-mhc.safetensors"));
        net.eval();
        return net;
    }

    [Theory]
    [InlineData("hyperresnet-mhc", ConnectionKind.Mhc)]
    [InlineData("hyperresnet-hc", ConnectionKind.Hc)]
    public void HyperResNet_FromTwinWeights_MatchesTheTwinsLogits(string name, ConnectionKind connection)
    {
        using var scope = NewDisposeScope();
        var net = LoadedResNet(name, connection);
        var (input, expected) = TwinFixtureFiles.ReadIo(name);
        using var noGrad = no_grad();
        var logits = net.forward(input);
        Assert.Equal(expected.shape, logits.shape);
        double diff = T.MaxAbsDiff(logits, expected);
        Assert.True(diff <= TwinFixtureFiles.Tolerance, $"{name}: max |diff| {diff:E2} against the twin");
    }

    [Fact]
    public void Decoder_FromTwinWeights_MatchesTheTwinsLogits_AllAtOnceAndIncrementally()
    {
        using var scope = NewDisposeScope();
        var net = LoadedDecoder();
        var (tokens, expected) = TwinFixtureFiles.ReadIo("decoder-mhc");
        Assert.Equal(ScalarType.Int64, tokens.dtype);
        using var noGrad = no_grad();
        double diff = T.MaxAbsDiff(net.forward(tokens), expected);
        Assert.True(diff <= TwinFixtureFiles.Tolerance, $"decoder: max |diff| {diff:E2} against the twin");
        // Token by token through the key/value cache: the same logits as the twin's full pass.
        using var cache = net.CreateCache();
        var steps = Enumerable.Range(0, (int)tokens.shape[1]).Select(t => net.Forward(tokens.narrow(1, t, 1), cache)).ToArray();
        double stepDiff = T.MaxAbsDiff(cat(steps, 1), expected);
        Assert.True(stepDiff <= TwinFixtureFiles.Tolerance, $"decoder, incremental: max |diff| {stepDiff:E2} against the twin");
    }

    [Fact]
    public void TransposedResidualMixing_TheDeepSeekLayoutMistake_IsCaught()
    {
        using var scope = NewDisposeScope();
        var net = LoadedDecoder();
        var (tokens, expected) = TwinFixtureFiles.ReadIo("decoder-mhc");
        using var noGrad = no_grad();
        // DeepSeek's kernels store comb[j, i] = H_res[i, j]: loading such a tensor without transposing it is wrong. The
        // first sublayer's H_res would not show (it mixes identical streams, the expanded embedding), nor would the
        // last's (the mean collapse after it sees only its column sums, near 1 either way); the first MLP's does.
        var biasRes = T.Param(net, "blocks.0.mlp.bias_res");
        biasRes.copy_(biasRes.t().contiguous());
        double diff = T.MaxAbsDiff(net.forward(tokens), expected);
        Assert.True(diff > 10 * TwinFixtureFiles.Tolerance, $"a transposed blocks.0.mlp.bias_res changed the logits by only {diff:E2}");
    }

    [Fact]
    public void TwinWeights_IntoANetworkOfOtherStreams_NameTheTensors()
    {
        using var scope = NewDisposeScope();
        var net = new HyperResNet(Image(ConnectionKind.Mhc, streams: 2));
        var e = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(net, TwinFixtureFiles.PathOf("hyperresnet-mhc.safetensors")));
        Assert.Contains("blocks.0.bias_res", e.Message);
        Assert.Contains("[4, 4]", e.Message);
    }
}
