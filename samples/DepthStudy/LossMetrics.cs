namespace DepthStudy;

/// <summary>The per-cell figures derived from a training-loss curve (pure functions, so they can be pinned by tests).</summary>
public static class LossMetrics
{
    /// <summary>Steps averaged into the final loss: the last tenth of the run, at least one.</summary>
    public static int FinalWindow(int steps) => Math.Max(1, steps / 10);

    /// <summary>Mean loss over the last <see cref="FinalWindow"/> steps of the planned run; NaN when any of them is not finite
    /// (a diverged run stops early, so its missing steps count as NaN).</summary>
    public static double FinalLoss(IReadOnlyList<double> loss, int plannedSteps)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.Count < plannedSteps) return double.NaN;
        int window = FinalWindow(plannedSteps);
        double sum = 0;
        for (int i = plannedSteps - window; i < plannedSteps; i++)
        {
            if (!double.IsFinite(loss[i])) return double.NaN;
            sum += loss[i];
        }
        return sum / window;
    }

    /// <summary>
    /// The first 1-based step at which the mean of the last <paramref name="smoothing"/> losses (fewer at the start)
    /// is at or below <paramref name="target"/>; null when it never is.
    /// </summary>
    public static int? StepsToTarget(IReadOnlyList<double> loss, double target, int smoothing = 10)
    {
        ArgumentNullException.ThrowIfNull(loss);
        double sum = 0;
        for (int i = 0; i < loss.Count; i++)
        {
            if (!double.IsFinite(loss[i])) return null;
            sum += loss[i];
            if (i >= smoothing) sum -= loss[i - smoothing];
            if (sum / Math.Min(i + 1, smoothing) <= target) return i + 1;
        }
        return null;
    }

    /// <summary>
    /// Loss spikes: steps whose loss is more than <paramref name="factor"/> times the median of the previous
    /// <paramref name="window"/> losses (counted from step <paramref name="minHistory"/> + 1 on, so the median has a
    /// history). A non-finite loss counts as one final spike.
    /// </summary>
    public static int Spikes(IReadOnlyList<double> loss, double factor = 2, int window = 50, int minHistory = 10)
    {
        ArgumentNullException.ThrowIfNull(loss);
        int spikes = 0;
        var recent = new List<double>(window);
        for (int i = 0; i < loss.Count; i++)
        {
            if (!double.IsFinite(loss[i])) return spikes + 1;
            if (recent.Count >= minHistory && loss[i] > factor * Median(recent)) spikes++;
            recent.Add(loss[i]);
            if (recent.Count > window) recent.RemoveAt(0);
        }
        return spikes;
    }

    /// <summary>Diverged: a non-finite loss, or a final loss above the loss of the first step.</summary>
    public static bool Diverged(IReadOnlyList<double> loss, int plannedSteps)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.Count == 0) return true;
        double final = FinalLoss(loss, plannedSteps);
        return !double.IsFinite(final) || final > loss[0];
    }

    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
