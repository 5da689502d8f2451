using System.Numerics;
using Mhc.Models.Constraints;
using Mhc.Models.Fused;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Fused;

public class SinkhornFunctionTests
{
    public static TheoryData<SinkhornVariant, int, double> Cases()
    {
        var data = new TheoryData<SinkhornVariant, int, double>();
        foreach (var variant in Enum.GetValues<SinkhornVariant>())
        {
            data.Add(variant, 4, 1.0);   // the layers' range
            data.Add(variant, 3, 3.0);   // another n, larger logits
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesTheUnrolledIteration(SinkhornVariant variant, int n, double scale)
    {
        T.Init(41);
        using var scope = NewDisposeScope();
        // 37 matrices: several SIMD blocks and a partial last one.
        var logits = randn(37, n, n) * scale;
        var projection = new SinkhornProjection(20, variant);
        var fused = projection.Project(logits);
        var reference = projection.ProjectUnrolled(logits);
        Assert.True(T.MaxAbsDiff(fused, reference) < 1e-6, $"max diff {T.MaxAbsDiff(fused, reference)}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_MatchesAutogradThroughTheUnrolledIterations(SinkhornVariant variant, int n, double scale)
    {
        T.Init(42);
        using var scope = NewDisposeScope();
        var x = (randn(2, 19, n, n) * scale).requires_grad_(true);
        var weights = randn(2, 19, n, n);
        var projection = new SinkhornProjection(20, variant);

        (projection.Project(x) * weights).sum().backward();
        var fused = x.grad!.clone();
        x.grad!.zero_();
        (projection.ProjectUnrolled(x) * weights).sum().backward();
        var reference = x.grad!.clone();

        double scaleOfGradient = reference.abs().max().ToDouble();
        Assert.True(scaleOfGradient > 1e-3, "the test needs a non-trivial gradient");
        double diff = T.MaxAbsDiff(fused, reference);
        Assert.True(diff < 1e-5, $"{variant}: max |fused - autograd| = {diff} (gradient scale {scaleOfGradient})");
    }

    [Fact]
    public void WithoutGradient_GivesTheSameProjection()
    {
        T.Init(43);
        using var scope = NewDisposeScope();
        var x = randn(5, 4, 4).requires_grad_(true);
        var y = new SinkhornProjection().Project(x);
        Assert.True(y.requires_grad);
        using (no_grad())
        {
            var z = new SinkhornProjection().Project(x);
            Assert.False(z.requires_grad);
            Assert.Equal(0.0, T.MaxAbsDiff(y, z));
        }
    }

    [Fact]
    public void ExpFirstForFourStreams_IsTheGeneralLoopsBitForBit()
    {
        // Sinkhorn4 keeps the 16 entries in registers; it must do the general code's operations in its order.
        var random = new Random(44);
        const int n = 4, iterations = 20;
        int steps = SinkhornKernel.HalfSteps(SinkhornVariant.ExpFirst, iterations);
        Vector<float> Next()
        {
            var lanes = new float[Vector<float>.Count];
            for (int l = 0; l < lanes.Length; l++) lanes[l] = (float)(random.NextDouble() * 4 - 2);
            return new Vector<float>(lanes);
        }
        var logits = Enumerable.Range(0, n * n).Select(_ => Next()).ToArray();
        var gradient = Enumerable.Range(0, n * n).Select(_ => Next()).ToArray();

        (Vector<float>[] Output, Vector<float>[] History, Vector<float>[] Gradient) Run(bool general)
        {
            SinkhornKernel.ForceGeneral = general;
            try
            {
                var m = (Vector<float>[])logits.Clone();
                var history = new Vector<float>[SinkhornKernel.HistoryLength(n, steps)];
                var basis = new Vector<float>[n * n];
                SinkhornKernel.Run(m, n, iterations, SinkhornVariant.ExpFirst, 0f, history, basis);
                var g = (Vector<float>[])gradient.Clone();
                SinkhornKernel.BackwardBlock(g, n, SinkhornVariant.ExpFirst, steps, history, basis);
                return (m, history, g);
            }
            finally
            {
                SinkhornKernel.ForceGeneral = false;
            }
        }

        var general = Run(general: true);
        var special = Run(general: false);
        Assert.Equal(general.Output, special.Output);
        Assert.Equal(general.History, special.History);
        Assert.Equal(general.Gradient, special.Gradient);
        Assert.Contains(special.Gradient, v => v != Vector<float>.Zero);
    }
}
