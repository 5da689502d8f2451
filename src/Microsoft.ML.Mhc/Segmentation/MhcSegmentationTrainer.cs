using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Logging;
using Microsoft.ML.Mhc.Training;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Trains a semantic segmentation model, a UNet whose encoder-to-decoder skips are mHC history skips
/// (<see cref="global::Mhc.Models.Segmentation.HyperUNet"/>), in an ML.NET pipeline:
/// <c>mlContext.Segmentation().Trainers.MhcUNet(...)</c>.
/// </summary>
/// <remarks>
/// Input: an image column (float vector C x H x W or MLImage) and a mask column (H x W class ids as a vector,
/// or a grey MLImage whose grey value is the class id). Output: <c>PredictedMask</c> (H x W class ids) and,
/// optionally, <c>Probabilities</c>. Loss: per-pixel cross-entropy with optional class weights and Dice term.
/// Training runs the shared <see cref="MhcTrainingLoop"/> (AdamW, warmup + cosine, clipping, validation with
/// early stopping on mean IoU, seed, cancellation, progress); inputs are standardised per channel with
/// training-set statistics stored in the model.
/// </remarks>
public sealed partial class MhcSegmentationTrainer : IEstimator<MhcSegmentationTransformer>
{
    /// <summary>The trainer's name: the source of its lines in <c>mlContext.Log</c>.</summary>
    public const string LoadName = "MhcUNet";

    private readonly MLContext ml;

    /// <summary>Creates the trainer; <paramref name="options"/> are validated. It logs to and seeds from <paramref name="mlContext"/>.</summary>
    public MhcSegmentationTrainer(MLContext mlContext, Options options)
    {
        ml = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        TrainerOptions = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>The options this trainer runs with.</summary>
    public Options TrainerOptions { get; }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">Bad columns or data; the message names the column, the row and what was expected.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token fired.</exception>
    public MhcSegmentationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        TrainerOptions.Validate();
        using var log = new TrainerLog(ml, LoadName, TrainerOptions.Log);
        var o = TrainerOptions.ForFit<Options>(CatalogEnvironment.ResolveSeed(ml, LoadName, TrainerOptions.Seed), log.Write);
        var image = SegmentationImageColumn.FromSchema(ml, input.Schema, o.FeatureColumnName, o.Channels, o.ImageHeight, o.ImageWidth);
        var mask = MaskColumn.FromSchema(input.Schema, o.LabelColumnName, o.ImageHeight, o.ImageWidth);
        var train = SegmentationDataset.Read(ml, input, image, mask, o.NumberOfClasses, "training data", o.CancellationToken);
        int classes = o.NumberOfClasses > 0 ? o.NumberOfClasses : Math.Max(2, train.MaxClassId + 1);
        if (o.ClassWeights is not null && o.ClassWeights.Length != classes)
            throw new ArgumentException($"{nameof(Options.ClassWeights)} has {o.ClassWeights.Length} values but there are {classes} classes.", nameof(input));
        if (o.ClassNames is not null && o.ClassNames.Length != classes)
            throw new ArgumentException($"{nameof(Options.ClassNames)} has {o.ClassNames.Length} names but there are {classes} classes.", nameof(input));

        SegmentationDataset? validation = null;
        if (o.ValidationSet is { } validationSet)
        {
            var vImage = SegmentationImageColumn.FromSchema(ml, validationSet.Schema, o.FeatureColumnName, o.Channels, o.ImageHeight, o.ImageWidth);
            var vMask = MaskColumn.FromSchema(validationSet.Schema, o.LabelColumnName, o.ImageHeight, o.ImageWidth);
            validation = SegmentationDataset.Read(ml, validationSet, vImage, vMask, classes, "validation set", o.CancellationToken);
        }

        var (mean, std) = train.ChannelStatistics();
        var weights = SegmentationLoss.Weights(o.ClassWeighting, o.ClassWeights, train.ClassPixelCounts(classes));
        var spec = CreateSpec(o, classes);
        return TrainingSession.Train(o, log, () => new SegmentationNetwork(spec, mean, std),
            (network, device) =>
            {
                var loss = new SegmentationLoss(classes, weights, o.DiceLossWeight, device);
                return (new SegmentationTask(network, train, validation, loss), loss);
            },
            (network, device, history) => new MhcSegmentationTransformer(ml, input.Schema, image,
                new SegmentationEngine(network, device, nameof(MhcSegmentationTransformer)),
                o.PredictedMaskColumnName, o.OutputProbabilities ? o.ProbabilitiesColumnName : null, o.ScoringBatchSize, history));
    }

    /// <summary>The network spec the options describe for <paramref name="classes"/> classes.</summary>
    internal static SegmentationSpec CreateSpec(Options o, int classes) => new()
    {
        Channels = o.Channels,
        ImageHeight = o.ImageHeight,
        ImageWidth = o.ImageWidth,
        NumClasses = classes,
        ClassNames = o.ClassNames?.ToArray() ?? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        UNet = o.ToNetworkOptions(classes),
    };

    /// <summary>The schema the trained transformer will produce: the input plus PredictedMask (and Probabilities).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A required column is missing or of the wrong kind.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = TrainerOptions;
        string Available() => string.Join(", ", inputSchema.Select(c => $"'{c.Name}'"));
        var mask = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (mask.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The label mask column '{o.LabelColumnName}' ({MaskColumn.Expected(o.ImageHeight, o.ImageWidth)}) was not found. Available columns: {Available()}.");
        var feature = inputSchema.FirstOrDefault(c => c.Name == o.FeatureColumnName);
        if (feature.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The image column '{o.FeatureColumnName}' ({ImageFeatureColumn.Expected(o.Channels, o.ImageHeight, o.ImageWidth)}) was not found. Available columns: {Available()}.");
        bool vector = feature.Kind == SchemaShape.Column.VectorKind.Vector && feature.ItemType == NumberDataViewType.Single;
        bool isImage = feature.Kind == SchemaShape.Column.VectorKind.Scalar && feature.ItemType is ImageDataViewType;
        if (!vector && !isImage)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The image column '{o.FeatureColumnName}' must be {ImageFeatureColumn.Expected(o.Channels, o.ImageHeight, o.ImageWidth)}; found {feature.ItemType} ({feature.Kind}).");
        // SchemaShape columns cannot be built outside ML.NET: take the shapes from stock estimators.
        const string floats = "__mhc_shape_floats";
        SchemaShape shape = isImage
            ? ml.Transforms.ExtractPixels(floats, o.FeatureColumnName).GetOutputSchema(inputSchema)
            : ml.Transforms.CopyColumns(floats, o.FeatureColumnName).GetOutputSchema(inputSchema);
        shape = ml.Transforms.Conversion.MapValue(o.PredictedMaskColumnName, [new KeyValuePair<float, uint>(0, 0)], floats).GetOutputSchema(shape);
        if (o.OutputProbabilities) shape = ml.Transforms.CopyColumns(o.ProbabilitiesColumnName, floats).GetOutputSchema(shape);
        return ml.Transforms.DropColumns(floats).GetOutputSchema(shape);
    }
}
