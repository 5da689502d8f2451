using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.History;

public class HistoryWindowSkipTests
{
    private static HistoryWindowSkipOptions Opts(ConstraintKind kind, int h = 3, bool gate = false, bool detach = false, bool auto = true) =>
        new() { Constraint = kind, MaxHistory = h, LearnedGate = gate, DetachHistory = detach, AutoProject = auto };

    [Theory]
    [InlineData(ConstraintKind.Simplex)]
    [InlineData(ConstraintKind.IdentityPreservingSimplex)]
    [InlineData(ConstraintKind.DoublyStochastic)]
    public void Weights_AreConvex_AfterRandomLogits(ConstraintKind kind)
    {
        T.Init(3);
        var skip = new HistoryWindowSkip("s", Opts(kind), [4], [[4], [4], [4]]);
        using (no_grad()) T.Param(skip, "mix_logits").copy_(randn(T.Param(skip, "mix_logits").shape) * 3);
        var w = skip.Weights();
        Assert.Equal(3, w.Length);
        Assert.All(w, x => Assert.True(x >= 0));
        Assert.InRange(w.Sum(), 1 - 1e-5, 1 + 1e-5);
        if (kind == ConstraintKind.IdentityPreservingSimplex) Assert.True(w[^1] >= 0.5f - 1e-6f, $"newest weight {w[^1]} fell below the floor");
    }

