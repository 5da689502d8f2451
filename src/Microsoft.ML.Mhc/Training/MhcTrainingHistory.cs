namespace Microsoft.ML.Mhc.Training;

/// <summary>The epochs of one training run and how it ended.</summary>
public sealed class MhcTrainingHistory
{
    internal MhcTrainingHistory(IReadOnlyList<MhcEpochReport> epochs, int? bestEpoch, bool stoppedEarly, double seconds, string device)
    {
        Epochs = epochs;
        BestEpoch = bestEpoch;
        StoppedEarly = stoppedEarly;
        TotalSeconds = seconds;
        Device = device;
    }

    /// <summary>One report per completed epoch.</summary>
    public IReadOnlyList<MhcEpochReport> Epochs { get; }

    /// <summary>The epoch whose weights were kept when early stopping restored the best ones; null otherwise.</summary>
    public int? BestEpoch { get; }

    /// <summary>Whether early stopping ended the run before <see cref="MhcTrainerOptions.MaxEpochs"/>.</summary>
    public bool StoppedEarly { get; }

    /// <summary>Wall time of the whole run (training and validation), in seconds.</summary>
    public double TotalSeconds { get; }

    /// <summary>The device trained on.</summary>
    public string Device { get; }
}
