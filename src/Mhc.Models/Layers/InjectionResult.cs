using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>What <see cref="HyperConnectionInjector.Inject"/> produced.</summary>
/// <param name="Model">The converted model (see the injector for which objects are new and which are modified in place).</param>
/// <param name="Runs">One hyper-connected stack per run of consecutive residual blocks, in traversal order.</param>
/// <param name="Skipped">Residual blocks found but not converted, each as "path: reason".</param>
public sealed record InjectionResult(nn.Module<Tensor, Tensor> Model, IReadOnlyList<HyperSequential> Runs, IReadOnlyList<string> Skipped)
{
    /// <summary>Every hyper-connection created, in depth order (for <c>MixingDiagnostics</c>).</summary>
    public IReadOnlyList<HyperConnection> Connections => Runs.SelectMany(r => r.HyperConnections).ToList();
}
