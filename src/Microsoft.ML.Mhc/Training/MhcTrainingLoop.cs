using Mhc.Models;
using Mhc.Models.Native;
using Mhc.Models.Layers;
using System.Diagnostics;
using Mhc.Models.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// The training loop every mHC trainer runs: AdamW with warmup + cosine learning rate, gradient
/// clipping, a validation pass and mHC diagnostics per epoch, early stopping with best-weight restore,
/// cancellation, and one report per epoch to the log and the callback.
/// </summary>
public sealed class MhcTrainingLoop
{
    private readonly MhcTrainerOptions options;

    /// <summary>Creates a loop driven by <paramref name="options"/> (validated).</summary>
    public MhcTrainingLoop(MhcTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
    }

    /// <summary>Trains <paramref name="task"/>'s network on <paramref name="device"/>; on return the network is in eval mode.</summary>
    /// <exception cref="OperationCanceledException">The options' cancellation token fired.</exception>
    public MhcTrainingHistory Run(MhcTrainingTask task, Device device)
    {
        ArgumentNullException.ThrowIfNull(task);
        var token = options.CancellationToken;
        var network = task.Network;
        network.to(device);
        var random = new Random(options.Seed ?? 1);
        int batchSize = Math.Min(options.BatchSize, Math.Max(1, task.TrainingCount));
        long stepsPerEpoch = (task.TrainingCount + batchSize - 1) / batchSize;
        int plannedEpochs = options.MaxEpochs;
        var schedule = new WarmupCosineSchedule(options.LearningRate, stepsPerEpoch * options.MaxEpochs,
            options.WarmupFraction, options.FinalLearningRateFraction);
        using var optimizer = OptimizerFactory.AdamW(network, options.LearningRate, options.WeightDecay);
        var parameters = network.parameters().Where(p => p.requires_grad).ToList();
        var hyperConnections = task.HyperConnections.ToList();
        bool validate = task.ValidationCount > 0;
        bool earlyStopping = options.EarlyStoppingPatience > 0 && validate;

        var reports = new List<MhcEpochReport>();
        double best = task.HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
        int? bestEpoch = null;
        Dictionary<string, Tensor>? bestState = null;
        bool stoppedEarly = false;
        long step = 0;
        var total = Stopwatch.StartNew();
        // A fixed NumberOfThreads is the user's choice (and keeps a seeded run bitwise reproducible under load).
        using var threads = LoadAdaptiveThreads.Enter(options.NumberOfThreads == 0 && device.type == DeviceType.CPU && MhcEnvironment.RuntimeOptions.AdaptThreadsToLoad);
        options.Log?.Invoke($"training on {device.type.ToString().ToLowerInvariant()}: {task.TrainingCount} examples" +
            (validate ? $", {task.ValidationCount} for validation" : "") +
            $", {options.MaxEpochs} epochs of {stepsPerEpoch} steps (batch {batchSize}), {parameters.Sum(p => p.numel())} parameters, {torch.get_num_threads()} threads" +
            (threads.Active ? " (fewer while other processes keep CPUs busy)" : ""));
        try
        {
            for (int epoch = 1; epoch <= plannedEpochs; epoch++)
            {
                token.ThrowIfCancellationRequested();
                network.train();
                var train = new MetricAccumulator();
                double lr = options.LearningRate;
                var watch = Stopwatch.StartNew();
                long stepInEpoch = 0;
                using (var batches = task.TrainingBatches(random, batchSize, device).GetEnumerator())
                {
                    while (true)
                    {
                        token.ThrowIfCancellationRequested();
                        float lossValue;
                        using (var scope = NewDisposeScope())
                        {
                            if (!batches.MoveNext()) break;
                            using var quiet = GcQuietRegion.Enter();
                            var batch = batches.Current;
                            threads.Tick();
                            lr = schedule.At(step++);
                            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                            optimizer.zero_grad();
                            var output = network.forward(batch.Input);
                            var loss = task.Loss(output, batch);
                            lossValue = loss.detach().cpu().item<float>();
                            if (!float.IsFinite(lossValue))
                                throw new InvalidOperationException(
                                    $"Training diverged at epoch {epoch}, step {step}: the loss is {lossValue}. Lower LearningRate (now {options.LearningRate}) or check the inputs.");
                            loss.backward();
                            if (options.GradientClipNorm > 0) nn.utils.clip_grad_norm_(parameters, options.GradientClipNorm);
                            optimizer.step();
                            train.Add(MhcTrainingTask.LossMetric, lossValue * (double)batch.Count, batch.Count);
                            using (no_grad()) task.Accumulate(output.detach(), batch, train);
                        }
                        // User code runs outside the finalizer gate (it may block, or even exit the process).
                        options.ProgressCallback?.Invoke(new MhcTrainingProgress(epoch, plannedEpochs, ++stepInEpoch, stepsPerEpoch, lossValue));
                    }
                }
                double trainSeconds = watch.Elapsed.TotalSeconds;

                watch.Restart();
                MetricAccumulator? validation = validate ? Evaluate(task, device, batchSize) : null;
                double validationSeconds = validate ? watch.Elapsed.TotalSeconds : 0;
                var diagnostics = options.CollectDiagnostics && hyperConnections.Count > 0 ? CollectDiagnostics(task, device, hyperConnections) : null;

                bool isBest = false;
                if (validation is not null)
                {
                    double score = validation.Mean(task.SelectionMetric);
                    if (task.HigherIsBetter ? score > best : score < best)
                    {
                        best = score;
                        bestEpoch = epoch;
                        isBest = true;
                        if (earlyStopping)
                        {
                            DisposeState(bestState);
                            bestState = Snapshot(network);
                        }
                    }
                }

                var report = new MhcEpochReport
                {
                    Epoch = epoch,
                    MaxEpochs = plannedEpochs,
                    TrainLoss = train.Mean(MhcTrainingTask.LossMetric),
                    TrainMetrics = train.Means(except: MhcTrainingTask.LossMetric),
                    ValidationLoss = validation?.Mean(MhcTrainingTask.LossMetric),
                    ValidationMetrics = validation?.Means(except: MhcTrainingTask.LossMetric) ?? new Dictionary<string, double>(),
                    LearningRate = lr,
                    TrainSeconds = trainSeconds,
                    SamplesPerSecond = task.TrainingCount / Math.Max(trainSeconds, 1e-9),
                    ValidationSeconds = validationSeconds,
                    Diagnostics = diagnostics,
                    IsBest = isBest,
                };
                reports.Add(report);
                options.Log?.Invoke(report.ToString());
                options.EpochCallback?.Invoke(report);

                if (options.TrainingTimeBudget is { } budget && epoch < plannedEpochs)
                {
                    if (total.Elapsed >= budget)
                    {
                        stoppedEarly = true;
                        options.Log?.Invoke($"time budget of {budget.TotalMinutes:F1} min reached after epoch {epoch}");
                        break;
                    }
                    // Plan only the epochs that fit, so the learning rate still decays to its final value in time.
                    double perEpoch = total.Elapsed.TotalSeconds / epoch;
                    int fit = epoch + (int)Math.Floor((budget.TotalSeconds - total.Elapsed.TotalSeconds) / perEpoch);
                    if (fit < plannedEpochs)
                    {
                        plannedEpochs = Math.Max(epoch, fit);
                        schedule = schedule.Retarget(step, plannedEpochs * stepsPerEpoch);
                        stoppedEarly = plannedEpochs < options.MaxEpochs;
                        options.Log?.Invoke($"time budget of {budget.TotalMinutes:F1} min: {plannedEpochs} of {options.MaxEpochs} epochs fit ({perEpoch:F0} s each); the learning rate now decays over them");
                        if (epoch >= plannedEpochs) break;
                    }
                }
                if (earlyStopping && bestEpoch is { } b && epoch - b >= options.EarlyStoppingPatience && epoch < plannedEpochs)
                {
                    stoppedEarly = true;
                    options.Log?.Invoke($"early stopping after epoch {epoch}: no better validation {task.SelectionMetric} since epoch {b}");
                    break;
                }
            }

            if (earlyStopping && bestState is not null)
            {
                Restore(network, bestState);
                options.Log?.Invoke($"restored the weights of epoch {bestEpoch} (best validation {task.SelectionMetric} {best:F4})");
            }
        }
        finally
        {
            DisposeState(bestState);
            network.eval();
        }
        if (threads.Changes > 0) options.Log?.Invoke($"the intra-op team followed the load of other processes: {threads.Changes} change(s), {threads.Threads} thread(s) at the end");
        return new MhcTrainingHistory(reports, earlyStopping ? bestEpoch : null, stoppedEarly, total.Elapsed.TotalSeconds,
            device.ToString());
    }

