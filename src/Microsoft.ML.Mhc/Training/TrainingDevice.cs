using Mhc.Models;
using TorchSharp;

namespace Microsoft.ML.Mhc.Training;

/// <summary>Prepares libtorch for a run (native load, threads, seed) and puts the thread count back afterwards.</summary>
internal sealed class TrainingDevice : IDisposable
{
    private readonly int previousThreads;

    /// <summary>Loads TorchSharp, applies <paramref name="threads"/> (0 keeps the default), seeds torch and resolves <paramref name="device"/>.</summary>
    public TrainingDevice(string? device, int threads, int seed)
    {
        MhcEnvironment.EnsureTorch();
        previousThreads = torch.get_num_threads();
        if (threads > 0) torch.set_num_threads(threads);
        Device = MhcEnvironment.ResolveDevice(device);
        torch.random.manual_seed(seed);
        if (Device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>The device to train on.</summary>
    public torch.Device Device { get; }

    /// <summary>Restores libtorch's previous thread count.</summary>
    public void Dispose()
    {
        if (torch.get_num_threads() != previousThreads) torch.set_num_threads(previousThreads);
    }
}
