using Mhc.Models.Diagnostics;
using Mhc.Models.Weights;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// A trained mHC segmentation model. <see cref="Transform"/> scores lazily in batches of
/// <see cref="MhcTrainerOptions.ScoringBatchSize"/> rows and adds <c>PredictedMask</c> (H x W class ids,
/// <see cref="uint"/>, row-major; a vector type without declared size) and, when asked for, <c>Probabilities</c>
/// (K x H x W floats, class-major).
/// </summary>
/// <remarks>
/// Saving writes a chain of stock ML.NET transforms that carries the network (see <see cref="SavedScoringChain"/>);
/// <c>mlContext.Model.Load</c> in any process gives back a model with the same masks, usable by
/// <c>PredictionEngine</c>, without this type. Loaded with <see cref="MhcModelFile.Load"/>, it scores through the same
/// batched scorer as this transformer, in batches of the same size; ML.NET's own <c>Model.Load</c>
/// gives the stock chain alone, which scores one row per forward pass.
/// </remarks>
public sealed class MhcSegmentationTransformer : ITransformer, IDisposable, IReleasable
{
    private readonly MLContext ml;
    private readonly DataViewSchema trainingSchema;
    private readonly SegmentationImageColumn image;
    private readonly SegmentationEngine engine;
    private readonly SegmentationBatchScorer scorer;
    private readonly LazySavedForm savedForm;

    internal MhcSegmentationTransformer(MLContext ml, DataViewSchema trainingSchema, SegmentationImageColumn image, SegmentationEngine engine,
        string predictedMaskColumnName, string? probabilitiesColumnName, int scoringBatchSize, MhcTrainingHistory history)
    {
        this.ml = ml;
        this.trainingSchema = trainingSchema;
        this.image = image;
        this.engine = engine;
        PredictedMaskColumnName = predictedMaskColumnName;
        ProbabilitiesColumnName = probabilitiesColumnName;
        TrainingHistory = history;
        scorer = new SegmentationBatchScorer(engine, SegmentationBatchScorer.OutputColumns(engine, probabilitiesColumnName), scoringBatchSize, image.Name);
        savedForm = new LazySavedForm(BuildSavedForm, engine.ThrowIfDisposed);
    }

    internal SegmentationEngine Engine => engine;

    /// <summary>The trained network (input standardisation + Hyper-UNet), in eval mode.</summary>
    public SegmentationNetwork Network => engine.Network;

    /// <summary>Input shape, classes, class names and network options.</summary>
    public SegmentationSpec Spec => engine.Network.Spec;

    /// <summary>The class names, by class id.</summary>
    public IReadOnlyList<string> ClassNames => Spec.ClassNames;

    /// <summary>The image column read.</summary>
    public string FeatureColumnName => image.Name;

    /// <summary>The predicted mask column written.</summary>
    public string PredictedMaskColumnName { get; }

    /// <summary>The probabilities column written, or null.</summary>
    public string? ProbabilitiesColumnName { get; }

    /// <summary>Per-epoch losses, metrics, speed and diagnostics of the training run.</summary>
    public MhcTrainingHistory TrainingHistory { get; }

    /// <summary>mHC mixing diagnostics after the last epoch (null when not collected or for the plain UNet).</summary>
    public MixingDiagnostics? Diagnostics => TrainingHistory.Epochs.LastOrDefault()?.Diagnostics;

