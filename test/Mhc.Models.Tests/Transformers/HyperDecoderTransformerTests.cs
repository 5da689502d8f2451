using System.Text.Json;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

public class HyperDecoderTransformerTests
{
    private static HyperDecoderTransformerOptions Small(ConnectionKind kind, bool dynamic = true, int n = 4) => new()
    {
        VocabSize = 11, ContextLength = 12, Transformer = new() { Dim = 16, Layers = 2, Heads = 2, MlpRatio = 2, Dropout = 0 },
        Mixing = new() { ExpansionRate = n, Connection = kind, DynamicMixing = dynamic },
    };

    private static Tensor Tokens(long seed, int b, int t, int vocab = 11)
    {
        var g = new Random((int)seed);
        var ids = new long[b * t];
        for (int i = 0; i < ids.Length; i++) ids[i] = g.Next(vocab);
        return tensor(ids, dtype: ScalarType.Int64).reshape(b, t);
    }

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Mhc)]
    public void Forward_GivesLogitsPerPosition(ConnectionKind kind)
    {
        T.Init(21);
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(kind));
        var logits = net.forward(Tokens(1, 3, 7));
        Assert.Equal(new long[] { 3, 7, 11 }, logits.shape);
        Assert.Equal(4, net.HyperConnections.Count);
        Assert.All(T.Values(logits), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Mhc)]
    public void FutureTokens_DoNotChangePastLogits(ConnectionKind kind)
    {
        T.Init(22);
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(kind));
        net.eval();
        var a = Tokens(2, 2, 10);
        var b = a.clone();
        b[.., 6..] = Tokens(3, 2, 4);
        var la = net.forward(a);
        var lb = net.forward(b);
        Assert.True(T.MaxAbsDiff(la[.., ..6], lb[.., ..6]) < 1e-6, "positions before the change must not see it");
        Assert.True(T.MaxAbsDiff(la[.., 6..], lb[.., 6..]) > 1e-4, "positions after the change must see it");
    }

    [Theory]
    [InlineData(ConnectionKind.Residual, false)]
    [InlineData(ConnectionKind.Hc, true)]
    [InlineData(ConnectionKind.Mhc, true)]
    [InlineData(ConnectionKind.Mhc, false)]
    public void CachedDecoding_EqualsFullForward(ConnectionKind kind, bool dynamic)
    {
        T.Init(23);
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(kind, dynamic));
        net.eval();
        var tokens = Tokens(4, 2, 12);
        using var noGrad = no_grad();
        var full = net.forward(tokens);
        using var cache = net.CreateCache();
        // A prompt of 4, three single steps, a chunk of 3 after cached positions (masked path), two steps.
        var pieces = new List<Tensor>();
        foreach (var (start, length) in new[] { (0, 4), (4, 1), (5, 1), (6, 1), (7, 3), (10, 1), (11, 1) })
        {
            pieces.Add(net.Forward(tokens[.., start..(start + length)], cache));
            Assert.Equal(start + length, cache.Length);
        }
        var incremental = cat(pieces, 1);
        Assert.Equal(full.shape, incremental.shape);
        Assert.True(T.MaxAbsDiff(full, incremental) < 1e-4, $"max diff {T.MaxAbsDiff(full, incremental)}");
        // The cache is full: one more token is refused with a clear message.
        var e = Assert.Throws<ArgumentException>(() => net.Forward(tokens[.., ..1], cache));
        Assert.Contains("context of 12", e.Message);
    }

    [Fact]
    public void ResidualMode_IsAPlainPreNormTransformer()
    {
        // HC with one stream and static biases has H_pre = 1, H_post = 1, H_res = I: exactly x + F(norm(x)).
        // So the same weights give the same logits in Residual and in single-stream static HC mode.
        T.Init(24);
        using var scope = NewDisposeScope();
        var residual = new HyperDecoderTransformer(Small(ConnectionKind.Residual));
        var hc = new HyperDecoderTransformer(Small(ConnectionKind.Hc, dynamic: false, n: 1));
        var (missing, unexpected) = hc.load_state_dict(residual.state_dict(), strict: false);
        Assert.Empty(unexpected);
        Assert.All(missing, m => Assert.Contains("bias_", m));
        residual.eval();
        hc.eval();
        var tokens = Tokens(5, 2, 9);
        Assert.True(T.MaxAbsDiff(residual.forward(tokens), hc.forward(tokens)) < 1e-5);

        // And a Residual block is x + attention(norm(x)), then + mlp(norm(.)), computed by hand here.
        var block = new HyperTransformerBlock(0, 16, 2, 2, 0, true,
            new HyperConnectionOptions { Dim = 16, Mixing = new() { ExpansionRate = 1, Connection = ConnectionKind.Residual }}, 0.02, "b");
        block.eval();
        var x = randn(2, 1, 5, 16);
        var (attention, mlp) = (block.HyperConnections.First().Branch, block.HyperConnections.Last().Branch);
        var h = x.select(1, 0);
        h = h + attention.forward(h);
        h = h + mlp.forward(h);
        Assert.True(T.MaxAbsDiff(block.forward(x).select(1, 0), h) < 1e-6);
    }

    [Theory]
    [InlineData(ConnectionKind.Residual)]
    [InlineData(ConnectionKind.Hc)]
    [InlineData(ConnectionKind.Mhc)]
    public void Backward_ReachesEveryParameter(ConnectionKind kind)
    {
        T.Init(25);
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(kind));
        var tokens = Tokens(6, 2, 12);
        var logits = net.forward(tokens);
        var loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, 11), tokens[.., 1..].reshape(-1));
        loss.backward();
        foreach (var (name, p) in net.named_parameters())
        {
            Assert.NotNull(p.grad);
            var g = T.Values(p.grad!);
            Assert.All(g, v => Assert.True(float.IsFinite(v), name));
            // HC starts its dynamic projection at zero (HC sec. 2.3), so its gates get their first gradient after one step.
            if (kind == ConnectionKind.Hc && name.EndsWith("gates", StringComparison.Ordinal)) continue;
            Assert.True(g.Any(v => v != 0), $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void Training_LowersTheLossOnARepeatingPattern()
    {
        T.Init(26);
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(ConnectionKind.Mhc));
        var opt = optim.AdamW(net.parameters(), lr: 3e-3);
        var pattern = tensor(Enumerable.Range(0, 13).Select(i => (long)(i % 5)).ToArray()).unsqueeze(0).expand(4, 13);
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var logits = net.forward(pattern[.., ..12]);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, 11), pattern[.., 1..].reshape(-1));
            loss.backward();
            opt.step();
            if (step == 0) first = loss.ToDouble();
            last = loss.ToDouble();
        }
        Assert.True(last < first * 0.3, $"loss {first:F3} -> {last:F3}");
    }

    [Fact]
    public void BadInputs_AreExplained()
    {
        T.Init();
        using var scope = NewDisposeScope();
        var net = new HyperDecoderTransformer(Small(ConnectionKind.Mhc));
        Assert.Contains("Int64", Assert.Throws<ArgumentException>(() => net.forward(randn(2, 3))).Message);
        Assert.Contains("context of 12", Assert.Throws<ArgumentException>(() => net.forward(Tokens(1, 1, 13))).Message);
        var outside = tensor(new long[] { 1, 11 }).unsqueeze(0);
        Assert.Contains("0..10", Assert.Throws<ArgumentException>(() => net.forward(outside)).Message);
        Assert.Contains("divide Dim", Assert.Throws<ArgumentException>(() =>
            new HyperDecoderTransformer(new HyperDecoderTransformerOptions { VocabSize = 5, Transformer = new() { Dim = 10, Heads = 3 }})).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HyperDecoderTransformer(new HyperDecoderTransformerOptions { VocabSize = 1 }));
    }

    [Fact]
    public void Options_RoundTripThroughJson()
    {
        var o = Small(ConnectionKind.Hc, dynamic: false, n: 3);
        o.TieEmbeddings = true;
        var back = JsonSerializer.Deserialize<HyperDecoderTransformerOptions>(JsonSerializer.Serialize(o))!;
        Assert.Equal(JsonSerializer.Serialize(o), JsonSerializer.Serialize(back));
        Assert.Equal(ConnectionKind.Hc, back.Mixing.Connection);
        Assert.Equal(3, back.Mixing.Streams);
    }

    [Fact]
    public void TiedEmbeddings_ShareTheMatrix()
    {
        T.Init(27);
        using var scope = NewDisposeScope();
        var o = Small(ConnectionKind.Mhc);
        o.TieEmbeddings = true;
        var net = new HyperDecoderTransformer(o);
        Assert.DoesNotContain(net.named_parameters(), p => p.name.StartsWith("head", StringComparison.Ordinal));
        Assert.Equal(new long[] { 1, 3, 11 }, net.forward(Tokens(7, 1, 3)).shape);
    }
}
