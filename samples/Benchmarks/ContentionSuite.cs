using System.Globalization;
using Mhc.Models;
using Mhc.Models.Native;
using TorchSharp;

namespace Benchmarks;

/// <summary>
/// How much a busy neighbour slows training and scoring: training steps of the main job's Hyper-ResNet and of the
/// text decoder, and single-row <c>PredictionEngine</c> calls of an image model, each timed with the CPU free and
/// with one competing busy process per core minus one, for 1 and 2 intra-op threads. A fair share of a busy machine
/// costs at most cores / (cores - competitors) (2x on 2 cores with one competitor); much more means threads wait
/// for a core they do not get.
/// </summary>
public sealed class ContentionSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "contention";

    /// <inheritdoc />
    public string Description => "training and single-row scoring with the CPU free vs with competing busy processes";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var runtime = MhcEnvironment.EnsureTorch();
        var sizes = run.Quick ? ContentionSizes.Quick : ContentionSizes.Full;
        int competitors = ContentionLoad.DefaultProcessCount;
        int[] threadCounts = Environment.ProcessorCount >= 2 ? [1, 2] : [1];
        run.Log($"{runtime}; {competitors} competing process(es) on {Environment.ProcessorCount} CPUs; " +
                $"{sizes.Rounds} rounds{(run.Quick ? " (quick: figures not meaningful)" : "")}");

        run.Add("contention_cpus", Environment.ProcessorCount);
        run.Add("contention_competing_processes", competitors);
        run.Add("contention_threads", string.Join(",", threadCounts));
        run.Add("contention_rounds", sizes.Rounds);
        run.Add("contention_load_average", LoadAverage());
        run.Add("contention_worker_wait", MhcEnvironment.RuntimeOptions.WorkerWait.ToString());
        run.Add("contention_single_row_scoring_threads", MhcEnvironment.RuntimeOptions.SingleRowScoringThreads);
        run.Add("contention_adapt_threads_to_load", MhcEnvironment.RuntimeOptions.AdaptThreadsToLoad);
        run.Add("contention_settle_seconds", sizes.Settle.TotalSeconds);
        run.Add("contention_threading", runtime.Threading);

        double trainWorst = 0, predictWorst = 0;
        int previous = torch.get_num_threads();
        try
        {
            using var resnet = TrainingStepWorkload.HyperResNet(sizes.ImageBatch);
            using var decoder = TrainingStepWorkload.Decoder(sizes.DecoderBatch, sizes.DecoderContext);
            using var scoring = new ImageScoringWorkload(sizes.Predictions);
            ContentionTiming Time(Action unit, int units) =>
                ContentionTimer.Measure(unit, competitors, sizes.Rounds, units, sizes.Settle, sizes.MinimumBlock);
            foreach (int threads in threadCounts)
            {
                torch.set_num_threads(threads);
                // As the training loop runs by default: the team follows the load (inert on one thread).
                trainWorst = Math.Max(trainWorst, Record(run, $"train_resnet_t{threads}", "ms_per_step", TimeTraining(resnet, adapt: true, Time, sizes)));
                trainWorst = Math.Max(trainWorst, Record(run, $"train_decoder_t{threads}", "ms_per_step", TimeTraining(decoder, adapt: true, Time, sizes)));
                if (threads > 1)
                {
                    // The same with the team fixed (AdaptThreadsToLoad = false, or a fixed NumberOfThreads), for comparison.
                    Record(run, $"train_resnet_t{threads}_fixed", "ms_per_step", TimeTraining(resnet, adapt: false, Time, sizes));
                    Record(run, $"train_decoder_t{threads}_fixed", "ms_per_step", TimeTraining(decoder, adapt: false, Time, sizes));
                }
                predictWorst = Math.Max(predictWorst, Record(run, $"predict_t{threads}", "ms_per_row", Time(scoring.PredictOne, sizes.Predictions)));
                Record(run, $"transform_t{threads}", "ms_per_batch", Time(scoring.TransformAll, 1));
            }
        }
        finally
        {
            torch.set_num_threads(previous);
        }
        run.Add("contention_predictions_per_block", sizes.Predictions);
        run.Add("train_contended_over_idle", trainWorst);
        run.Add("predict_contended_over_idle", predictWorst);
        run.Log($"worst contended/idle: training {trainWorst:F2}x, single-row scoring {predictWorst:F2}x (target <= 2.5)");
    }

    private static ContentionTiming TimeTraining(TrainingStepWorkload workload, bool adapt, Func<Action, int, ContentionTiming> time, ContentionSizes sizes)
    {
        using var threads = LoadAdaptiveThreads.Enter(adapt && MhcEnvironment.RuntimeOptions.AdaptThreadsToLoad);
        return time(() =>
        {
            threads.Tick();
            workload.Step();
        }, sizes.StepsPerBlock);
    }

    private static double Record(BenchmarkRun run, string name, string unit, ContentionTiming timing)
    {
        run.Add($"contention_{name}_idle_{unit}", timing.IdleMs);
        run.Add($"contention_{name}_contended_{unit}", timing.ContendedMs);
        run.Add($"contention_{name}_ratio", timing.Ratio);
        run.Log(string.Create(CultureInfo.InvariantCulture,
            $"{name,-20} idle {timing.IdleMs,9:F2} {unit}, contended {timing.ContendedMs,9:F2} {unit}: {timing.Ratio,6:F2}x"));
        return timing.Ratio;
    }

    /// <summary>The 1-minute load average when the suite started (how busy the machine was), or -1 where unknown.</summary>
    private static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }
}

/// <summary>Sizes of a contention run.</summary>
/// <param name="ImageBatch">Hyper-ResNet batch (the main job's 64).</param>
/// <param name="DecoderBatch">Decoder batch (the text sample's 32).</param>
/// <param name="DecoderContext">Decoder sequence length (the text sample's 128).</param>
/// <param name="Rounds">Alternating idle/contended rounds.</param>
/// <param name="StepsPerBlock">Timed training steps per block.</param>
/// <param name="Predictions">Single-row predictions per block, and rows per batched Transform.</param>
/// <param name="Settle">Untimed work at the start of each block (see <see cref="ContentionTimer.Measure"/>).</param>
/// <param name="MinimumBlock">The least time a timed block runs.</param>
public sealed record ContentionSizes(int ImageBatch, int DecoderBatch, int DecoderContext, int Rounds, int StepsPerBlock, int Predictions,
    TimeSpan Settle, TimeSpan MinimumBlock)
{
    /// <summary>The measured configuration.</summary>
    public static ContentionSizes Full { get; } = new(64, 32, 128, Rounds: 3, StepsPerBlock: 4, Predictions: 500,
        Settle: TimeSpan.FromSeconds(1.5), MinimumBlock: TimeSpan.FromSeconds(2));

    /// <summary>The test suite's smoke run: same networks, small batches, one short round.</summary>
    public static ContentionSizes Quick { get; } = new(8, 4, 32, Rounds: 1, StepsPerBlock: 1, Predictions: 20, Settle: TimeSpan.Zero, MinimumBlock: TimeSpan.Zero);
}
