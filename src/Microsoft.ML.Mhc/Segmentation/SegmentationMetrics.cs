using System.Globalization;
using System.Text;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Per-pixel quality of predicted masks against true masks: pixel accuracy, intersection over union (IoU)
/// and Dice per class and averaged, frequency-weighted IoU, and the confusion matrix.
/// </summary>
/// <remarks>
/// All figures come from one confusion matrix summed over every pixel of every mask (the usual dataset-level
/// definition, as in the PASCAL VOC and Cityscapes benchmarks), not from per-image averages. For class c with
/// TP, FP, FN pixels: IoU = TP / (TP + FP + FN), Dice = 2 TP / (2 TP + FP + FN). A class that appears neither in
/// the truth nor in the predictions has no IoU (NaN) and is left out of the means. The background class counts
/// like any other.
/// </remarks>
public sealed class SegmentationMetrics
{
    private readonly long[][] confusion;

    /// <summary>Computes the metrics from a confusion matrix (rows: true class, columns: predicted class).</summary>
    /// <param name="confusionMatrix">Square matrix of pixel counts.</param>
    /// <param name="maskCount">How many masks were compared.</param>
    /// <param name="classNames">Optional names, one per class; default "0", "1", ...</param>
    public SegmentationMetrics(long[][] confusionMatrix, int maskCount, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(confusionMatrix);
        int k = confusionMatrix.Length;
        if (k < 2 || confusionMatrix.Any(row => row is null || row.Length != k))
            throw new ArgumentException("The confusion matrix must be square with at least two classes.", nameof(confusionMatrix));
        if (classNames is not null && classNames.Count != k)
            throw new ArgumentException($"{classNames.Count} class names were given for {k} classes.", nameof(classNames));
        confusion = confusionMatrix.Select(r => (long[])r.Clone()).ToArray();
        ClassNames = classNames?.ToArray() ?? Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        MaskCount = maskCount;

        var iou = new double[k];
        var dice = new double[k];
        var support = new long[k];
        long correct = 0, total = 0;
        for (int c = 0; c < k; c++)
        {
            long tp = confusion[c][c], fp = 0, fn = 0;
            for (int j = 0; j < k; j++)
            {
                if (j == c) continue;
                fp += confusion[j][c];
                fn += confusion[c][j];
            }
            support[c] = tp + fn;
            correct += tp;
            total += tp + fn;
            long union = tp + fp + fn;
            iou[c] = union == 0 ? double.NaN : (double)tp / union;
            dice[c] = union == 0 ? double.NaN : 2.0 * tp / (2.0 * tp + fp + fn);
        }
        PixelCount = total;
        PerClassIoU = iou;
        PerClassDice = dice;
        PerClassPixelCount = support;
        PixelAccuracy = total == 0 ? double.NaN : (double)correct / total;
        MeanIoU = MeanOfDefined(iou);
        MeanDice = MeanOfDefined(dice);
        double fw = 0;
        for (int c = 0; c < k; c++)
            if (support[c] > 0 && !double.IsNaN(iou[c])) fw += (double)support[c] / total * iou[c];
        FrequencyWeightedIoU = total == 0 ? double.NaN : fw;
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount => confusion.Length;

    /// <summary>Class display names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Masks compared.</summary>
    public int MaskCount { get; }

    /// <summary>Pixels compared.</summary>
    public long PixelCount { get; }

    /// <summary>Share of pixels whose predicted class is the true class.</summary>
    public double PixelAccuracy { get; }

    /// <summary>Mean IoU over the classes that occur in the truth or the predictions (mIoU).</summary>
    public double MeanIoU { get; }

    /// <summary>IoU of each class (NaN where the class occurs nowhere).</summary>
    public IReadOnlyList<double> PerClassIoU { get; }

    /// <summary>Mean Dice (F1) over the classes that occur in the truth or the predictions.</summary>
    public double MeanDice { get; }

    /// <summary>Dice (F1) of each class (NaN where the class occurs nowhere).</summary>
    public IReadOnlyList<double> PerClassDice { get; }

    /// <summary>IoU of each class weighted by its share of true pixels.</summary>
    public double FrequencyWeightedIoU { get; }

    /// <summary>True pixels of each class.</summary>
    public IReadOnlyList<long> PerClassPixelCount { get; }

    /// <summary>Pixel counts: <c>ConfusionMatrix[truth][predicted]</c> (a copy).</summary>
    public long[][] ConfusionMatrix => confusion.Select(r => (long[])r.Clone()).ToArray();

    private static double MeanOfDefined(double[] values)
    {
        var defined = values.Where(v => !double.IsNaN(v)).ToArray();
        return defined.Length == 0 ? double.NaN : defined.Average();
    }

    /// <summary>A readable summary: the averages, a per-class table and the confusion matrix.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"Segmentation metrics over {MaskCount} masks ({PixelCount} pixels)");
        sb.AppendLine(inv, $"  pixel accuracy        {PixelAccuracy:F4}");
        sb.AppendLine(inv, $"  mean IoU              {MeanIoU:F4}");
        sb.AppendLine(inv, $"  mean Dice             {MeanDice:F4}");
        sb.AppendLine(inv, $"  frequency-weighted IoU {FrequencyWeightedIoU:F4}");
        int nameWidth = Math.Max(5, ClassNames.Max(n => n.Length));
        sb.AppendLine();
        sb.AppendLine(inv, $"  {"class".PadRight(nameWidth)}  {"IoU",7}  {"Dice",7}  {"pixels",10}");
        for (int c = 0; c < ClassCount; c++)
            sb.AppendLine(inv, $"  {ClassNames[c].PadRight(nameWidth)}  {Show(PerClassIoU[c]),7}  {Show(PerClassDice[c]),7}  {PerClassPixelCount[c],10}");
        sb.AppendLine();
        sb.AppendLine("  confusion matrix (rows: truth, columns: predicted)");
        int cell = Math.Max(nameWidth, confusion.SelectMany(r => r).Select(v => v.ToString(inv).Length).DefaultIfEmpty(1).Max());
        sb.Append("  ").Append(new string(' ', nameWidth));
        foreach (var name in ClassNames) sb.Append(' ').Append(name.PadLeft(cell));
        sb.AppendLine();
        for (int t = 0; t < ClassCount; t++)
        {
            sb.Append("  ").Append(ClassNames[t].PadRight(nameWidth));
            foreach (var v in confusion[t]) sb.Append(' ').Append(v.ToString(inv).PadLeft(cell));
            sb.AppendLine();
        }
        return sb.ToString();

        static string Show(double v) => double.IsNaN(v) ? "-" : v.ToString("F4", CultureInfo.InvariantCulture);
    }
}