    private static MetricAccumulator Evaluate(MhcTrainingTask task, Device device, int batchSize)
    {
        var network = task.Network;
        network.eval();
        var metrics = new MetricAccumulator();
        using var noGrad = no_grad();
        using var batches = task.ValidationBatches(batchSize, device).GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext()) break;
            using var quiet = GcQuietRegion.Enter();
            var batch = batches.Current;
            var output = network.forward(batch.Input);
            metrics.Add(MhcTrainingTask.LossMetric, task.Loss(output, batch).cpu().item<float>() * (double)batch.Count, batch.Count);
            task.Accumulate(output, batch, metrics);
        }
        network.train();
        return metrics;
    }

    // Records the mixing matrices on one batch in eval mode; gradient norms come from the last step.
    private static MixingDiagnostics CollectDiagnostics(MhcTrainingTask task, Device device, IReadOnlyList<HyperConnection> layers)
    {
        var network = task.Network;
        network.eval();
        try
        {
            MixingDiagnostics.SetRecording(layers, true);
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            using var quiet = GcQuietRegion.Enter();
            var source = task.ValidationCount > 0 ? task.ValidationBatches(64, device) : task.TrainingBatches(new Random(0), 64, device);
            using var batches = source.GetEnumerator();
            if (batches.MoveNext()) network.forward(batches.Current.Input);
            return MixingDiagnostics.Collect(layers);
        }
        finally
        {
            MixingDiagnostics.SetRecording(layers, false);
            network.train();
        }
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module network)
    {
        using var noGrad = no_grad();
        return network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    private static void Restore(nn.Module network, Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        var current = network.state_dict();
        foreach (var (name, saved) in state) current[name].copy_(saved);
    }

    private static void DisposeState(Dictionary<string, Tensor>? state)
    {
        if (state is null) return;
        foreach (var t in state.Values) t.Dispose();
        state.Clear();
    }
}