    [Fact]
    public void DoublyStochastic_UsesNewestRowOfASinkhornMatrix()
    {
        T.Init(4);
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.DoublyStochastic), [2], [[2], [2], [2]]);
        var logits = T.Param(skip, "mix_logits");
        Assert.Equal(new long[] { 3, 3 }, logits.shape);
        using (no_grad()) logits.copy_(randn(3, 3) * 2);
        using var full = new SinkhornProjection(20).Project(logits.detach());
        Assert.Equal(T.Values(full[2]), skip.Weights());
    }

    [Fact]
    public void Output_IsBranchPlusHandWorkedMixture()
    {
        // No constraint: alpha is the raw parameter, so the sum can be checked by hand.
        // alpha = [0.25, 0.75], x_0 = [1, 2], x_1 = [4, 0], f = [10, 10]  ->  [10.25 + 3, 10.5 + 0] = [13.25, 10.5]
        T.Init();
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.None, h: 2), [2], [[2], [2]]);
        using (no_grad()) T.Param(skip, "mix_logits").copy_(tensor(new float[] { 0.25f, 0.75f }));
        using var f = tensor(new float[] { 10, 10 }).reshape(1, 2);
        using var x0 = tensor(new float[] { 1, 2 }).reshape(1, 2);
        using var x1 = tensor(new float[] { 4, 0 }).reshape(1, 2);
        using var y = skip.forward(f, [x0, x1]);
        Assert.Equal(new float[] { 13.25f, 10.5f }, T.Values(y));
    }

    [Fact]
    public void NoConstraint_StartsUniform()
    {
        T.Init();
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.None, h: 4), [2], [[2], [2], [2], [2]]);
        Assert.Equal(new float[] { 0.25f, 0.25f, 0.25f, 0.25f }, skip.Weights());
    }

    [Fact]
    public void HistoryOfOne_WithSimplex_IsAPlainResidualStack()
    {
        T.Init(5);
        var layers = new Module<Tensor, Tensor>[] { Linear(6, 6), Linear(6, 6), Linear(6, 6) };
        var stack = new HistoryWindowSkipStack("stack", layers, [6], Opts(ConstraintKind.Simplex, h: 1));
        using var x = randn(4, 6);
        using var y = stack.forward(x);
        var expected = x;
        foreach (var l in layers) expected = l.forward(expected) + expected;
        Assert.True(T.MaxAbsDiff(y, expected) < 1e-6);
    }

    [Fact]
    public void Stack_WindowsGrowUpToMaxHistory_AndProjectChangingShapes()
    {
        T.Init(6);
        var layers = new Module<Tensor, Tensor>[]
        {
            Conv2d(3, 8, 3, stride: 2, padding: 1),   // (8, 8, 8)
            Conv2d(8, 8, 3, padding: 1),              // (8, 8, 8)
            Conv2d(8, 16, 3, stride: 2, padding: 1),  // (16, 4, 4)
            ConvTranspose2d(16, 8, 2, stride: 2),     // (8, 8, 8): coarser states get upsampled
        };
        var stack = new HistoryWindowSkipStack("stack", layers, [3, 16, 16], Opts(ConstraintKind.IdentityPreservingSimplex, h: 3));
        Assert.Equal(new[] { 1, 2, 3, 3 }, stack.Skips.Select(s => s.StateCount));
        Assert.Equal(new long[] { 16, 4, 4 }, stack.StateShapes[3]);
        // Layer 3's window is x_0 (3, 16, 16), x_1 (8, 8, 8), x_2 (8, 8, 8): the first needs stride 4 and 3 -> 16 channels.
        var p = Assert.IsType<HistoryWindowSkipProjection>(stack.Skips[2].Projections[0]);
        Assert.Equal(4, p.Downsample);
        var up = Assert.IsType<HistoryWindowSkipProjection>(stack.Skips[3].Projections[2]);
        Assert.Equal(2, up.Upsample);
        using var y = stack.forward(randn(2, 3, 16, 16));
        Assert.Equal(new long[] { 2, 8, 8, 8 }, y.shape);
        // Only ratios are fixed: a larger input still works.
        using var big = stack.forward(randn(1, 3, 32, 48));
        Assert.Equal(new long[] { 1, 8, 16, 24 }, big.shape);
    }

    [Fact]
    public void StrictMode_ThrowsOnShapeMismatch_NamingTheShapes()
    {
        T.Init();
        var e = Assert.Throws<ArgumentException>(() =>
            new HistoryWindowSkip("strict", Opts(ConstraintKind.Simplex, auto: false), [8, 4, 4], [[4, 8, 8], [8, 4, 4]]));
        Assert.Contains("(4, 8, 8)", e.Message);
        Assert.Contains("(8, 4, 4)", e.Message);
        Assert.Contains("strict", e.Message);

        var layers = new Module<Tensor, Tensor>[] { Linear(4, 4), Linear(4, 5) };
        Assert.Throws<ArgumentException>(() => new HistoryWindowSkipStack("s", layers, [4], Opts(ConstraintKind.Simplex, auto: false)));
    }

    [Fact]
    public void UnrelatedSpatialSizes_AreRejected()
    {
        T.Init();
        var e = Assert.Throws<ArgumentException>(() => new HistoryWindowSkip("s", Opts(ConstraintKind.Simplex), [8, 4, 4], [[8, 6, 6]]));
        Assert.Contains("integer factor", e.Message);
    }

    [Fact]
    public void WrongHistory_IsExplained()
    {
        T.Init();
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.Simplex), [4], [[4], [4]]);
        using var f = randn(2, 4);
        using var a = randn(2, 4);
        using var bad = randn(2, 5);
        Assert.Contains("mixes 2 states", Assert.Throws<ArgumentException>(() => skip.forward(f, [a])).Message);
        Assert.Contains("(B, 4)", Assert.Throws<ArgumentException>(() => skip.forward(f, [a, bad])).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DetachHistory_StopsGradientThroughTheSkipOnly(bool detach)
    {
        T.Init(8);
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.Simplex, h: 2, detach: detach), [3], [[3], [3]]);
        using var x0 = randn(2, 3).requires_grad_();
        using var x1 = randn(2, 3).requires_grad_();
        using var f = randn(2, 3).requires_grad_();
        skip.forward(f, [x0, x1]).square().sum().backward();
        Assert.NotNull(f.grad);
        Assert.True(f.grad!.abs().sum().ToDouble() > 0);
        if (detach)
        {
            Assert.True(x0.grad is null || x0.grad.abs().sum().ToDouble() == 0);
        }
        else
        {
            Assert.True(x0.grad!.abs().sum().ToDouble() > 0);
        }
        // The mixing weights learn either way: their gradient comes from the forward values.
        Assert.True(T.Param(skip, "mix_logits").grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void Gate_StartsAtOne_AndLearns()
    {
        T.Init(9);
        var skip = new HistoryWindowSkip("s", Opts(ConstraintKind.Simplex, h: 2, gate: true), [3, 4, 4], [[2, 8, 8], [3, 4, 4]]);
        Assert.Equal(1.0, skip.Gate, 6);
        var opt = optim.SGD(skip.parameters(), 0.5);
        using var f = randn(2, 3, 4, 4);
        using var a = randn(2, 2, 8, 8);
        using var b = randn(2, 3, 4, 4);
        skip.forward(f, [a, b]).square().mean().backward();
        Assert.True(T.Param(skip, "gate_logit").grad!.abs().ToDouble() > 0);
        Assert.True(T.Param(skip, "projections.0.map.weight").grad!.abs().sum().ToDouble() > 0);
        opt.step();
        Assert.NotEqual(1.0, skip.Gate, 6);
    }

    [Fact]
    public void History_IsNotCarriedAcrossBatches()
    {
        T.Init(10);
        var layers = new Module<Tensor, Tensor>[] { Linear(5, 5), Linear(5, 5), Linear(5, 5), Linear(5, 5) };
        var stack = new HistoryWindowSkipStack("stack", layers, [5], Opts(ConstraintKind.DoublyStochastic, h: 3));
        using var a = randn(7, 5);
        using var b = randn(2, 5);
        using var alone = stack.forward(b);
        using var first = stack.forward(a);
        using var after = stack.forward(b);
        Assert.Equal(T.Values(alone), T.Values(after));
    }

    [Fact]
    public void Stack_TrainsDownOnAToyTask()
    {
        T.Init(11);
        var layers = Enumerable.Range(0, 6).Select(_ => (Module<Tensor, Tensor>)Sequential(Linear(4, 4), Tanh())).ToArray();
        var stack = new HistoryWindowSkipStack("stack", layers, [4], Opts(ConstraintKind.IdentityPreservingSimplex, h: 3, gate: true));
        var opt = optim.Adam(stack.parameters(), 0.02);
        using var x = randn(32, 4);
        using var target = x.flip(1) * 0.5;
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = functional.mse_loss(stack.forward(x), target);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.ToDouble();
            last = loss.ToDouble();
        }
        Assert.True(last < first * 0.5, $"loss {first} -> {last}");
    }
}
