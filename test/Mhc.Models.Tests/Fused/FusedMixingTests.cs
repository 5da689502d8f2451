using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Fused;

/// <summary>
/// The fused kernels compute what the tensor-operation path (<see cref="HyperConnection.ForwardDynamic"/>, the
/// reference) computes: same outputs and same gradients for every parameter and the input.
/// </summary>
public class FusedMixingTests
{
    public enum Shape
    {
        Sequence,           // (B, n, T, C), per token, channels last (the decoder)
        Vector,             // (B, n, C), per token (the MLP stack)
        WideVector,         // the same with a Phi too large for the per-row products (the backward's GEMM path)
        PooledConv,         // (B, n, C, H, W), per sample (the Hyper-ResNet)
        PooledConvProjected,// the same through a stride-2 transition with a linear projection
        PooledConvProjectedLarge, // a transition whose subsample is large enough for the one-node write-in (ProjectedMixOutKernel)
        PixelConv,          // (B, n, C, H, W), per pixel, channels first
    }

    public static TheoryData<ConnectionKind, Shape, SinkhornVariant> Cases()
    {
        var data = new TheoryData<ConnectionKind, Shape, SinkhornVariant>();
        foreach (var shape in Enum.GetValues<Shape>())
        {
            data.Add(ConnectionKind.Mhc, shape, SinkhornVariant.ExpFirst);
            data.Add(ConnectionKind.Hc, shape, SinkhornVariant.ExpFirst);
        }
        data.Add(ConnectionKind.Mhc, Shape.Sequence, SinkhornVariant.SoftmaxFirst);
        data.Add(ConnectionKind.Mhc, Shape.Sequence, SinkhornVariant.LogDomain);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedPath_MatchesTheTensorPath_ForwardAndGradients(ConnectionKind kind, Shape shape, SinkhornVariant variant)
    {
        T.Init(51);
        using var scope = NewDisposeScope();
        var (hc, x) = Build(kind, shape, variant);
        // Gates of order one and random biases, so that every term of the mapping matters (at init alpha = 0.01).
        using (no_grad())
        {
            T.Param(hc, "gates").copy_(tensor(new[] { 0.7f, -0.4f, 0.9f }));
            foreach (var name in new[] { "bias_pre", "bias_post", "bias_res" })
                T.Param(hc, name).add_(randn_like(T.Param(hc, name)) * 0.5);
        }
        var weights = randn_like(hc.forward(x.detach()));

        var (fusedOut, fusedGrads) = Run(hc, x, weights, h => h.forward);
        var (referenceOut, referenceGrads) = Run(hc, x, weights, h => h.ForwardDynamic);

        Assert.True(T.MaxAbsDiff(fusedOut, referenceOut) < 2e-5, $"forward differs by {T.MaxAbsDiff(fusedOut, referenceOut)}");
        foreach (var (name, reference) in referenceGrads)
        {
            double scale = Math.Max(1e-3, reference.abs().max().ToDouble());
            double diff = T.MaxAbsDiff(fusedGrads[name], reference);
            Assert.True(diff / scale < 1e-4, $"{kind} {shape}: gradient of {name} differs by {diff} (scale {scale})");
        }
    }

    [Fact]
    public void Diagnostics_RecordTheSameMixingOnBothPaths()
    {
        T.Init(52);
        using var scope = NewDisposeScope();
        var (hc, x) = Build(ConnectionKind.Mhc, Shape.Sequence, SinkhornVariant.ExpFirst);
        hc.RecordDiagnostics = true;
        using (no_grad()) hc.forward(x);
        var fused = hc.LastResidualMixing!;
        using (no_grad()) hc.ForwardDynamic(x);
        var reference = hc.LastResidualMixing!;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(reference[i, j], fused[i, j], 5);
    }

    [Fact]
    public void ABranchThatIgnoresItsInput_LeavesTheReadOutWithoutGradient_AndStillMatches()
    {
        // u gets no gradient at all: the read-out node must take the missing gradient as zero.
        T.Init(53);
        using var scope = NewDisposeScope();
        var hc = new HyperConnection("const", new Constant(8), new HyperConnectionOptions { Dim = 8, Mixing = new() { ExpansionRate = 4 }});
        var x = randn(5, 4, 8).requires_grad_(true);
        var weights = randn(5, 4, 8);
        var (fusedOut, fused) = Run(hc, x, weights, h => h.forward);
        var (referenceOut, reference) = Run(hc, x, weights, h => h.ForwardDynamic);
        Assert.True(T.MaxAbsDiff(fusedOut, referenceOut) < 2e-5);
        foreach (var (name, g) in reference)
            Assert.True(T.MaxAbsDiff(fused[name], g) < 1e-4, $"gradient of {name} differs by {T.MaxAbsDiff(fused[name], g)}");
    }

    private sealed class Constant : Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Parameter value;

        public Constant(int dim) : base("constant")
        {
            value = new TorchSharp.Modules.Parameter(randn(dim));
            RegisterComponents();
        }

        public override Tensor forward(Tensor u) => value.expand_as(u);
    }

