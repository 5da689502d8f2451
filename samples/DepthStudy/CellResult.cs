using Mhc.Models.Diagnostics;

namespace DepthStudy;

/// <summary>Everything measured in one cell of the grid (serialisable, so worker processes can hand it back).</summary>
/// <param name="Connection">Connection name.</param>
/// <param name="Depth">Blocks.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="PlannedSteps">Steps the cell was to train (a diverged cell stops early).</param>
/// <param name="Loss">Training loss per step.</param>
/// <param name="RecordSteps">1-based steps at which gains, gradient norms and mixing weights were recorded.</param>
/// <param name="ForwardGain">Per recording: the largest composite forward gain over depth (peak of H_l ... H_1).</param>
/// <param name="BackwardGain">Per recording: the largest composite backward gain over depth.</param>
/// <param name="PeakStep">The recorded step with the largest composite forward gain.</param>
/// <param name="LayerForwardAtPeak">Per-layer forward gain at <paramref name="PeakStep"/>.</param>
/// <param name="CompositeForwardAtPeak">Composite forward gain after each layer at <paramref name="PeakStep"/>.</param>
/// <param name="LayerGradientNorm">Per block: mean over recordings of the L2 gradient norm of its parameters.</param>
/// <param name="Mixing">History skips only: every layer's weights at each recording.</param>
/// <param name="Epochs">History skips only: every layer's weights at the end of each epoch.</param>
/// <param name="EpochLog">History skips only: the per-epoch log lines (newest-state weight, mixing entropy).</param>
/// <param name="StepMilliseconds">Median time of a training step without recording.</param>
/// <param name="TestLoss">Held-out loss at the end (NaN when diverged).</param>
/// <param name="TestAccuracy">Held-out accuracy at the end.</param>
/// <param name="Seconds">Wall time of the cell.</param>
public sealed record CellResult(
    string Connection, int Depth, double LearningRate, int PlannedSteps, double[] Loss,
    int[] RecordSteps, double[] ForwardGain, double[] BackwardGain, int PeakStep, double[] LayerForwardAtPeak, double[] CompositeForwardAtPeak,
    double[] LayerGradientNorm, HistoryMixingSnapshot[] Mixing, HistoryMixingSnapshot[] Epochs, string[] EpochLog,
    double StepMilliseconds, double TestLoss, double TestAccuracy, double Seconds)
{
    /// <summary>Mean loss over the last tenth of the run.</summary>
    public double FinalLoss => LossMetrics.FinalLoss(Loss, PlannedSteps);

    /// <summary>Loss of the first step.</summary>
    public double InitialLoss => Loss.Length == 0 ? double.NaN : Loss[0];

    /// <summary>Steps until the 10-step mean loss reaches <paramref name="target"/>, or null.</summary>
    public int? StepsToTarget(double target) => LossMetrics.StepsToTarget(Loss, target);

    /// <summary>Steps whose loss exceeds twice the running median.</summary>
    public int Spikes => LossMetrics.Spikes(Loss);

    /// <summary>NaN loss, or a final loss above the initial one.</summary>
    public bool Diverged => LossMetrics.Diverged(Loss, PlannedSteps);

    /// <summary>Largest composite forward gain over training (1 with nothing recorded).</summary>
    public double MaxForwardGain => Max(ForwardGain);

    /// <summary>Largest composite backward gain over training.</summary>
    public double MaxBackwardGain => Max(BackwardGain);

    /// <summary>The cell's key.</summary>
    public CellKey Key => new(Connection, Depth, LearningRate);

    private static double Max(double[] values)
    {
        // A non-finite gain (overflow in a diverging HC stack) is the largest gain there is.
        if (values.Any(v => !double.IsFinite(v))) return double.PositiveInfinity;
        return values.Length == 0 ? 1 : values.Max();
    }
}
