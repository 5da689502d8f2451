namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>Budget, validation scheme and proposal strategy of a <see cref="Sweeper{TOptions}"/>.</summary>
/// <typeparam name="TOptions">The trainer options type.</typeparam>
public sealed class SweepSettings<TOptions> where TOptions : class, new()
{
    /// <summary>Random (default) or grid proposals.</summary>
    public SweepStrategy Strategy { get; set; } = SweepStrategy.Random;

    /// <summary>
    /// Most trials (fits) to run, default 20; null for no trial limit (then <see cref="TimeBudget"/> or the grid
    /// bounds the sweep). Under successive halving every rung of every configuration counts as a trial.
    /// </summary>
    public int? MaxTrials { get; set; } = 20;

    /// <summary>
    /// Wall-time budget, default none. Checked between trials: a running fit is not interrupted. With
    /// <see cref="AvoidOverrun"/> a trial is not started when trials of the same epoch budget took longer than the
    /// time left. The first trial always runs.
    /// </summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>
    /// Skip a trial whose expected duration (mean of earlier trials with the same epochs, or the per-epoch rate
    /// times its epochs) exceeds the time left; default true.
    /// </summary>
    public bool AvoidOverrun { get; set; } = true;

    /// <summary>Seed of the proposals and of the data split; default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Fraction of the data held out for scoring when neither k-fold nor a validation set is used; default 0.2.</summary>
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>Folds of k-fold cross-validation; 0 or 1 (default) means a single holdout split.</summary>
    public int NumberOfFolds { get; set; }

    /// <summary>Column whose equal values stay on one side of a split (ML.NET's samplingKeyColumnName), or null.</summary>
    public string? SamplingKeyColumnName { get; set; }

    /// <summary>Grid points per numeric range under <see cref="SweepStrategy.Grid"/>; default 3 (both ends and the middle).</summary>
    public int GridPointsPerRange { get; set; } = 3;

    /// <summary>Successive halving on epochs, or null (default) to train every trial with the base options' epochs.</summary>
    public SuccessiveHalving<TOptions>? SuccessiveHalving { get; set; }

    /// <summary>Options every trial starts from before the swept members are written; default <c>new TOptions()</c>. Not modified.</summary>
    public TOptions? BaseOptions { get; set; }

    /// <summary>Sweep only these members (null: every annotated member).</summary>
    public IReadOnlyCollection<string>? Include { get; set; }

    /// <summary>Do not sweep these members (they keep the base value).</summary>
    public IReadOnlyCollection<string>? Exclude { get; set; }

    /// <summary>Under <see cref="SweepStrategy.Random"/>, run the base options unchanged as the first trial; default true.</summary>
    public bool StartWithBaseline { get; set; } = true;

    /// <summary>
    /// After a holdout sweep, refit the best options on the whole dataset (default false: return the model fitted
    /// on the training split). Under k-fold validation the best options are always refitted on the whole dataset.
    /// Not applied when a separate validation set is passed or the sweep was cancelled.
    /// </summary>
    public bool RefitOnAllData { get; set; }

    /// <summary>Stop with an error when this many trials in a row fail before any succeeds; default 3.</summary>
    public int MaxFailuresBeforeFirstSuccess { get; set; } = 3;

    /// <summary>Trainer name in the run history; default the options' declaring type (e.g. the trainer class).</summary>
    public string? TrainerName { get; set; }

    /// <summary>
    /// Path of the run history (JSON shaped like a Model Builder <c>.mbconfig</c>), rewritten after every trial so an
    /// interrupted sweep keeps its history; null (default) to write nothing.
    /// </summary>
    public string? HistoryPath { get; set; }

    /// <summary>Receives a report when the sweep starts, before and after each trial, and when it ends.</summary>
    public IProgress<SweepProgress>? Progress { get; set; }

    internal void Validate()
    {
        if (MaxTrials is < 1) throw new ArgumentOutOfRangeException(nameof(MaxTrials), MaxTrials, "MaxTrials must be at least 1 (or null for no limit).");
        if (TimeBudget is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeBudget), t, "TimeBudget must be positive (or null).");
        if (MaxTrials is null && TimeBudget is null && Strategy == SweepStrategy.Random)
            throw new ArgumentException("A random sweep needs MaxTrials or TimeBudget.");
        if (NumberOfFolds < 0 || NumberOfFolds > 100) throw new ArgumentOutOfRangeException(nameof(NumberOfFolds), NumberOfFolds, "Use 0/1 for holdout or 2..100 folds.");
        if (!(ValidationFraction > 0 && ValidationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in (0, 1).");
        if (GridPointsPerRange < 1) throw new ArgumentOutOfRangeException(nameof(GridPointsPerRange), GridPointsPerRange, "GridPointsPerRange must be at least 1.");
        if (MaxFailuresBeforeFirstSuccess < 1) throw new ArgumentOutOfRangeException(nameof(MaxFailuresBeforeFirstSuccess), MaxFailuresBeforeFirstSuccess, "Must be at least 1.");
    }
}
