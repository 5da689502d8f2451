namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// Learning rate per step: linear warmup from 0 to the peak, then a half cosine down to
/// <c>peak * finalFraction</c> (Loshchilov and Hutter, SGDR, without restarts).
/// </summary>
public sealed class WarmupCosineSchedule
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

    /// <summary>The learning rate for 0-based <paramref name="step"/>.</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        long decay = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decay, 0, 1);
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return Peak * (FinalFraction + (1 - FinalFraction) * cosine);
    }
}
