using Mhc.Models.Weights;
using Microsoft.ML.Mhc.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// The half of every trainer's Fit that does not depend on the task: the device, thread count and seed; the runtime
/// line in the log; the network, from a weights file when <see cref="MhcTrainerOptions.InitialWeightsPath"/> says so;
/// the convolution gradient check; the training loop; and the fitted transformer. A task supplies only its hooks.
/// The network belongs to the transformer on success and is disposed on any failure before that.
/// </summary>
internal static class TrainingSession
{
    /// <summary>Trains a network and wraps it in the task's transformer.</summary>
    /// <param name="options">The Fit's options (seeded; see <see cref="MhcTrainerOptions.ForFit{TOptions}"/>).</param>
    /// <param name="log">The trainer's log.</param>
    /// <param name="createNetwork">Builds the network (randomly initialised, seeded).</param>
    /// <param name="createTask">The training task on the network and device; a resource it returns is disposed after training.</param>
    /// <param name="createTransformer">The fitted transformer, which takes the network over.</param>
    public static TTransformer Train<TNetwork, TTransformer>(MhcTrainerOptions options, TrainerLog log, Func<TNetwork> createNetwork,
        Func<TNetwork, Device, (MhcTrainingTask Task, IDisposable? Resources)> createTask,
        Func<TNetwork, Device, MhcTrainingHistory, TTransformer> createTransformer)
        where TNetwork : nn.Module
    {
        using var device = new TrainingDevice(options.Device, options.NumberOfThreads, options.Seed!.Value);
        log.WriteRuntime();
        var network = createNetwork();
        try
        {
            if (options.InitialWeightsPath is { } initial)
            {
                ModuleWeights.Load(network, initial);
                log.Write($"starting from the weights in '{initial}'");
            }
            log.WriteConvolutionCheck(network, device.Device);
            var (task, resources) = createTask(network, device.Device);
            MhcTrainingHistory history;
            using (resources) history = new MhcTrainingLoop(options).Run(task, device.Device);
            return createTransformer(network, device.Device, history);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A transformer for scoring from a weights file, without training: the network with the file's weights (checked
    /// tensor by tensor), an empty training history, and the network disposed on any failure.
    /// </summary>
    /// <param name="options">The trainer's options (device and threads).</param>
    /// <param name="seed">The resolved seed.</param>
    /// <param name="createNetwork">Builds the network the weights belong to.</param>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="createTransformer">The transformer, which takes the network over.</param>
    public static TTransformer FromWeights<TNetwork, TTransformer>(MhcTrainerOptions options, int seed, Func<TNetwork> createNetwork,
        string weightsPath, Func<TNetwork, Device, MhcTrainingHistory, TTransformer> createTransformer)
        where TNetwork : nn.Module
    {
        using var device = new TrainingDevice(options.Device, options.NumberOfThreads, seed);
        var network = createNetwork();
        try
        {
            ModuleWeights.Load(network, weightsPath);
            return createTransformer(network, device.Device, new MhcTrainingHistory([], null, false, 0, device.Device.ToString()));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
