namespace Microsoft.ML.Mhc.Training;

/// <summary>Where a training run is, reported after every optimisation step (for progress bars).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="MaxEpochs">Planned epochs.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="Loss">Loss of the step's batch.</param>
public readonly record struct MhcTrainingProgress(int Epoch, int MaxEpochs, long Step, long StepsPerEpoch, double Loss)
{
    /// <summary>Steps done in the whole run.</summary>
    public long CompletedSteps => (Epoch - 1) * StepsPerEpoch + Step;

    /// <summary>Steps of the whole run.</summary>
    public long TotalSteps => MaxEpochs * StepsPerEpoch;

    /// <summary>Share of the run done, in [0, 1].</summary>
    public double Fraction => TotalSteps == 0 ? 1 : (double)CompletedSteps / TotalSteps;
}
