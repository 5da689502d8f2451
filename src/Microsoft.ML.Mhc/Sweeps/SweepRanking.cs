namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// Orders trials for "best": a trial trained with more epochs outranks one trained with fewer (under successive
/// halving a low-rung score is not comparable with a full-budget one), then the metric decides, then the earlier trial.
/// </summary>
internal static class SweepRanking
{
    public static IEnumerable<SweepTrial> Order(IEnumerable<SweepTrial> trials, SweepMetric metric) =>
        trials.Where(t => t.Status == SweepTrialStatus.Completed && !double.IsNaN(t.Metric))
              .OrderByDescending(t => t.Epochs ?? 0)
              .ThenBy(t => metric.Maximize ? -t.Metric : t.Metric)
              .ThenBy(t => t.Id);

    public static bool Outranks(SweepTrial candidate, SweepTrial? incumbent, SweepMetric metric)
    {
        if (candidate.Status != SweepTrialStatus.Completed || double.IsNaN(candidate.Metric)) return false;
        if (incumbent is null) return true;
        int ce = candidate.Epochs ?? 0, ie = incumbent.Epochs ?? 0;
        if (ce != ie) return ce > ie;
        return metric.IsBetter(candidate.Metric, incumbent.Metric);
    }
}
