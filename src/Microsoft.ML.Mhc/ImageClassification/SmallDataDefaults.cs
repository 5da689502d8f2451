namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// How <see cref="MhcImageClassificationTrainer"/> trains when <see cref="MhcImageClassificationTrainer.Options.MaxEpochs"/>
/// is left unset: a fixed epoch count is too short for a few hundred images (2 epochs of 480 digits are 16 steps, far from
/// converged) and needlessly long for large sets, so the epochs follow from a step budget, and small sets hold
/// out a stratified share of their rows to stop early and keep the best epoch.
/// </summary>
public static class SmallDataDefaults
{
    /// <summary>Epochs when the step budget needs no more (large data sets): 10.</summary>
    public const int BaseEpochs = 10;

    /// <summary>The most epochs chosen: 100.</summary>
    public const int MaxEpochs = 100;

    /// <summary>
    /// Optimisation steps the chosen epochs aim for: 200. (On 480 MNIST digits the fixed 10 epochs, 80 steps, already
    /// reached 95.8 % against SdcaMaximumEntropy's 82.3 %; the budget is for smaller sets, where 10 epochs are a few dozen steps.)
    /// </summary>
    public const int TargetSteps = 200;

    /// <summary>Epochs for <paramref name="rows"/> training rows at <paramref name="batchSize"/>.</summary>
    public static int Epochs(int rows, int batchSize)
    {
        long stepsPerEpoch = (Math.Max(rows, 1) + Math.Max(batchSize, 1) - 1) / Math.Max(batchSize, 1);
        return (int)Math.Clamp((TargetSteps + stepsPerEpoch - 1) / stepsPerEpoch, BaseEpochs, MaxEpochs);
    }
}
