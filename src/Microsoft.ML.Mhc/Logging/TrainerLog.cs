using Mhc.Models;
using Mhc.Models.Native;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Mhc.Logging;

/// <summary>
/// Where a trainer's status lines go during one Fit: an ML.NET channel of the caller's context, named after the trainer
/// (so they reach <c>mlContext.Log</c> as Info messages with that source, as ML.NET's own trainers' do), and the options'
/// <c>Log</c> callback when one is set. Nothing goes to the console.
/// </summary>
internal sealed class TrainerLog : IDisposable
{
    private readonly IChannel channel;
    private readonly Action<string>? callback;

    /// <summary>Opens the channel <paramref name="component"/> on <paramref name="environment"/>.</summary>
    public TrainerLog(IHostEnvironment environment, string component, Action<string>? callback)
    {
        ArgumentNullException.ThrowIfNull(environment);
        channel = environment.Start(component);
        this.callback = callback;
    }

    /// <summary>Writes one line to the context's log and the callback.</summary>
    public void Write(string message)
    {
        channel.Info(MessageSensitivity.None, "{0}", message);
        callback?.Invoke(message);
    }

    /// <summary>The native backend in use (device, libtorch version, threads, how the native library was loaded).</summary>
    public void WriteRuntime() => Write(MhcEnvironment.EnsureTorch().ToString());

    /// <summary>
    /// Checks the convolution gradients of <paramref name="network"/> before it trains on <paramref name="device"/> (see
    /// <see cref="ConvolutionBackendCheck"/>: it may turn oneDNN off for the process, so it runs here, when training is about
    /// to start, and never when a network is merely built) and writes what it found.
    /// </summary>
    public void WriteConvolutionCheck(TorchSharp.torch.nn.Module network, TorchSharp.torch.Device device)
    {
        // Only networks with convolutions have anything to check (the decoder has none).
        if (device.type == TorchSharp.DeviceType.CPU && network.modules().OfType<TorchSharp.Modules.Convolution>().Any())
            Write(ConvolutionBackendCheck.EnsureCorrectGradients(network));
    }

    /// <summary>Closes the channel.</summary>
    public void Dispose() => channel.Dispose();
}
