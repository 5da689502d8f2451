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
internal sealed class MhcTrainingLoop
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
        task.Network.to(device);
        using var run = new TrainingRun(options, task, device);
        run.LogStart();
        try
        {
            for (int epoch = 1; epoch <= run.PlannedEpochs; epoch++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                var report = run.Epoch(epoch);
                options.Log?.Invoke(report.ToString());
                options.EpochCallback?.Invoke(report);
                if (run.ShouldStopAfter(epoch)) break;
            }
            run.RestoreBest();
        }
        finally
        {
            task.Network.eval();
        }
        return run.History();
    }

    /// <summary>One training run: what carries from step to step and from epoch to epoch.</summary>
    private sealed class TrainingRun : IDisposable
    {
        private readonly MhcTrainerOptions options;
        private readonly MhcTrainingTask task;
        private readonly Device device;
        private readonly nn.Module<Tensor, Tensor> network;
        private readonly Random random;
        private readonly int batchSize;
        private readonly long stepsPerEpoch;
        private readonly optim.Optimizer optimizer;
        private readonly List<TorchSharp.Modules.Parameter> parameters;
        private readonly List<HyperConnection> hyperConnections;
        private readonly bool validate, earlyStopping;
        private readonly LoadAdaptiveThreads threads;
        private readonly List<MhcEpochReport> reports = [];
        private readonly Stopwatch total = Stopwatch.StartNew();
        private WarmupCosineSchedule schedule;
        private double best;
        private int? bestEpoch;
        private Dictionary<string, Tensor>? bestState;
        private bool stoppedEarly;
        private long step;

        public TrainingRun(MhcTrainerOptions options, MhcTrainingTask task, Device device)
        {
            (this.options, this.task, this.device, network) = (options, task, device, task.Network);
            random = new Random(options.Seed ?? 1);
            batchSize = Math.Min(options.BatchSize, Math.Max(1, task.TrainingCount));
            stepsPerEpoch = (task.TrainingCount + batchSize - 1) / batchSize;
            PlannedEpochs = options.MaxEpochs;
            schedule = new WarmupCosineSchedule(options.LearningRate, stepsPerEpoch * options.MaxEpochs,
                options.WarmupFraction, options.FinalLearningRateFraction);
            optimizer = OptimizerFactory.AdamW(network, options.LearningRate, options.WeightDecay);
            parameters = network.parameters().Where(p => p.requires_grad).ToList();
            hyperConnections = task.HyperConnections.ToList();
            validate = task.ValidationCount > 0;
            earlyStopping = options.EarlyStoppingPatience > 0 && validate;
            best = task.HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;
            // A fixed NumberOfThreads is the user's choice (and keeps a seeded run bitwise reproducible under load).
            threads = LoadAdaptiveThreads.Enter(options.NumberOfThreads == 0 && device.type == DeviceType.CPU && MhcEnvironment.RuntimeOptions.AdaptThreadsToLoad);
        }

        /// <summary>Epochs the run plans now (a time budget can lower it).</summary>
        public int PlannedEpochs { get; private set; }

        public void LogStart() => options.Log?.Invoke($"training on {device.type.ToString().ToLowerInvariant()}: {task.TrainingCount} examples" +
            (validate ? $", {task.ValidationCount} for validation" : "") +
            $", {options.MaxEpochs} epochs of {stepsPerEpoch} steps (batch {batchSize}), {parameters.Sum(p => p.numel())} parameters, {torch.get_num_threads()} threads" +
            (threads.Active ? " (fewer while other processes keep CPUs busy)" : ""));

        /// <summary>Trains one epoch, validates, collects diagnostics and keeps the best weights; returns the epoch's report.</summary>
        public MhcEpochReport Epoch(int epoch)
        {
            var watch = Stopwatch.StartNew();
            var (train, lr) = TrainEpoch(epoch);
            double trainSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            MetricAccumulator? validation = validate ? Evaluate(task, device, batchSize) : null;
            double validationSeconds = validate ? watch.Elapsed.TotalSeconds : 0;
            var diagnostics = options.CollectDiagnostics && hyperConnections.Count > 0 ? CollectDiagnostics(task, device, hyperConnections) : null;
            var report = new MhcEpochReport
            {
                Epoch = epoch,
                MaxEpochs = PlannedEpochs,
                TrainLoss = train.Mean(MhcTrainingTask.LossMetric),
                TrainMetrics = train.Means(except: MhcTrainingTask.LossMetric),
                ValidationLoss = validation?.Mean(MhcTrainingTask.LossMetric),
                ValidationMetrics = validation?.Means(except: MhcTrainingTask.LossMetric) ?? new Dictionary<string, double>(),
                LearningRate = lr,
                TrainSeconds = trainSeconds,
                SamplesPerSecond = task.TrainingCount / Math.Max(trainSeconds, 1e-9),
                ValidationSeconds = validationSeconds,
                Diagnostics = diagnostics,
                IsBest = validation is not null && TrackBest(epoch, validation.Mean(task.SelectionMetric)),
            };
            reports.Add(report);
            return report;
        }

        private (MetricAccumulator Train, double LearningRate) TrainEpoch(int epoch)
        {
            network.train();
            var train = new MetricAccumulator();
            double lr = options.LearningRate;
            long stepInEpoch = 0;
            using var batches = task.TrainingBatches(random, batchSize, device).GetEnumerator();
            while (true)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                float lossValue;
                using (var scope = NewDisposeScope())
                {
                    if (!batches.MoveNext()) break;
                    using var native = NativeStep.Training();
                    var batch = batches.Current;
                    threads.Tick();
                    lr = schedule.At(step++);
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                    lossValue = Step(batch, epoch, train);
                }
                // User code runs outside the finalizer gate (it may block, or even exit the process).
                options.ProgressCallback?.Invoke(new MhcTrainingProgress(epoch, PlannedEpochs, ++stepInEpoch, stepsPerEpoch, lossValue));
            }
            return (train, lr);
        }

        private float Step(TrainingBatch batch, int epoch, MetricAccumulator train)
        {
            optimizer.zero_grad();
            var output = network.forward(batch.Input);
            var loss = task.Loss(output, batch);
            float lossValue = loss.detach().cpu().item<float>();
            if (!float.IsFinite(lossValue))
                throw new InvalidOperationException(
                    $"Training diverged at epoch {epoch}, step {step}: the loss is {lossValue}. Lower LearningRate (now {options.LearningRate}) or check the inputs.");
            loss.backward();
            if (options.GradientClipNorm > 0) nn.utils.clip_grad_norm_(parameters, options.GradientClipNorm);
            optimizer.step();
            train.Add(MhcTrainingTask.LossMetric, lossValue * (double)batch.Count, batch.Count);
            using (no_grad()) task.Accumulate(output.detach(), batch, train);
            return lossValue;
        }

        private bool TrackBest(int epoch, double score)
        {
            if (!(task.HigherIsBetter ? score > best : score < best)) return false;
            best = score;
            bestEpoch = epoch;
            if (earlyStopping)
            {
                DisposeState(bestState);
                bestState = Snapshot(network);
            }
            return true;
        }

        /// <summary>Applies the time budget (replanning the epochs that fit) and early stopping after <paramref name="epoch"/>.</summary>
        public bool ShouldStopAfter(int epoch)
        {
            if (options.TrainingTimeBudget is { } budget && epoch < PlannedEpochs)
            {
                if (total.Elapsed >= budget)
                {
                    stoppedEarly = true;
                    options.Log?.Invoke($"time budget of {budget.TotalMinutes:F1} min reached after epoch {epoch}");
                    return true;
                }
                // Plan only the epochs that fit, so the learning rate still decays to its final value in time.
                double perEpoch = total.Elapsed.TotalSeconds / epoch;
                int fit = epoch + (int)Math.Floor((budget.TotalSeconds - total.Elapsed.TotalSeconds) / perEpoch);
                if (fit < PlannedEpochs)
                {
                    PlannedEpochs = Math.Max(epoch, fit);
                    schedule = schedule.Retarget(step, PlannedEpochs * stepsPerEpoch);
                    stoppedEarly = PlannedEpochs < options.MaxEpochs;
                    options.Log?.Invoke($"time budget of {budget.TotalMinutes:F1} min: {PlannedEpochs} of {options.MaxEpochs} epochs fit ({perEpoch:F0} s each); the learning rate now decays over them");
                    if (epoch >= PlannedEpochs) return true;
                }
            }
            if (earlyStopping && bestEpoch is { } b && epoch - b >= options.EarlyStoppingPatience && epoch < PlannedEpochs)
            {
                stoppedEarly = true;
                options.Log?.Invoke($"early stopping after epoch {epoch}: no better validation {task.SelectionMetric} since epoch {b}");
                return true;
            }
            return false;
        }

        public void RestoreBest()
        {
            if (!earlyStopping || bestState is null) return;
            Restore(network, bestState);
            options.Log?.Invoke($"restored the weights of epoch {bestEpoch} (best validation {task.SelectionMetric} {best:F4})");
        }

        public MhcTrainingHistory History()
        {
            if (threads.Changes > 0)
                options.Log?.Invoke($"the intra-op team followed the load of other processes: {threads.Changes} change(s), {threads.Threads} thread(s) at the end");
            return new MhcTrainingHistory(reports, earlyStopping ? bestEpoch : null, stoppedEarly, total.Elapsed.TotalSeconds, device.ToString());
        }

        public void Dispose()
        {
            DisposeState(bestState);
            threads.Dispose();
            optimizer.Dispose();
        }
    }

    private static MetricAccumulator Evaluate(MhcTrainingTask task, Device device, int batchSize)
    {
        var network = task.Network;
        network.eval();
        var metrics = new MetricAccumulator();
        using var batches = task.ValidationBatches(batchSize, device).GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext()) break;
            using var step = NativeStep.NoGrad();
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
            using var scope = NewDisposeScope();
            using var step = NativeStep.NoGrad();
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
