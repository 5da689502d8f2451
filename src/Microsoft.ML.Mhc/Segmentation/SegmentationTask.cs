using Mhc.Models.Layers;
using Microsoft.ML.Mhc.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Segmentation for <see cref="MhcTrainingLoop"/>: shuffled image/mask batches, the <see cref="SegmentationLoss"/>,
/// and pixel accuracy and mean IoU per pass (mIoU selects the best epoch).
/// </summary>
internal sealed class SegmentationTask : MhcTrainingTask
{
    public const string PixelAccuracy = "pixel_accuracy";
    public const string MeanIoU = "miou";

    private readonly SegmentationNetwork network;
    private readonly SegmentationDataset train;
    private readonly SegmentationDataset? validation;
    private readonly SegmentationLoss loss;
    private readonly int classes;
    // The confusion matrix of the pass in progress: reset whenever a pass starts enumerating its batches.
    private SegmentationConfusion confusion;
    private double reportedIoU;

    public SegmentationTask(SegmentationNetwork network, SegmentationDataset train, SegmentationDataset? validation, SegmentationLoss loss)
    {
        this.network = network;
        this.train = train;
        this.validation = validation;
        this.loss = loss;
        classes = network.Spec.NumClasses;
        confusion = new SegmentationConfusion(classes);
    }

    public override nn.Module<Tensor, Tensor> Network => network;
    public override IEnumerable<HyperConnection> HyperConnections => network.HyperConnections;
    public override int TrainingCount => train.Count;
    public override int ValidationCount => validation?.Count ?? 0;
    public override string SelectionMetric => MeanIoU;

    public override IEnumerable<TrainingBatch> TrainingBatches(Random random, int batchSize, Device device)
    {
        StartPass();
        var order = Enumerable.Range(0, train.Count).ToArray();
        random.Shuffle(order);
        for (int start = 0; start < order.Length; start += batchSize)
            yield return MakeBatch(train, order.AsSpan(start, Math.Min(batchSize, order.Length - start)), device);
    }

    public override IEnumerable<TrainingBatch> ValidationBatches(int batchSize, Device device)
    {
        StartPass();
        if (validation is null) yield break;
        var order = Enumerable.Range(0, validation.Count).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
            yield return MakeBatch(validation, order.AsSpan(start, Math.Min(batchSize, order.Length - start)), device);
    }

    private void StartPass()
    {
        confusion = new SegmentationConfusion(classes);
        reportedIoU = 0;
    }

    public override Tensor Loss(Tensor output, TrainingBatch batch) => loss.Compute(output, batch.Target);

    public override void Accumulate(Tensor output, TrainingBatch batch, MetricAccumulator metrics)
    {
        var predicted = output.argmax(1);
        var cells = (batch.Target * classes + predicted).flatten().bincount(null, classes * classes).cpu().data<long>().ToArray();
        long correct = 0, pixels = cells.Sum();
        for (int c = 0; c < classes; c++) correct += cells[c * classes + c];
        confusion.AddCounts(cells, batch.Count);
        metrics.Add(PixelAccuracy, correct, pixels);
        // The accumulator averages sum / weight; mIoU is not a per-batch mean, so it is carried as a running value:
        // the first batch adds (mIoU, 1), later ones add only the change, and the mean is the mIoU of the pass so far.
        // No pixel in any class yet counts as 0, not NaN, so the running value stays a number.
        double iou = confusion.ToMetrics().MeanIoU is var mean && double.IsNaN(mean) ? 0 : mean;
        metrics.Add(MeanIoU, iou - reportedIoU, IsFirst(metrics) ? 1 : 0);
        reportedIoU = iou;
    }

    private static bool IsFirst(MetricAccumulator metrics) => double.IsNaN(metrics.Mean(MeanIoU));

    private static TrainingBatch MakeBatch(SegmentationDataset data, ReadOnlySpan<int> rows, Device device)
    {
        int length = data.Length, pixels = data.PixelCount;
        var images = new float[rows.Length * length];
        var masks = new long[rows.Length * pixels];
        for (int i = 0; i < rows.Length; i++)
        {
            data.Image(rows[i]).CopyTo(images.AsSpan(i * length, length));
            var mask = data.Mask(rows[i]);
            for (int p = 0; p < pixels; p++) masks[i * pixels + p] = mask[p];
        }
        var input = tensor(images, [rows.Length, data.Channels, data.Height, data.Width]).to(device);
        var target = tensor(masks, [rows.Length, data.Height, data.Width]).to(device);
        return new TrainingBatch(input, target, rows.Length);
    }
}
