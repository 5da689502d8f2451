using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.DataViews;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Semantic segmentation in ML.NET (which has no catalog for it): trainers and evaluation, reached with
/// <c>mlContext.Segmentation()</c>, as AutoML adds <c>mlContext.Auto()</c>.
/// </summary>
public sealed class SegmentationCatalog
{
    internal SegmentationCatalog(MLContext mlContext)
    {
        Trainers = new SegmentationTrainers(mlContext);
    }

    /// <summary>The segmentation trainers.</summary>
    public SegmentationTrainers Trainers { get; }

    /// <summary>
    /// Compares predicted masks with true masks over all rows: pixel accuracy, mean and per-class IoU, Dice,
    /// frequency-weighted IoU and the confusion matrix.
    /// </summary>
    /// <param name="data">Scored data (the output of a segmentation model's Transform).</param>
    /// <param name="labelColumnName">True masks: a vector of class ids or a grey MLImage. Default "Label".</param>
    /// <param name="predictedColumnName">Predicted masks: a vector of class ids. Default "PredictedMask".</param>
    /// <param name="numberOfClasses">Classes K; 0 takes the largest id found plus one. Default 0.</param>
    /// <param name="classNames">Names for the report, K of them; null: the class ids.</param>
    /// <exception cref="ArgumentException">Missing or mistyped columns, masks of another size, or ids out of range; the message names the column and row.</exception>
    public SegmentationMetrics Evaluate(IDataView data, string labelColumnName = MhcColumnNames.Label,
        string predictedColumnName = SegmentationColumnNames.PredictedMask, int numberOfClasses = 0, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (numberOfClasses != 0 && numberOfClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numberOfClasses), numberOfClasses, "numberOfClasses must be 0 (from the data) or at least 2.");
        if (classNames is not null && numberOfClasses > 0 && classNames.Count != numberOfClasses)
            throw new ArgumentException($"{classNames.Count} class names were given for {numberOfClasses} classes.", nameof(classNames));
        var predicted = MaskColumn.FromSchema(data.Schema, predictedColumnName, 0, "predicted mask");
        var truth = MaskColumn.FromSchema(data.Schema, labelColumnName, predicted.DeclaredSize, "label mask");

        var confusion = new SegmentationConfusion(Math.Max(2, numberOfClasses));
        var t = Array.Empty<int>();
        var p = Array.Empty<int>();
        using (var cursor = data.GetRowCursor([data.Schema[labelColumnName], data.Schema[predictedColumnName]]))
        {
            var readTruth = truth.CreateReader(cursor, "evaluation data");
            var readPredicted = predicted.CreateReader(cursor, "evaluation data");
            while (cursor.MoveNext())
            {
                long row = cursor.Position;
                int pixels = readTruth.ReadAny(row, ref t);
                int predictedPixels = readPredicted.ReadAny(row, ref p);
                if (pixels != predictedPixels)
                    throw new ArgumentException(
                        $"At row {row}, the label mask column '{labelColumnName}' has {pixels} pixels but the predicted mask column '{predictedColumnName}' has {predictedPixels}.");
                confusion.EnsureClasses(ClassesNeeded(t.AsSpan(0, pixels), p.AsSpan(0, pixels), numberOfClasses, row, labelColumnName, predictedColumnName));
                confusion.Add(t.AsSpan(0, pixels), p.AsSpan(0, pixels));
            }
        }
        if (confusion.MaskCount == 0) throw new ArgumentException("The evaluation data has no rows.", nameof(data));
        int k = confusion.ClassCount;
        if (classNames is not null && classNames.Count != k)
            throw new ArgumentException($"{classNames.Count} class names were given, but the masks hold {k} classes (ids 0..{k - 1}).", nameof(classNames));
        return confusion.ToMetrics(classNames);
    }

    // The classes a row's ids need (largest id + 1), refusing ids beyond a given class count with the column and row.
    private static int ClassesNeeded(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int numberOfClasses, long row, string labelColumnName, string predictedColumnName)
    {
        int largest = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int a = truth[i], b = predicted[i];
            if (numberOfClasses > 0 && (a >= numberOfClasses || b >= numberOfClasses))
                throw new ArgumentException(
                    $"The {(a >= numberOfClasses ? $"label mask column '{labelColumnName}'" : $"predicted mask column '{predictedColumnName}'")} has class id " +
                    $"{Math.Max(a, b)} at row {row}, pixel {i}, but numberOfClasses is {numberOfClasses}.");
            largest = Math.Max(largest, Math.Max(a, b));
        }
        return largest + 1;
    }
}

/// <summary>The segmentation trainers of <see cref="SegmentationCatalog"/>.</summary>
public sealed class SegmentationTrainers
{
    private readonly MLContext ml;

    internal SegmentationTrainers(MLContext mlContext) => ml = mlContext;

    /// <summary>A Hyper-UNet (mHC history skips, hyper-connected blocks) with all options.</summary>
    public MhcSegmentationTrainer MhcUNet(MhcSegmentationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MhcSegmentationTrainer(ml, options);
    }

    /// <summary>A Hyper-UNet with the common options; the rest keep their defaults.</summary>
    /// <param name="labelColumnName">The mask column (class ids per pixel).</param>
    /// <param name="featureColumnName">The image column: a float vector of C x H x W values or an MLImage.</param>
    /// <param name="imageHeight">Image height (a multiple of 8 with the default depth 3).</param>
    /// <param name="imageWidth">Image width (a multiple of 8 with the default depth 3).</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="numberOfClasses">Classes, background included; 0 takes them from the training masks.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="connection">Plain concat UNet, HC or mHC.</param>
    public MhcSegmentationTrainer MhcUNet(
        string labelColumnName = MhcColumnNames.Label,
        string featureColumnName = MhcColumnNames.Features,
        int imageHeight = 64,
        int imageWidth = 64,
        int channels = 1,
        int numberOfClasses = 0,
        int maxEpochs = 10,
        int batchSize = 16,
        double learningRate = 3e-3,
        ConnectionKind connection = ConnectionKind.Mhc) =>
        MhcUNet(new MhcSegmentationTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ImageHeight = imageHeight,
            ImageWidth = imageWidth,
            Channels = channels,
            NumberOfClasses = numberOfClasses,
            MaxEpochs = maxEpochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Connection = connection,
        });
}