    private static (HyperConnection Hc, Tensor X) Build(ConnectionKind kind, Shape shape, SinkhornVariant variant)
    {
        const int n = 4;
        var options = new HyperConnectionOptions { Mixing = new() { Connection = kind, ExpansionRate = n, Sinkhorn = variant }, LayerIndex = 1 };
        switch (shape)
        {
            case Shape.Sequence:
                options.Dim = 12;
                return (new HyperConnection("seq", Sequential(LayerNorm(12), Linear(12, 12), GELU()), options),
                    randn(3, n, 5, 12).requires_grad_(true));
            case Shape.Vector:
                options.Dim = 10;
                return (new HyperConnection("vec", Sequential(LayerNorm(10), Linear(10, 10)), options), randn(9, n, 10).requires_grad_(true));
            case Shape.WideVector:
                options.Dim = 160;                                 // Phi is 24 x 640 floats, 60 KB
                return (new HyperConnection("wide", Sequential(LayerNorm(160), Linear(160, 160)), options), randn(21, n, 160).requires_grad_(true));
            case Shape.PixelConv:
                options.Dim = 6;
                options.Layout = StreamFeatureLayout.ChannelsFirst;
                return (new HyperConnection("pix", Conv2d(6, 6, 3, padding: 1), options), randn(new long[] { 2, n, 6, 5, 3 }).requires_grad_(true));
            default:
                options.Dim = 6;
                options.Layout = StreamFeatureLayout.ChannelsFirst;
                options.Granularity = DynamicGranularity.PerSample;
                bool projected = shape is Shape.PooledConvProjected or Shape.PooledConvProjectedLarge;
                var branch = Sequential(BatchNorm2d(6), ReLU(), Conv2d(6, projected ? 8 : 6, 3, stride: projected ? 2 : 1, padding: 1, bias: false));
                var hc = projected
                    ? new HyperConnection("down", branch, options, Conv2d(6, 8, 1, stride: 2, bias: false))
                    : new HyperConnection("pool", branch, options);
                hc.eval();   // batch norm with running statistics: both paths see the same branch
                // 24 x 22 subsampled to 12 x 11: 132 positions, past ProjectedMixOutKernel.Pays.
                long[] size = shape == Shape.PooledConvProjectedLarge ? [2, n, 6, 24, 22] : [3, n, 6, 7, 5];
                if (projected)
                    Assert.Equal(shape == Shape.PooledConvProjectedLarge, Mhc.Models.Fused.ProjectedMixOutKernel.Pays((size[3] + 1) / 2 * ((size[4] + 1) / 2)));
                return (hc, randn(size).requires_grad_(true));
        }
    }

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) Run(HyperConnection hc, Tensor x, Tensor weights,
        Func<HyperConnection, Func<Tensor, Tensor>> path)
    {
        hc.zero_grad();
        x.grad?.zero_();
        var output = path(hc)(x);
        (output * weights).sum().backward();
        var gradients = hc.named_parameters().Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        gradients["input"] = x.grad!.clone();
        return (output.detach().clone(), gradients);
    }
}
