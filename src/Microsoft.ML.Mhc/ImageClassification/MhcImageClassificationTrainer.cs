using Mhc.Models.Vision;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Logging;
using Microsoft.ML.Mhc.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// Trains an image classifier whose residual connections are (manifold-constrained) hyper-connections,
/// in an ML.NET pipeline: <c>mlContext.MulticlassClassification.Trainers.MhcImage(...)</c>.
/// </summary>
/// <remarks>
/// Input: a key-typed label column and an image column (a known-size float vector of C x H x W values,
/// or an <c>MLImage</c>). Output: <c>Score</c> (class probabilities, slot names = class names) and
/// <c>PredictedLabel</c> (a key with the label's values), so <c>Evaluate</c>, <c>MapKeyToValue</c>,
/// <c>Model.Save</c>/<c>Load</c> and <c>PredictionEngine</c> work as with ML.NET's own trainers.
/// Inputs are standardised per channel with training-set statistics stored in the model.
/// </remarks>
public sealed partial class MhcImageClassificationTrainer : IEstimator<MhcImageClassificationTransformer>
{
    /// <summary>The trainer's name: the source of its lines in <c>mlContext.Log</c>.</summary>
    public const string LoadName = "MhcImage";

    private readonly IHostEnvironment environment;
    private readonly MLContext ml;

    /// <summary>Creates the trainer; <paramref name="options"/> are validated. It logs to and seeds from <paramref name="mlContext"/>.</summary>
    public MhcImageClassificationTrainer(MLContext mlContext, Options options)
    {
        ml = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        environment = mlContext;
        TrainerOptions = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>The caller's context: the trainer logs to it, seeds from it and builds its stock transforms on it.</summary>
    internal MLContext Context => ml;

    /// <summary>The options this trainer runs with.</summary>
    public Options TrainerOptions { get; }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">Bad columns or data; the message names the column and what was expected.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token fired.</exception>
    public MhcImageClassificationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        TrainerOptions.Validate();
        using var log = new TrainerLog(environment, LoadName, TrainerOptions.Log);
        var o = TrainerOptions.ForFit<Options>(CatalogEnvironment.ResolveSeed(environment, LoadName, TrainerOptions.Seed), log.Write);
        var feature = ImageFeatureColumn.FromSchema(input.Schema, o.FeatureColumnName, o.Channels, o.ImageHeight, o.ImageWidth);
        var label = KeyColumnInfo.FromSchema(input.Schema, o.LabelColumnName);
        var train = ImageDataset.Read(ml, input, feature, label, "training data", o.CancellationToken);
        if (train.SkippedMissingLabels > 0) log.Write($"skipped {train.SkippedMissingLabels} training rows with a missing label");
        var counts = train.ClassCounts(label.Count);
        int present = counts.Count(c => c > 0);
        if (present < 2)
        {
            int only = Array.FindIndex(counts, c => c > 0);
            throw new ArgumentException(
                $"The training data has a single class ('{label.Names[only]}', {counts[only]} rows) in the label column '{label.ColumnName}'; " +
                "classification needs examples of at least two classes.", nameof(input));
        }

        ImageDataset? validation = null;
        if (o.ValidationSet is { } validationSet)
        {
            var vFeature = ImageFeatureColumn.FromSchema(validationSet.Schema, o.FeatureColumnName, o.Channels, o.ImageHeight, o.ImageWidth);
            var vLabel = KeyColumnInfo.FromSchema(validationSet.Schema, o.LabelColumnName, "validation label");
            if (vLabel.Count != label.Count)
                throw new ArgumentException(
                    $"The validation label column '{o.LabelColumnName}' has {vLabel.Count} classes but the training one has {label.Count}; " +
                    "map both with the same fitted MapValueToKey.", nameof(input));
            validation = ImageDataset.Read(ml, validationSet, vFeature, vLabel, "validation set", o.CancellationToken);
        }

        if (o.EpochsFromDataSize) PlanEpochs(o, train.Count, log);

        var (mean, std) = train.ChannelStatistics();
        var spec = CreateSpec(o, label.Count);
        return TrainingSession.Train(o, log, () => new ImageClassifierNetwork(spec, mean, std),
            (network, device) => (new ImageClassificationTask(network, train, validation,
                new ImageAugmentation(o.AugmentShiftPixels, o.AugmentHorizontalFlip, o.AugmentRotationDegrees, o.AugmentScale), o.LabelSmoothing), null),
            (network, device, history) => new MhcImageClassificationTransformer(ml, input.Schema, feature, label,
                new ImageClassifierEngine(network, device, nameof(MhcImageClassificationTransformer)),
                o.ScoreColumnName, o.PredictedLabelColumnName, o.ScoringBatchSize, history));
    }

