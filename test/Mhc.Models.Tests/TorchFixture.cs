using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests;

/// <summary>Shared helpers: torch initialised once, small deterministic tensors.</summary>
internal static class T
{
    static T() => MhcEnvironment.EnsureTorch();

    public static void Init(long seed = 1)
    {
        MhcEnvironment.EnsureTorch();
        random.manual_seed(seed);
    }

    public static float[] Values(Tensor t) => t.detach().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a.detach().to_type(ScalarType.Float64) - b.detach().to_type(ScalarType.Float64)).abs().max();
        return d.ToDouble();
    }

    public static Tensor Param(nn.Module m, string name) =>
        m.named_parameters().Single(p => p.name == name).parameter;
}
