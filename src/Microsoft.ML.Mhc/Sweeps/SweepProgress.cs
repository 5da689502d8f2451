namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>What a <see cref="SweepProgress"/> report announces.</summary>
public enum SweepProgressKind
{
    /// <summary>Data split, search space read; no trial has run yet.</summary>
    Started,

    /// <summary>A trial is about to fit.</summary>
    TrialStarted,

    /// <summary>A trial finished (completed or failed).</summary>
    TrialFinished,

    /// <summary>The sweep stopped (budget, search space exhausted, or cancellation) and the result is ready.</summary>
    Finished,
}

/// <summary>A progress report from a running sweep.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="TrialsFinished">Trials finished so far.</param>
/// <param name="PlannedTrials">Trial budget (the smaller of MaxTrials and the grid size), or null when only time bounds the sweep.</param>
/// <param name="Elapsed">Wall time since the sweep started.</param>
/// <param name="TimeBudget">Wall-time budget, or null.</param>
/// <param name="Trial">The trial started or finished, if any.</param>
/// <param name="Best">Best trial so far, if any.</param>
/// <param name="Message">One line a log can print.</param>
public sealed record SweepProgress(
    SweepProgressKind Kind,
    int TrialsFinished,
    int? PlannedTrials,
    TimeSpan Elapsed,
    TimeSpan? TimeBudget,
    SweepTrial? Trial,
    SweepTrial? Best,
    string Message)
{
    /// <summary>
    /// Fraction of the budget used, in [0, 1]: the larger of trials/planned trials and elapsed/time budget
    /// (null when neither is bounded).
    /// </summary>
    public double? Fraction
    {
        get
        {
            if (Kind == SweepProgressKind.Finished) return 1;
            double? byTrials = PlannedTrials is > 0 ? (double)TrialsFinished / PlannedTrials.Value : null;
            double? byTime = TimeBudget is { } b && b > TimeSpan.Zero ? Elapsed / b : null;
            if (byTrials is null && byTime is null) return null;
            return Math.Clamp(Math.Max(byTrials ?? 0, byTime ?? 0), 0, 1);
        }
    }
}
