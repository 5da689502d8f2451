namespace Microsoft.ML.Mhc.Plots;

/// <summary>The figures of one training epoch, as plotted by <see cref="MhcPlots.SaveTrainingCurves"/>.</summary>
/// <param name="Epoch">Epoch number (1 for the first).</param>
/// <param name="TrainLoss">Mean training loss of the epoch.</param>
/// <param name="ValidationLoss">Loss on validation data, if measured.</param>
/// <param name="TrainMetric">Metric (e.g. accuracy) on training data, if measured.</param>
/// <param name="ValidationMetric">Metric on validation data, if measured.</param>
public sealed record TrainingCurvePoint(int Epoch, double TrainLoss, double? ValidationLoss = null, double? TrainMetric = null, double? ValidationMetric = null);
