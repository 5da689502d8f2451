using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Per-pixel cross-entropy with optional class weights, plus an optional soft Dice term:
/// L = CE_w(logits, y) + lambda (1 - mean_c (2 sum p_c y_c + 1) / (sum p_c + sum y_c + 1)).
/// </summary>
/// <remarks>
/// Dice measures overlap per class regardless of its size, which counters the pull of a background that
/// covers most pixels; the +1 smoothing keeps classes absent from a batch from dividing by zero (they then
/// contribute a Dice near 1, no push either way). Class weights are normalised so that the pixel-weighted
/// mean weight over the training set is 1, which keeps the loss on the scale of the unweighted one.
/// </remarks>
internal sealed class SegmentationLoss : IDisposable
{
    private readonly Tensor? weights;
    private readonly double diceWeight;
    private readonly int classes;

    public SegmentationLoss(int classes, float[]? classWeights, double diceWeight, Device device)
    {
        this.classes = classes;
        this.diceWeight = diceWeight;
        if (classWeights is not null) weights = tensor(classWeights).to(device).DetachFromDisposeScope();
    }

    /// <summary>The class weights the loss uses (null: none).</summary>
    public static float[]? Weights(SegmentationClassWeighting weighting, float[]? explicitWeights, long[] pixelCounts)
    {
        if (explicitWeights is not null) return (float[])explicitWeights.Clone();
        if (weighting == SegmentationClassWeighting.None) return null;
        double total = pixelCounts.Sum();
        var freq = pixelCounts.Select(c => c / total).ToArray();
        double power = weighting == SegmentationClassWeighting.InverseFrequency ? 1 : 0.5;
        double smallest = freq.Where(f => f > 0).DefaultIfEmpty(1).Min();
        // A class absent from the training masks gets the weight of the rarest present class, not infinity.
        var raw = freq.Select(f => Math.Pow(f > 0 ? f : smallest, -power)).ToArray();
        double mean = freq.Select((f, c) => f * raw[c]).Sum();
        return raw.Select(w => (float)(w / mean)).ToArray();
    }

    public Tensor Compute(Tensor logits, Tensor target)
    {
        var loss = nn.functional.cross_entropy(logits, target, weight: weights);
        if (diceWeight <= 0) return loss;
        var p = nn.functional.softmax(logits, 1);
        var y = nn.functional.one_hot(target, classes).permute(0, 3, 1, 2).to_type(p.dtype);
        var dims = new long[] { 0, 2, 3 };
        var intersection = (p * y).sum(dims);
        var denominator = p.sum(dims) + y.sum(dims);
        var dice = (intersection * 2 + 1) / (denominator + 1);
        return loss + (1 - dice.mean()) * diceWeight;
    }

    public void Dispose() => weights?.Dispose();
}
