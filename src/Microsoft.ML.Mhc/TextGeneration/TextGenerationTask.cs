using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Microsoft.ML.Mhc.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Next-token prediction on random windows of a token stream, for <see cref="MhcTrainingLoop"/>: an
/// "epoch" is <c>StepsPerEpoch</c> batches of windows drawn uniformly from the training stream; the
/// validation windows are fixed and evenly spaced over the validation stream.
/// </summary>
internal sealed class TextGenerationTask : MhcTrainingTask
{
    private readonly HyperDecoderTransformer network;
    private readonly int[] train;
    private readonly int[]? validation;
    private readonly int[] validationStarts;
    private readonly int context;
    private readonly int stepsPerEpoch;
    private readonly int batchSize;

    public TextGenerationTask(HyperDecoderTransformer network, int[] train, int[]? validation, int stepsPerEpoch, int batchSize, int validationWindows)
    {
        this.network = network;
        this.train = train;
        this.validation = validation;
        context = network.Options.ContextLength;
        this.stepsPerEpoch = stepsPerEpoch;
        this.batchSize = batchSize;
        if (validation is null)
        {
            validationStarts = [];
        }
        else
        {
            int last = validation.Length - context - 1;    // last valid window start
            int count = Math.Max(1, Math.Min(validationWindows, last + 1));
            validationStarts = Enumerable.Range(0, count).Select(i => count == 1 ? 0 : (int)((long)last * i / (count - 1))).ToArray();
        }
    }

    public override nn.Module<Tensor, Tensor> Network => network;

    public override IEnumerable<HyperConnection> HyperConnections => network.HyperConnections;

    public override int TrainingCount => stepsPerEpoch * batchSize;

    public override int ValidationCount => validationStarts.Length;

    public override string SelectionMetric => LossMetric;

    public override bool HigherIsBetter => false;

    public override IEnumerable<TrainingBatch> TrainingBatches(Random random, int batchSize, Device device)
    {
        int maxStart = train.Length - context - 1;
        for (int step = 0; step < stepsPerEpoch; step++)
        {
            var starts = new int[batchSize];
            for (int b = 0; b < batchSize; b++) starts[b] = random.Next(0, maxStart + 1);
            yield return Batch(train, starts, device);
        }
    }

    public override IEnumerable<TrainingBatch> ValidationBatches(int batchSize, Device device)
    {
        for (int at = 0; at < validationStarts.Length; at += batchSize)
            yield return Batch(validation!, validationStarts.AsSpan(at, Math.Min(batchSize, validationStarts.Length - at)).ToArray(), device);
    }

    private TrainingBatch Batch(int[] stream, int[] starts, Device device)
    {
        var x = new long[starts.Length * context];
        var y = new long[starts.Length * context];
        for (int b = 0; b < starts.Length; b++)
            for (int t = 0; t < context; t++)
            {
                x[b * context + t] = stream[starts[b] + t];
                y[b * context + t] = stream[starts[b] + t + 1];
            }
        return new TrainingBatch(
            tensor(x, dtype: ScalarType.Int64, device: device).reshape(starts.Length, context),
            tensor(y, dtype: ScalarType.Int64, device: device).reshape(starts.Length, context),
            starts.Length);
    }

    public override Tensor Loss(Tensor output, TrainingBatch batch) =>
        nn.functional.cross_entropy(output.reshape(-1, output.shape[^1]), batch.Target.reshape(-1));

    public override void Accumulate(Tensor output, TrainingBatch batch, MetricAccumulator metrics)
    {
        // Next-token accuracy: a readable companion to the loss.
        var correct = output.argmax(-1).eq(batch.Target).sum().to(CPU).item<long>();
        metrics.Add("accuracy", correct, batch.Target.numel());
    }
}
