namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>Outcome of one sweep trial.</summary>
public enum SweepTrialStatus
{
    /// <summary>The model was fitted and scored.</summary>
    Completed,

    /// <summary>Fitting or scoring threw; see <see cref="SweepTrial.Error"/>.</summary>
    Failed,
}

/// <summary>One fit-and-score of one configuration (averaged over folds under k-fold validation).</summary>
/// <param name="Id">Trial number, from 0 in the order trials ran.</param>
/// <param name="Parameters">The swept members and the values this trial used.</param>
/// <param name="Epochs">Epoch budget set by successive halving, or null without it.</param>
/// <param name="Bracket">Successive-halving bracket, or null.</param>
/// <param name="Rung">Successive-halving rung (0 = fewest epochs), or null.</param>
/// <param name="Metric">Metric value (mean over folds); NaN when the trial failed.</param>
/// <param name="FoldMetrics">Per-fold values under k-fold validation, otherwise a single value (empty when failed).</param>
/// <param name="Duration">Wall time of fitting and scoring.</param>
/// <param name="Status">Completed or failed.</param>
/// <param name="Error">Exception type and message of a failed trial.</param>
/// <param name="IsBaseline">True for the trial that ran the base options unchanged.</param>
public sealed record SweepTrial(
    int Id,
    IReadOnlyDictionary<string, object> Parameters,
    int? Epochs,
    int? Bracket,
    int? Rung,
    double Metric,
    IReadOnlyList<double> FoldMetrics,
    TimeSpan Duration,
    SweepTrialStatus Status,
    string? Error,
    bool IsBaseline)
{
    /// <summary>"Name=value, ..." for logs and leaderboards.</summary>
    public string DescribeParameters() => string.Join(", ", Parameters.Select(kv => $"{kv.Key}={SweepJson.FormatValue(kv.Value)}"));
}
