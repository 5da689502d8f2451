using Mhc.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mhc.Models.Diagnostics;

/// <summary>
/// Gradient norms for training curves. Each call costs one reduction per parameter and one
/// device-to-host copy, so call it on the steps you log, after <c>backward()</c> and before
/// <c>zero_grad()</c>.
/// </summary>
public static class GradientNorms
{
    /// <summary>Global L2 norm of the gradients of <paramref name="parameters"/>; null when none has a gradient.</summary>
    public static double? Total(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var norms = new List<Tensor>();
        foreach (var p in parameters)
        {
            var g = p.grad;
            if (g is null) continue;
            norms.Add(g.detach().to_type(ScalarType.Float32).norm());
        }
        if (norms.Count == 0) return null;
        return stack(norms).norm().ToDouble();
    }

    /// <summary>
    /// L2 gradient norm of each hyper-connection's own parameters (Phi, alpha, biases: the mixing) and of
    /// its whole subtree (branch included), in depth order; null entries have no gradient.
    /// </summary>
    public static IReadOnlyList<(double? Mixing, double? Total)> PerLayer(IEnumerable<HyperConnection> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return layers.Select(l => (Total(l.parameters(recurse: false)), Total(l.parameters()))).ToList();
    }
}
