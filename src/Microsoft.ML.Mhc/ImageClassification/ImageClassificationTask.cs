using Mhc.Models.Layers;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>Image classification for <see cref="MhcTrainingLoop"/>: augmented, shuffled image batches, (label-smoothed) cross-entropy, accuracy.</summary>
internal sealed class ImageClassificationTask : MhcTrainingTask
{
    private const string Accuracy = "accuracy";
    private readonly ImageClassifierNetwork network;
    private readonly ImageDataset train;
    private readonly ImageDataset? validation;
    private readonly ImageAugmentation augmentation;
    private readonly double labelSmoothing;

    public ImageClassificationTask(ImageClassifierNetwork network, ImageDataset train, ImageDataset? validation,
        ImageAugmentation augmentation, double labelSmoothing)
    {
        this.network = network;
        this.train = train;
        this.validation = validation;
        this.augmentation = augmentation;
        this.labelSmoothing = labelSmoothing;
    }

    public override nn.Module<Tensor, Tensor> Network => network;
    public override IEnumerable<HyperConnection> HyperConnections => network.HyperConnections;
    public override int TrainingCount => train.Count;
    public override int ValidationCount => validation?.Count ?? 0;
    public override string SelectionMetric => Accuracy;

    public override IEnumerable<TrainingBatch> TrainingBatches(Random random, int batchSize, Device device)
    {
        var order = Enumerable.Range(0, train.Count).ToArray();
        random.Shuffle(order);
        for (int start = 0; start < order.Length; start += batchSize)
            yield return MakeBatch(train, order.AsSpan(start, Math.Min(batchSize, order.Length - start)), device, random, augmentation);
    }

    public override IEnumerable<TrainingBatch> ValidationBatches(int batchSize, Device device)
    {
        if (validation is null) yield break;
        var order = Enumerable.Range(0, validation.Count).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
            yield return MakeBatch(validation, order.AsSpan(start, Math.Min(batchSize, order.Length - start)), device, null, ImageAugmentation.None);
    }

    public override Tensor Loss(Tensor output, TrainingBatch batch) =>
        nn.functional.cross_entropy(output, batch.Target, label_smoothing: labelSmoothing);

    public override void Accumulate(Tensor output, TrainingBatch batch, MetricAccumulator metrics)
    {
        long correct = output.argmax(1).eq(batch.Target).sum().cpu().item<long>();
        metrics.Add(Accuracy, correct, batch.Count);
    }

    private static TrainingBatch MakeBatch(ImageDataset data, ReadOnlySpan<int> rows, Device device, Random? random, ImageAugmentation augmentation)
    {
        int length = data.Length;
        var input = empty([rows.Length, data.Channels, data.Height, data.Width], ScalarType.Float32);
        var target = empty([rows.Length], ScalarType.Int64);
        var pixels = HostTensors.Floats(input);
        var labels = HostTensors.Longs(target);
        for (int i = 0; i < rows.Length; i++)
        {
            var destination = pixels.Slice(i * length, length);
            if (random is null || augmentation.IsIdentity) data.Row(rows[i]).CopyTo(destination);
            else augmentation.Apply(data.Row(rows[i]), destination, data.Channels, data.Height, data.Width, random);
            labels[i] = data.Labels[rows[i]];
        }
        if (random is not null) input = augmentation.ApplyToBatch(input, random);
        return new TrainingBatch(input.to(device), target.to(device), rows.Length);
    }
}
