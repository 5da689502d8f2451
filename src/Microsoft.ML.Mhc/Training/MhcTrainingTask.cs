using Mhc.Models.Layers;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// What <see cref="MhcTrainingLoop"/> needs to know about a task (image classification, segmentation,
/// text generation): the network, how batches are made, the loss and the metrics.
/// </summary>
internal abstract class MhcTrainingTask
{
    /// <summary>Name of the metric the loss is reported under.</summary>
    public const string LossMetric = "loss";

    /// <summary>The network being trained.</summary>
    public abstract nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The network's hyper-connections, for diagnostics (empty when it has none).</summary>
    public abstract IEnumerable<HyperConnection> HyperConnections { get; }

    /// <summary>Examples in the training set.</summary>
    public abstract int TrainingCount { get; }

    /// <summary>Examples in the validation set (0 without one).</summary>
    public abstract int ValidationCount { get; }

    /// <summary>The validation metric that decides early stopping (e.g. <c>accuracy</c>).</summary>
    public abstract string SelectionMetric { get; }

    /// <summary>Whether a larger <see cref="SelectionMetric"/> is better.</summary>
    public virtual bool HigherIsBetter => true;

    /// <summary>
    /// Training batches of one epoch, shuffled and augmented with <paramref name="random"/>. Called inside
    /// the loop's per-step dispose scope, so the tensors it makes are freed after the step.
    /// </summary>
    public abstract IEnumerable<TrainingBatch> TrainingBatches(Random random, int batchSize, Device device);

    /// <summary>Validation batches in a fixed order, without augmentation.</summary>
    public abstract IEnumerable<TrainingBatch> ValidationBatches(int batchSize, Device device);

    /// <summary>The scalar loss of a batch.</summary>
    public abstract Tensor Loss(Tensor output, TrainingBatch batch);

    /// <summary>Adds the batch's task metrics (e.g. correct predictions) to <paramref name="metrics"/>.</summary>
    public abstract void Accumulate(Tensor output, TrainingBatch batch, MetricAccumulator metrics);
}
