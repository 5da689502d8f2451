using Mhc.Models.Constraints;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Constraints;

public class SinkhornProjectionTests
{
    [Theory]
    [InlineData(SinkhornVariant.ExpFirst)]
    [InlineData(SinkhornVariant.SoftmaxFirst)]
    [InlineData(SinkhornVariant.LogDomain)]
    public void RowsExact_ColumnsWithin1e3_After20Iterations(SinkhornVariant variant)
    {
        T.Init(3);
        using var logits = randn(16, 4, 4); // unit-scale logits, the range the layers produce
        using var h = new SinkhornProjection(20, variant).Project(logits);
        Assert.Equal(ScalarType.Float32, h.dtype);
        Assert.True(T.Values(h).All(v => v >= 0));
        using var rows = h.sum(-1);
        using var cols = h.sum(-2);
        Assert.True(T.MaxAbsDiff(rows, ones_like(rows)) < 2e-6, "rows must sum to one");
        Assert.True(T.MaxAbsDiff(cols, ones_like(cols)) < 1e-3, "columns must sum to one within 1e-3");
    }

    [Fact]
    public void InvariantToConstantShift_AndFiniteForLargeLogits()
    {
        T.Init(4);
        using var logits = randn(8, 4, 4);
        var p = new SinkhornProjection();
        using var a = p.Project(logits);
        using var b = p.Project(logits + 50);
        using var c = p.Project(logits * 1 + 500);
        Assert.True(T.MaxAbsDiff(a, b) < 1e-5);
        Assert.True(T.Values(c).All(float.IsFinite));
        Assert.True(T.MaxAbsDiff(a, c) < 1e-5);
    }

    [Fact]
    public void SoftmaxFirst_MatchesDeepSeekReferenceOnTheTransposedMatrix()
    {
        // DeepSeek's reference stores comb[j, i] = H[i, j]: softmax(-1), +eps, /colsum(-2), then
        // (repeat - 1) x (rowsum(-1), colsum(-2)), and applies it as einsum('mn,mc->nc').
        T.Init(5);
        using var scope = NewDisposeScope();
        var h = randn(4, 4);
        const double eps = 1e-6;
        var comb = h.transpose(-1, -2).softmax(-1) + eps;
        comb = comb / (comb.sum(-2, keepdim: true) + eps);
        for (int k = 0; k < 19; k++)
        {
            comb = comb / (comb.sum(-1, keepdim: true) + eps);
            comb = comb / (comb.sum(-2, keepdim: true) + eps);
        }
        var ours = new SinkhornProjection(20, SinkhornVariant.SoftmaxFirst, eps).Project(h);
        Assert.True(T.MaxAbsDiff(ours, comb.transpose(-1, -2)) < 1e-6);

        // Applying comb DeepSeek's way equals applying H our way: X'[i] = sum_j H[i, j] X[j].
        var x = randn(4, 8);
        var theirs = einsum("mn,mc->nc", comb, x);
        var mine = matmul(ours, x);
        Assert.True(T.MaxAbsDiff(theirs, mine) < 1e-5);
    }

    [Fact]
    public void RejectsNonSquareInput()
    {
        T.Init();
        using var x = randn(3, 4);
        var e = Assert.Throws<ArgumentException>(() => new SinkhornProjection().Project(x));
        Assert.Contains("square", e.Message);
    }

    [Fact]
    public void SimplexConstraints_SumToOne_AndFloorHolds()
    {
        T.Init(6);
        using var z = randn(5, 6) * 4 - 10;
        using var s = new SimplexConstraint().Project(z);
        using var ip = new IdentityPreservingSimplex(0.3).Project(z);
        Assert.True(T.MaxAbsDiff(s.sum(-1), ones(5)) < 1e-6);
        Assert.True(T.MaxAbsDiff(ip.sum(-1), ones(5)) < 1e-6);
        Assert.True(T.Values(ip[.., -1]).All(v => v >= 0.3f - 1e-6f));
        using var none = new NoConstraint().Project(z);
        Assert.True(T.MaxAbsDiff(none, z) == 0);
    }
}
