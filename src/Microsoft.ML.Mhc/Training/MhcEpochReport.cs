using System.Globalization;
using System.Text;
using Mhc.Models.Diagnostics;

namespace Microsoft.ML.Mhc.Training;

/// <summary>What happened in one training epoch: losses, metrics, learning rate, speed and mHC diagnostics.</summary>
public sealed class MhcEpochReport
{
    /// <summary>1-based epoch number.</summary>
    public required int Epoch { get; init; }

    /// <summary>The planned number of epochs.</summary>
    public required int MaxEpochs { get; init; }

    /// <summary>Mean training loss over the epoch (with augmentation, in training mode).</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Task metrics on the training batches (e.g. <c>accuracy</c>).</summary>
    public required IReadOnlyDictionary<string, double> TrainMetrics { get; init; }

    /// <summary>Mean validation loss, when a validation set is given.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Task metrics on the validation set, when given; otherwise empty.</summary>
    public IReadOnlyDictionary<string, double> ValidationMetrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The learning rate at the end of the epoch.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Wall time of the epoch's training steps, in seconds.</summary>
    public required double TrainSeconds { get; init; }

    /// <summary>Training throughput in examples per second.</summary>
    public required double SamplesPerSecond { get; init; }

    /// <summary>Wall time of the validation pass, in seconds (0 without validation).</summary>
    public double ValidationSeconds { get; init; }

    /// <summary>mHC mixing diagnostics after the epoch, when collected and the network has hyper-connections.</summary>
    public MixingDiagnostics? Diagnostics { get; init; }

    /// <summary>Whether this epoch improved the best validation score so far.</summary>
    public bool IsBest { get; init; }

    /// <summary>One line for logs.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"epoch {Epoch}/{MaxEpochs}: loss {TrainLoss:F4}");
        foreach (var (k, v) in TrainMetrics) sb.Append(c, $", {k} {v:F4}");
        if (ValidationLoss is { } vl)
        {
            sb.Append(c, $" | val loss {vl:F4}");
            foreach (var (k, v) in ValidationMetrics) sb.Append(c, $", val {k} {v:F4}");
            if (IsBest) sb.Append(" *");
        }
        sb.Append(c, $" | lr {LearningRate:G3}, {SamplesPerSecond:F0} samples/s, {TrainSeconds + ValidationSeconds:F1} s");
        if (Diagnostics is { Layers.Count: > 0 } d)
            sb.Append(c, $" | H_res gain fwd {d.MaxLayerForwardGain:F3} bwd {d.MaxLayerBackwardGain:F3}, composite {d.CompositeForwardGain:G4}");
        return sb.ToString();
    }
}
