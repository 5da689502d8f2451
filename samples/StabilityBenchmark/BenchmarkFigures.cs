using Mhc.Models.Layers;
using Mhc.Samples.Networks;

namespace StabilityBenchmark;

/// <summary>What was measured for one connection kind.</summary>
/// <param name="Kind">Connection kind.</param>
/// <param name="AtInit">Gains at the library's default init (HC: its own identity init; mHC: identity-like).</param>
/// <param name="RandomInit">Gains of the random-mixing probe (HC and mHC only).</param>
/// <param name="Trained">Gains after the training run.</param>
/// <param name="Loss">Training loss per step.</param>
/// <param name="GradientNorm">Global gradient norm per step.</param>
/// <param name="StepMilliseconds">Median step time after warm-up.</param>
/// <param name="TestLoss">Held-out loss after training.</param>
/// <param name="TestAccuracy">Held-out accuracy after training.</param>
/// <param name="Diverged">Whether the loss became non-finite.</param>
public sealed record KindResult(ConnectionKind Kind, GainFigures AtInit, GainFigures? RandomInit, GainFigures Trained,
    double[] Loss, double[] GradientNorm, double StepMilliseconds, double TestLoss, double TestAccuracy, bool Diverged)
{
    /// <summary>Lower-case key prefix: residual, hc, mhc.</summary>
    public string Key => Kind.ToString().ToLowerInvariant();

    /// <summary>Mean training loss over the last tenth of the steps (at least one step).</summary>
    public double FinalLoss => Loss.Skip(Loss.Length - FinalWindow(Loss.Length)).Average();

    /// <summary>Steps averaged into <see cref="FinalLoss"/>.</summary>
    public static int FinalWindow(int steps) => Math.Max(1, steps / 10);
}

/// <summary>All figures of one run.</summary>
/// <param name="Results">Residual, HC, mHC in that order.</param>
/// <param name="TrainExamples">Training digits.</param>
/// <param name="TestExamples">Held-out digits evaluated.</param>
/// <param name="Seconds">Wall time of the whole run.</param>
public sealed record BenchmarkFigures(IReadOnlyList<KindResult> Results, int TrainExamples, int TestExamples, double Seconds)
{
    /// <summary>The result of one kind.</summary>
    public KindResult this[ConnectionKind kind] => Results.Single(r => r.Kind == kind);

    /// <summary>Step time of <paramref name="kind"/> over residual, minus 1.</summary>
    public double Overhead(ConnectionKind kind) => this[kind].StepMilliseconds / this[ConnectionKind.Residual].StepMilliseconds - 1;

    /// <summary>The flat figures object of the contract, plus extras.</summary>
    public IEnumerable<KeyValuePair<string, object?>> ToJson(BenchmarkSettings s, string chartPath)
    {
        var f = new List<KeyValuePair<string, object?>>();
        void Add(string k, object? v) => f.Add(new(k, v));
        Add("depth", s.Depth);
        Add("width", s.Width);
        Add("streams", s.Streams);
        Add("steps", s.Steps);
        Add("batch_size", s.BatchSize);
        Add("learning_rate", s.LearningRate);
        Add("seed", s.Seed);
        Add("quick", s.Quick);
        Add("dataset", "mnist-digits");
        Add("train_examples", TrainExamples);
        Add("test_examples", TestExamples);
        Add("torch_threads", s.Threads);
        foreach (var r in Results) Add($"{r.Key}_gain", r.AtInit.Forward);
        foreach (var r in Results) Add($"{r.Key}_backward_gain", r.AtInit.Backward);
        foreach (var r in Results) Add($"{r.Key}_signal_gain", r.AtInit.SignalGain);
        Add("mixing_noise", s.MixingNoise);
        foreach (var r in Results.Where(r => r.RandomInit is not null))
        {
            Add($"{r.Key}_gain_random_init", r.RandomInit!.Forward);
            Add($"{r.Key}_backward_gain_random_init", r.RandomInit.Backward);
            Add($"{r.Key}_max_layer_gain_random_init", r.RandomInit.MaxLayerForward);
            Add($"{r.Key}_peak_gain_random_init", r.RandomInit.PeakCompositeForward);
            Add($"{r.Key}_signal_gain_random_init", r.RandomInit.SignalGain);
        }
        foreach (var r in Results)
        {
            Add($"{r.Key}_gain_trained", r.Trained.Forward);
            Add($"{r.Key}_backward_gain_trained", r.Trained.Backward);
            Add($"{r.Key}_max_layer_gain_trained", r.Trained.MaxLayerForward);
            Add($"{r.Key}_peak_gain_trained", r.Trained.PeakCompositeForward);
            Add($"{r.Key}_signal_gain_trained", r.Trained.SignalGain);
        }
        foreach (var r in Results) Add($"{r.Key}_step_ms", r.StepMilliseconds);
        Add("hc_overhead", Overhead(ConnectionKind.Hc));
        Add("mhc_overhead", Overhead(ConnectionKind.Mhc));
        Add("final_loss_window", KindResult.FinalWindow(s.Steps));
        foreach (var r in Results)
        {
            Add($"{r.Key}_final_loss", r.FinalLoss);
            Add($"{r.Key}_first_loss", r.Loss[0]);
            Add($"{r.Key}_test_loss", r.TestLoss);
            Add($"{r.Key}_test_accuracy", r.TestAccuracy);
            Add($"{r.Key}_max_grad_norm", r.GradientNorm.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max());
            Add($"{r.Key}_final_grad_norm", r.GradientNorm[^1]);
            Add($"{r.Key}_diverged", r.Diverged);
        }
        Add("seconds", Seconds);
        Add("chart", chartPath);
        return f;
    }
}
