using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>The outcome of a sweep: the best fitted model, its options, and every trial.</summary>
/// <typeparam name="TOptions">The trainer options type.</typeparam>
public sealed class SweepResult<TOptions> where TOptions : class
{
    internal SweepResult(ITransformer model, TOptions options, SweepTrial best, IReadOnlyList<SweepTrial> trials, TimeSpan elapsed,
        SweepMetric metric, string stopReason, bool cancelled, string modelFittedOn, JsonObject history)
    {
        Model = model;
        Options = options;
        BestTrial = best;
        Trials = trials;
        Elapsed = elapsed;
        Metric = metric;
        StopReason = stopReason;
        Cancelled = cancelled;
        ModelFittedOn = modelFittedOn;
        History = history;
    }

    /// <summary>The best model, fitted (see <see cref="ModelFittedOn"/>). The caller owns it (dispose it if it is <see cref="IDisposable"/>).</summary>
    public ITransformer Model { get; }

    /// <summary>The options of the best trial (a copy of the base options with the swept values and epochs written in).</summary>
    public TOptions Options { get; }

    /// <summary>The best trial: highest epoch budget reached first, then best metric.</summary>
    public SweepTrial BestTrial { get; }

    /// <summary>The best metric value.</summary>
    public double BestMetric => BestTrial.Metric;

    /// <summary>Every trial in the order it ran.</summary>
    public IReadOnlyList<SweepTrial> Trials { get; }

    /// <summary>Wall time of the whole sweep, refit included.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The metric optimised.</summary>
    public SweepMetric Metric { get; }

    /// <summary>Why the sweep stopped: "trial budget", "time budget", "search space exhausted" or "cancelled".</summary>
    public string StopReason { get; }

    /// <summary>True when the sweep stopped on its cancellation token.</summary>
    public bool Cancelled { get; }

    /// <summary>Which data <see cref="Model"/> was fitted on: "training split", "fold k of n" or "all data".</summary>
    public string ModelFittedOn { get; }

    /// <summary>The run history, shaped like a Model Builder <c>.mbconfig</c> (see <see cref="SweepJson"/>).</summary>
    public JsonObject History { get; }

    /// <summary>Completed trials, best first (trials with more epochs rank above trials with fewer).</summary>
    public IReadOnlyList<SweepTrial> Leaderboard(int top = 10) =>
        SweepRanking.Order(Trials, Metric).Take(top).ToList();

    /// <summary>Writes <see cref="History"/> to <paramref name="path"/> (indented JSON).</summary>
    public void SaveHistory(string path) => SweepJson.Write(History, path);
}
