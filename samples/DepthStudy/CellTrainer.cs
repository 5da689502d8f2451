using System.Diagnostics;
using Mhc.Models.Diagnostics;
using Mhc.Models.Native;
using Mhc.Samples.Data;
using Mhc.Samples.Networks;
using Microsoft.ML.Mhc.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthStudy;

/// <summary>
/// Trains one cell: a <see cref="DeepStack"/> of the cell's connection and depth, Adam at the cell's peak learning
/// rate with a 5 % linear warmup and a cosine decay to a tenth, on the same batches in the same order for every cell.
/// No gradient clipping: instability is what the study looks for.
/// </summary>
public static class CellTrainer
{
    /// <summary>Runs <paramref name="key"/> and returns what was measured.</summary>
    public static CellResult Train(CellKey key, StudySettings s, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        using var cellScope = NewDisposeScope();
        using var model = new DeepStack(StudyConnections.Create(key.Connection, s.Streams), key.Depth, s.Width, s.Seed,
            MnistDigits.PixelCount, MnistDigits.ClassCount);
        using var adam = optim.Adam(model.parameters(), key.LearningRate);
        var schedule = new WarmupCosineSchedule(key.LearningRate, s.Steps, 0.05, 0.1);
        var blocks = model.BlockParameters();
        var mixingLog = model.History is { } h ? new HistoryMixingLog(h.Skips) : null;

        var loss = new List<double>(s.Steps);
        var recordSteps = new List<int>();
        var forwardGain = new List<double>();
        var backwardGain = new List<double>();
        var gradientSums = new double[key.Depth];
        var mixing = new List<HistoryMixingSnapshot>();
        var epochs = new List<HistoryMixingSnapshot>();
        var epochLog = new List<string>();
        var stepTimes = new List<double>();
        GainProfile? peakProfile = null;
        int peakStep = 0;
        double peakGain = double.NegativeInfinity;

        var random = new Random(s.Seed);
        long n = trainX.shape[0];
        int stepsPerEpoch = (int)Math.Max(1, n / s.BatchSize);
        var order = Enumerable.Range(0, (int)n).ToArray();
        int cursor = order.Length;
        model.train();
        for (int step = 0; step < s.Steps; step++)
        {
            using var scope = NewDisposeScope();
            if (cursor + s.BatchSize > order.Length)
            {
                random.Shuffle(order);
                cursor = 0;
            }
            var index = tensor(order.AsSpan(cursor, s.BatchSize).ToArray().Select(i => (long)i).ToArray());
            cursor += s.BatchSize;
            var x = trainX.index_select(0, index);
            var y = trainY.index_select(0, index);
            foreach (var group in adam.ParamGroups) group.LearningRate = schedule.At(step);
            bool record = (step + 1) % s.GainEvery == 0 || step == 0 || step == s.Steps - 1;

            long started = Stopwatch.GetTimestamp();
            Tensor value;
            GainProfile? profile = null;
            using (var recording = MixingRecording.Start(record ? model.HyperConnections : Array.Empty<Mhc.Models.Layers.HyperConnection>()))
            using (NativeStep.Training())
            {
                adam.zero_grad();
                value = functional.cross_entropy(model.forward(x), y);
                value.backward();
                if (record)
                {
                    profile = model.History is { } history ? HistoryWindowGain.Profile(history)
                        : model.HyperConnections.Count > 0 && model.HyperConnections[0].Options.Streams > 1 ? GainProfile.From(recording.Collect())
                        : null;
                    for (int l = 0; l < blocks.Count; l++) gradientSums[l] += GradientNorms.Total(blocks[l]) ?? 0;
                }
                adam.step();
            }
            double lossValue = value.ToDouble();
            if (!record) stepTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            loss.Add(lossValue);

            if (record)
            {
                recordSteps.Add(step + 1);
                double fwd = profile is null ? 1 : PeakOf(profile.CompositeForward);
                double bwd = profile is null ? 1 : PeakOf(profile.CompositeBackward);
                forwardGain.Add(fwd);
                backwardGain.Add(bwd);
                if (profile is not null && (fwd > peakGain || (double.IsNaN(fwd) && peakProfile is null)))
                {
                    peakGain = fwd;
                    peakProfile = profile;
                    peakStep = step + 1;
                }
                if (mixingLog is not null) mixing.Add(mixingLog.Record(step + 1));
            }
            if (mixingLog is not null && ((step + 1) % stepsPerEpoch == 0 || step == s.Steps - 1))
            {
                var snapshot = mixingLog.Record(step + 1);
                epochs.Add(snapshot);
                epochLog.Add(HistoryMixingLog.Format(snapshot with { Step = epochs.Count }) + $" (step {step + 1})");
            }
            if (!double.IsFinite(lossValue))
            {
                log($"  {key.Connection} depth {key.Depth} lr {key.LearningRate}: loss {lossValue} at step {step + 1}; stopping this cell");
                break;
            }
        }

        var (testLoss, testAccuracy) = DigitsEvaluation.Evaluate(model, testX, testY);
        return new CellResult(key.Connection, key.Depth, key.LearningRate, s.Steps, loss.ToArray(),
            recordSteps.ToArray(), forwardGain.ToArray(), backwardGain.ToArray(), peakStep,
            peakProfile?.LayerForward.ToArray() ?? [], peakProfile?.CompositeForward.ToArray() ?? [],
            gradientSums.Select(g => g / Math.Max(1, recordSteps.Count)).ToArray(), mixing.ToArray(), epochs.ToArray(), epochLog.ToArray(),
            stepTimes.Count == 0 ? double.NaN : LossMetrics.Median(stepTimes), testLoss, testAccuracy, watch.Elapsed.TotalSeconds);
    }

    private static double PeakOf(IReadOnlyList<double> composite) =>
        composite.Count == 0 ? 1 : composite.Any(v => !double.IsFinite(v)) ? double.PositiveInfinity : composite.Max();
}
