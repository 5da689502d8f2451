using Mhc.Models.Initialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Initialization;

public class TruncatedNormalTests
{
    [Fact]
    public void TorchSharpsOwnTruncNormal_IsStillBroken()
    {
        // Why TruncatedNormal exists: TorchSharp 0.107's init.trunc_normal_ fills the tensor with the constant `std`.
        // When this fails, TorchSharp fixed it and TruncatedNormal can go.
        T.Init(7);
        using var scope = NewDisposeScope();
        var w = nn.init.trunc_normal_(empty(200, 50), 0, 0.02);
        Assert.True(w.std().ToDouble() < 1e-6);
    }

    [Fact]
    public void Fill_DrawsATruncatedNormal()
    {
        T.Init(7);
        using var scope = NewDisposeScope();
        var w = TruncatedNormal.Fill(empty(400, 250), std: 0.02);
        var v = T.Values(w);
        // A standard normal cut at +-2 has std 0.8796; 100,000 draws pin it to well under 1 %.
        Assert.InRange(w.std().ToDouble(), 0.02 * 0.8796 * 0.99, 0.02 * 0.8796 * 1.01);
        Assert.InRange(w.mean().ToDouble(), -2e-4, 2e-4);
        Assert.True(v.All(x => Math.Abs(x) <= 0.04f + 1e-7f), "every draw within 2 std");
        Assert.True(v.Count(x => Math.Abs(x) > 0.03f) > 1000, "the tails up to the cut are reached (about 11 % beyond 1.5 std)");

        var shifted = T.Values(TruncatedNormal.Fill(empty(10_000), std: 1, mean: 5, lower: 0, upper: 1));
        Assert.True(shifted.All(x => x >= 5 && x <= 6), "one-sided cut: [mean, mean + std]");
    }

    [Fact]
    public void Fill_IsSeeded_AndChecksItsArguments()
    {
        T.Init(3);
        var a = T.Values(TruncatedNormal.Fill(empty(100), 0.5));
        T.Init(3);
        var b = T.Values(TruncatedNormal.Fill(empty(100), 0.5));
        Assert.Equal(a, b);
        Assert.Throws<ArgumentOutOfRangeException>(() => TruncatedNormal.Fill(empty(3), 0));
        Assert.Throws<ArgumentException>(() => TruncatedNormal.Fill(empty(3), 1, lower: 1, upper: -1));
    }
}
