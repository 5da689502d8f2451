using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Layers;

/// <summary>
/// A hyper-connection converted with <c>module.to(dtype)</c> runs in that dtype (issue 16: it threw "expected m1 and
/// m2 to have the same dtype"), computing its mixing coefficients in float32 as the mHC paper does.
/// </summary>
public class HyperConnectionDtypeTests
{
    public static TheoryData<ConnectionKind, bool, bool> Configurations() => new()
    {
        { ConnectionKind.Mhc, true, false },   // dynamic, per token
        { ConnectionKind.Mhc, true, true },    // dynamic, per sample (pooled, channels first)
        { ConnectionKind.Mhc, false, false },  // static
        { ConnectionKind.Hc, true, false },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Float64_MatchesFloat32_ForwardAndBackward(ConnectionKind kind, bool dynamic, bool perSample)
    {
        T.Init(61);
        using var scope = NewDisposeScope();
        var (hc32, x32) = Build(kind, dynamic, perSample);
        var (hc64, _) = Build(kind, dynamic, perSample);
        hc64.load_state_dict(hc32.state_dict());
        hc64.to(ScalarType.Float64);
        var x64 = x32.detach().to_type(ScalarType.Float64).requires_grad_(true);

        var y32 = hc32.forward(x32);
        var y64 = hc64.forward(x64);
        Assert.Equal(ScalarType.Float64, y64.dtype);
        Assert.True(T.MaxAbsDiff(y32, y64) < 1e-5, $"float64 output differs from float32 by {T.MaxAbsDiff(y32, y64)}");

        y64.square().sum().backward();
        Assert.Equal(ScalarType.Float64, x64.grad!.dtype);
        foreach (var (name, p) in hc64.named_parameters())
        {
            Assert.Equal(ScalarType.Float64, p.dtype);
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.isfinite().all().ToBoolean(), $"{name} has a non-finite gradient");
        }
    }

    public static TheoryData<ConnectionKind, bool, bool, ScalarType> HalfConfigurations()
    {
        var data = new TheoryData<ConnectionKind, bool, bool, ScalarType>();
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float16 })
            foreach (var row in Configurations())
                data.Add((ConnectionKind)row[0], (bool)row[1], (bool)row[2], dtype);
        return data;
    }

    [Theory]
    [MemberData(nameof(HalfConfigurations))]
    public void HalfPrecision_Runs_AndStaysCloseToFloat32(ConnectionKind kind, bool dynamic, bool perSample, ScalarType dtype)
    {
        T.Init(62);
        using var scope = NewDisposeScope();
        var (hc32, x32) = Build(kind, dynamic, perSample);
        var (hc16, _) = Build(kind, dynamic, perSample);
        hc16.load_state_dict(hc32.state_dict());
        hc16.to(dtype);
        var x16 = x32.detach().to_type(dtype).requires_grad_(true);

        var y16 = hc16.forward(x16);
        Assert.Equal(dtype, y16.dtype);
        var y32 = hc32.forward(x32);
        double scale = y32.abs().max().ToDouble();
        Assert.True(T.MaxAbsDiff(y32, y16) < 0.05 * scale, $"{dtype} output differs from float32 by {T.MaxAbsDiff(y32, y16)} (scale {scale})");
        y16.to_type(ScalarType.Float32).square().sum().backward();
        Assert.Equal(dtype, x16.grad!.dtype);
    }

    [Fact]
    public void MixingCoefficients_AreComputedInFloat32_ForAFloat64Module()
    {
        // The float64 module's coefficients come from the same float32 values by the same float32 operations as the
        // float32 module's tensor path, so its recorded H_res is bitwise the same; computed in float64 it would not be.
        T.Init(63);
        using var scope = NewDisposeScope();
        var (hc32, x32) = Build(ConnectionKind.Mhc, dynamic: true, perSample: false);
        var (hc64, _) = Build(ConnectionKind.Mhc, dynamic: true, perSample: false);
        hc64.load_state_dict(hc32.state_dict());
        hc64.to(ScalarType.Float64);
        using (no_grad()) T.Param(hc32, "gates").fill_(0.5f);
        using (no_grad()) T.Param(hc64, "gates").fill_(0.5);
        hc32.RecordDiagnostics = hc64.RecordDiagnostics = true;
        using (no_grad())
        {
            hc32.ForwardDynamic(x32);
            hc64.forward(x32.to_type(ScalarType.Float64));
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(hc32.LastResidualMixing![i, j], hc64.LastResidualMixing![i, j]);
        Assert.Equal(hc32.LastPreMixing, hc64.LastPreMixing);
    }

    private static (HyperConnection Hc, Tensor X) Build(ConnectionKind kind, bool dynamic, bool perSample)
    {
        var options = new HyperConnectionOptions { Mixing = new() { Connection = kind, ExpansionRate = 4, DynamicMixing = dynamic }, LayerIndex = 2 };
        if (perSample)
        {
            options.Dim = 5;
            options.Layout = StreamFeatureLayout.ChannelsFirst;
            options.Granularity = DynamicGranularity.PerSample;
            return (new HyperConnection("conv", Conv2d(5, 5, 3, padding: 1), options), randn(new long[] { 2, 4, 5, 6, 6 }).requires_grad_(true));
        }
        options.Dim = 8;
        return (new HyperConnection("seq", Sequential(Linear(8, 8), Tanh()), options), randn(3, 4, 6, 8).requires_grad_(true));
    }
}