    /// <summary>True: a row-to-row mapper is available (for PredictionEngine).</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SegmentationImageColumn.FromSchema(ml, inputSchema, image.Name, image.Channels, image.Height, image.Width);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(PredictedMaskColumnName, new VectorDataViewType(NumberDataViewType.UInt32));
        if (ProbabilitiesColumnName is not null)
            builder.AddColumn(ProbabilitiesColumnName, new VectorDataViewType(NumberDataViewType.Single, engine.Classes * engine.PixelCount));
        return builder.ToSchema();
    }

    /// <summary>Adds the predicted masks (and probabilities) to <paramref name="input"/>, lazily, scoring in batches.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or of the wrong type or size.</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        engine.ThrowIfDisposed();
        var column = SegmentationImageColumn.FromSchema(ml, input.Schema, image.Name, image.Channels, image.Height, image.Width);
        var prepared = column.ToVector(ml, input.Schema, ScoringSegment.FeaturesColumn)
            .Fit(new SchemaOnlyDataView(input.Schema)).Transform(input);
        var scored = ScoringSegment.Score(prepared, scorer);
        var finish = MaskToClassIds(ml, PredictedMaskColumnName, engine.Classes)
            .Append(SavedScoringChain.DropTemporaries(ml, scored.Schema));
        return finish.Fit(new SchemaOnlyDataView(scored.Schema)).Transform(scored);
    }

    /// <summary>A row-to-row mapper (one row per forward pass), the same one a saved and loaded model uses.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => savedForm.GetRowToRowMapper(inputSchema);

    /// <summary>The chain of stock transforms this model is saved as.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public ITransformer SavedForm => savedForm.Chain;

    void ICanSaveModel.Save(ModelSaveContext ctx) => savedForm.Save(ctx);

    /// <summary>
    /// Writes the network's weights (its state_dict, with the input standardisation buffers) to <paramref name="path"/>
    /// atomically, as safetensors or PyTorch <c>.pt</c> (see <see cref="ModuleWeights.Save"/>), for PyTorch, for
    /// <see cref="MhcSegmentationTrainer.FromWeights"/> or for fine-tuning
    /// (<see cref="Training.MhcTrainerOptions.InitialWeightsPath"/>). Returns the full path.
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="format">The format; null: from the extension (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>: PyTorch; otherwise safetensors).</param>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public string SaveWeights(string path, WeightsFormat? format = null) => engine.SaveWeights(path, format);

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsReleased => engine.IsDisposed;

    /// <summary>
    /// Frees the network's native memory, and that of the copy its saved form scores with (prediction engines).
    /// Afterwards <see cref="Transform"/>, prediction engines (new or existing), data views it made and saving throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        engine.Dispose();
        savedForm.Release();
    }

    private TransformerChain<ITransformer> BuildSavedForm()
    {
        var encoded = engine.Serialize().Encode();
        bool probabilities = ProbabilitiesColumnName is not null;
        var (scoring, maskWidth, probabilitiesWidth) = SegmentationScoringMappings.Create(ml, engine.PixelCount, engine.Classes, probabilities);
        var steps = new List<object>
        {
            scoring,
            SavedScoringChain.Trim(ml, SegmentationScoringMappings.MaskColumn, SegmentationScoringMappings.WideMaskColumn, maskWidth, engine.PixelCount),
        };
        if (probabilities)
            steps.Add(SavedScoringChain.Trim(ml, ProbabilitiesColumnName!, SegmentationScoringMappings.WideProbabilitiesColumn,
                probabilitiesWidth, engine.Classes * engine.PixelCount));
        return SavedScoringChain.Compose(ml, trainingSchema,
            image.ToVector(ml, trainingSchema, ScoringSegment.FeaturesColumn),
            (Func<DataViewSchema, ITransformer>)(schema => ScoringSegment.Saved(ml, schema, encoded, scorer.BatchSize, scorer.Columns, steps.ToArray())),
            MaskToClassIds(ml, PredictedMaskColumnName, engine.Classes));
    }

    /// <summary>
    /// The stock transform turning the network's class ids (floats, as scorers and custom mappings write them) into
    /// <see cref="uint"/>: ML.NET converts no float to an integer type, but a value map with K entries does, and it
    /// saves and loads like any stock transform. Its output vector has no declared size (a limit of value maps);
    /// every row holds H x W ids.
    /// </summary>
    internal static IEstimator<ITransformer> MaskToClassIds(MLContext ml, string outputColumn, int classes) =>
        ml.Transforms.Conversion.MapValue(outputColumn,
            Enumerable.Range(0, classes).Select(c => new KeyValuePair<float, uint>(c, (uint)c)).ToArray(), SegmentationScoringMappings.MaskColumn);
}
