using Mhc.Models.Weights;
using Microsoft.ML.Mhc.Lifetime;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Inference;

/// <summary>
/// A trained network held for use, whatever the task: in eval mode on its device, each use inside the disposal guard, a
/// <see cref="Dispose"/> that waits for the uses in flight, and its weights written out on request. The scoring engines
/// (<see cref="InferenceEngine{TNetwork}"/>, rows of floats in batches) and text generation (tokens, one step at a time)
/// build on it.
/// </summary>
/// <typeparam name="TNetwork">The network.</typeparam>
internal abstract class NetworkHost<TNetwork> : IDisposable where TNetwork : nn.Module
{
    private readonly DisposalGuard guard;

    /// <summary>Holds <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the host owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    protected NetworkHost(TNetwork network, Device device, string ownerName)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        guard = new DisposalGuard(ownerName);
        network.eval();
    }

    /// <summary>The network.</summary>
    public TNetwork Network { get; }

    /// <summary>Where it runs.</summary>
    public Device Device { get; }

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => guard.IsDisposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> (naming the owner) once the host is disposed.</summary>
    public void ThrowIfDisposed() => guard.ThrowIfDisposed();

    /// <summary>One use of the network: <see cref="Dispose"/> waits for it to end; after disposal it throws.</summary>
    protected DisposalGuard.Use Use() => guard.Enter();

    /// <summary>Writes the network's state_dict to <paramref name="path"/> atomically (see <see cref="ModuleWeights.Save"/>); returns the full path.</summary>
    public string SaveWeights(string path, WeightsFormat? format)
    {
        using var use = Use();
        return ModuleWeights.Save(Network, path, format);
    }

    /// <summary>Frees the network's native memory once the uses in flight have finished.</summary>
    public void Dispose() => guard.Dispose(Network.Dispose);
}
