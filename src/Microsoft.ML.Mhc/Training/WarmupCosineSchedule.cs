namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// Learning rate per step: linear warmup from 0 to the peak, then a half cosine down to
/// <c>peak * finalFraction</c> (Loshchilov and Hutter, SGDR, without restarts).
/// </summary>
internal sealed class WarmupCosineSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="peak">The learning rate at the end of the warmup.</param>
    /// <param name="totalSteps">Steps of the whole run.</param>
    /// <param name="warmupFraction">Share of <paramref name="totalSteps"/> used for warmup, in [0, 1).</param>
    /// <param name="finalFraction">Final learning rate as a share of the peak, in [0, 1].</param>
    public WarmupCosineSchedule(double peak, long totalSteps, double warmupFraction, double finalFraction)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "At least one step.");
        Peak = peak;
        TotalSteps = totalSteps;
        WarmupSteps = (long)Math.Round(totalSteps * warmupFraction);
        FinalFraction = finalFraction;
    }

    /// <summary>The peak learning rate.</summary>
    public double Peak { get; }

    /// <summary>Steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>Steps of linear warmup.</summary>
    public long WarmupSteps { get; }

    /// <summary>Final learning rate as a share of the peak.</summary>
    public double FinalFraction { get; }

    // When retargeted, the cosine restarts at this step from this rate (see Retarget).
    private long decayStart = -1;
    private double decayFrom;

    /// <summary>The learning rate for 0-based <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        long start = decayStart >= 0 ? decayStart : WarmupSteps;
        double from = decayStart >= 0 ? decayFrom : Peak;
        double final = Peak * FinalFraction;
        long decay = Math.Max(1, TotalSteps - start);
        double progress = Math.Clamp((double)(step - start) / decay, 0, 1);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return final + (Math.Max(from, final) - final) * cosine;
    }

    /// <summary>
    /// The same schedule ending at <paramref name="newTotalSteps"/> instead: from <paramref name="currentStep"/> on
    /// it decays with a half cosine from the current rate to the final one, without a jump (used when a time
    /// budget shortens a run).
    /// </summary>
    public WarmupCosineSchedule Retarget(long currentStep, long newTotalSteps)
    {
        var shorter = new WarmupCosineSchedule(Peak, Math.Max(newTotalSteps, currentStep + 1), 0, FinalFraction);
        shorter.decayStart = currentStep;
        shorter.decayFrom = At(currentStep);
        return shorter;
    }
}
