namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Accumulates a per-pixel confusion matrix (rows: true class, columns: predicted class) over any number
/// of masks, from which <see cref="SegmentationMetrics"/> are computed. The one place segmentation counts pixels:
/// <c>Evaluate</c>, the training loop's per-epoch metrics and users' own loops all add to it.
/// </summary>
internal sealed class SegmentationConfusion
{
    private long[] counts;

    /// <summary>Creates an empty matrix for <paramref name="classCount"/> classes.</summary>
    public SegmentationConfusion(int classCount)
    {
        if (classCount < 2) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "At least two classes.");
        ClassCount = classCount;
        counts = new long[classCount * classCount];
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; private set; }

    /// <summary>Masks added so far.</summary>
    public int MaskCount { get; private set; }

    /// <summary>Pixels added so far.</summary>
    public long PixelCount { get; private set; }

    /// <summary>Count of pixels of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => counts[truth * ClassCount + predicted];

    /// <summary>Adds one mask pair; both hold class ids in [0, <see cref="ClassCount"/>).</summary>
    /// <exception cref="ArgumentException">Lengths differ or an id is out of range (the message says which pixel).</exception>
    public void Add(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"The true mask has {truth.Length} pixels but the predicted mask has {predicted.Length}.", nameof(predicted));
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i], p = predicted[i];
            if ((uint)t >= (uint)ClassCount)
                throw new ArgumentException($"True class id {t} at pixel {i} is outside [0, {ClassCount}).", nameof(truth));
            if ((uint)p >= (uint)ClassCount)
                throw new ArgumentException($"Predicted class id {p} at pixel {i} is outside [0, {ClassCount}).", nameof(predicted));
            counts[t * ClassCount + p]++;
        }
        PixelCount += truth.Length;
        MaskCount++;
    }

    /// <summary>Adds another matrix of the same size.</summary>
    public void Add(SegmentationConfusion other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.ClassCount != ClassCount)
            throw new ArgumentException($"Cannot add a {other.ClassCount}-class confusion matrix to a {ClassCount}-class one.", nameof(other));
        for (int i = 0; i < counts.Length; i++) counts[i] += other.counts[i];
        PixelCount += other.PixelCount;
        MaskCount += other.MaskCount;
    }

    /// <summary>
    /// Adds a whole matrix of counts (<see cref="ClassCount"/> x <see cref="ClassCount"/>, row-major, rows = true class) over
    /// <paramref name="masks"/> masks, as a batched count on the device gives it.
    /// </summary>
    internal void AddCounts(ReadOnlySpan<long> cells, int masks)
    {
        if (cells.Length != counts.Length)
            throw new ArgumentException($"Expected {counts.Length} counts for {ClassCount} classes, got {cells.Length}.", nameof(cells));
        for (int i = 0; i < cells.Length; i++)
        {
            counts[i] += cells[i];
            PixelCount += cells[i];
        }
        MaskCount += masks;
    }

    /// <summary>Widens the matrix to <paramref name="classCount"/> classes when it has fewer (counts so far are kept).</summary>
    internal void EnsureClasses(int classCount)
    {
        if (classCount <= ClassCount) return;
        var grown = new long[classCount * classCount];
        for (int r = 0; r < ClassCount; r++) Array.Copy(counts, r * ClassCount, grown, r * classCount, ClassCount);
        counts = grown;
        ClassCount = classCount;
    }

    /// <summary>The metrics of everything added so far.</summary>
    /// <param name="classNames">Optional display names, one per class.</param>
    public SegmentationMetrics ToMetrics(IReadOnlyList<string>? classNames = null)
    {
        var matrix = new long[ClassCount][];
        for (int t = 0; t < ClassCount; t++)
        {
            matrix[t] = new long[ClassCount];
            Array.Copy(counts, t * ClassCount, matrix[t], 0, ClassCount);
        }
        return new SegmentationMetrics(matrix, MaskCount, classNames);
    }
}