    /// <summary><see cref="SmallDataDefaults"/>: sets the epochs of this Fit's options from the number of training rows.</summary>
    private static void PlanEpochs(Options o, int rows, TrainerLog log)
    {
        o.MaxEpochs = SmallDataDefaults.Epochs(rows, o.BatchSize);
        log.Write($"MaxEpochs not set: {o.MaxEpochs} epochs for {rows} training rows at batch {o.BatchSize} (about {SmallDataDefaults.TargetSteps} steps, 10 to 100 epochs)");
    }

    /// <summary>The architecture spec the options describe for <paramref name="classes"/> classes.</summary>
    public static ImageClassifierSpec CreateSpec(Options options, int classes)
    {
        ArgumentNullException.ThrowIfNull(options);
        var spec = new ImageClassifierSpec
        {
            Architecture = options.Architecture,
            Channels = options.Channels,
            ImageHeight = options.ImageHeight,
            ImageWidth = options.ImageWidth,
            NumClasses = classes,
        };
        switch (options.Architecture)
        {
            case MhcImageArchitecture.HyperResNet:
                spec.HyperResNet = new HyperResNetOptions
                {
                    InChannels = options.Channels,
                    NumClasses = classes,
                    ImageHeight = options.ImageHeight,
                    ImageWidth = options.ImageWidth,
                    StageDepths = (int[])options.StageDepths.Clone(),
                    BaseWidth = options.BaseWidth,
                    Block = options.Block,
                    Mixing = options.Mixing,
                    Dropout = options.Dropout,
                };
                spec.HyperResNet.Validate();
                break;
            case MhcImageArchitecture.VisionTransformer:
                var vit = VisionTransformerSpec.Create(options, classes);
                vit.Validate();
                spec.VisionTransformer = ImageClassifierSpec.ToNode(vit);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Architecture, "Unknown architecture.");
        }
        return spec;
    }

    /// <summary>The schema the trained transformer will produce: the input plus Score and PredictedLabel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A required column is missing or of the wrong kind.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = TrainerOptions;
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"The label column '{o.LabelColumnName}' (a key type; use MapValueToKey) was not found. " +
                $"Available columns: {string.Join(", ", inputSchema.Select(c => $"'{c.Name}' ({Describe(c)})"))}.");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The label column '{o.LabelColumnName}' must be a key type (map it with MapValueToKey), but it is {Describe(label)}.");
        var feature = inputSchema.FirstOrDefault(c => c.Name == o.FeatureColumnName);
        if (feature.Name is null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The feature column '{o.FeatureColumnName}' ({ImageFeatureColumn.Expected(o.Channels, o.ImageHeight, o.ImageWidth)}) was not found. " +
                $"Available columns: {string.Join(", ", inputSchema.Select(c => $"'{c.Name}' ({Describe(c)})"))}.");
        bool vector = feature.Kind == SchemaShape.Column.VectorKind.Vector && feature.ItemType == NumberDataViewType.Single;
        bool image = feature.Kind == SchemaShape.Column.VectorKind.Scalar && feature.ItemType is Microsoft.ML.Transforms.Image.ImageDataViewType;
        if (!vector && !image)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The feature column '{o.FeatureColumnName}' must be {ImageFeatureColumn.Expected(o.Channels, o.ImageHeight, o.ImageWidth)}; found {Describe(feature)}.");
        return OutputShapes.AddScoreAndPredictedLabel(ml, inputSchema, o.LabelColumnName, o.ScoreColumnName, o.PredictedLabelColumnName);
    }

    private static string Describe(SchemaShape.Column c) =>
        $"{(c.IsKey ? "key " : "")}{c.ItemType}{(c.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : c.Kind == SchemaShape.Column.VectorKind.Vector ? " vector" : " vector of unknown size")}";
}
