using Mhc.Models.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// A trained mHC image classifier. <see cref="Transform"/> scores lazily in batches of
/// <see cref="MhcTrainerOptions.ScoringBatchSize"/> rows and adds <c>Score</c> (class probabilities, slot
/// names = class names) and <c>PredictedLabel</c> (a key with the training label's values).
/// </summary>
/// <remarks>
/// Saving writes a chain of stock ML.NET transforms that carries the network (see
/// <see cref="SavedScoringChain"/>); <c>mlContext.Model.Load</c> in any process gives back a model with the
/// same scores, usable by <c>PredictionEngine</c>, without this type. The loaded model scores one row at a
/// time and its <c>Score</c> column has no slot names (a limit of the stock transforms).
/// <para>It is ML.NET's <see cref="ISingleFeaturePredictionTransformer{TModel}"/>, so
/// <c>mlContext.MulticlassClassification.PermutationFeatureImportance(transformer, data)</c> gives the importance of every
/// pixel (slot of a float-vector feature column; ML.NET's PFI cannot permute an <c>MLImage</c> column). Pass this
/// transformer, not the whole chain (ML.NET finds the predictor in a chain only for its own trainers), and data that
/// went through the transforms before it (e.g. <c>MapValueToKey</c>). It scores the data once per pixel.</para>
/// </remarks>
public sealed class MhcImageClassificationTransformer : ISingleFeaturePredictionTransformer<ImageClassifierNetwork>, IDisposable, IReleasable
{
    private readonly MLContext ml;
    private readonly DataViewSchema trainingSchema;
    private readonly ImageFeatureColumn feature;
    private readonly KeyColumnInfo label;
    private readonly ImageClassifierEngine engine;
    private readonly ImageBatchScorer scorer;
    private readonly LazySavedForm savedForm;

    internal MhcImageClassificationTransformer(MLContext ml, DataViewSchema trainingSchema, ImageFeatureColumn feature, KeyColumnInfo label,
        ImageClassifierEngine engine, string scoreColumnName, string predictedLabelColumnName, int scoringBatchSize, MhcTrainingHistory history)
    {
        this.ml = ml;
        this.trainingSchema = trainingSchema;
        this.feature = feature;
        this.label = label;
        this.engine = engine;
        ScoreColumnName = scoreColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
        TrainingHistory = history;
        scorer = new ImageBatchScorer(engine, OutputColumns(scoreColumnName, predictedLabelColumnName, label.Count, label.Names, label), scoringBatchSize);
        savedForm = new LazySavedForm(BuildSavedForm, engine.ThrowIfDisposed);
    }

    /// <summary>The trained network (input standardisation + backbone), in eval mode.</summary>
    public ImageClassifierNetwork Network => engine.Network;

    /// <summary>Architecture, input shape and class count.</summary>
    public ImageClassifierSpec Spec => engine.Network.Spec;

    /// <summary>The class names, in key order.</summary>
    public IReadOnlyList<string> ClassNames => label.Names;

    /// <summary>The feature column read.</summary>
    public string FeatureColumnName => feature.Name;

    /// <summary>The type of the feature column at training: a float vector of C x H x W values, or an image.</summary>
    public DataViewType FeatureColumnType => trainingSchema[feature.Name].Type;

    /// <summary>The trained network (the predictor, in ML.NET's terms); the same as <see cref="Network"/>.</summary>
    public ImageClassifierNetwork Model => engine.Network;

    /// <summary>The probabilities column written.</summary>
    public string ScoreColumnName { get; }

    /// <summary>The predicted key column written.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>Per-epoch losses, metrics, speed and diagnostics of the training run.</summary>
    public MhcTrainingHistory TrainingHistory { get; }

    /// <summary>mHC mixing diagnostics after the last epoch (null when not collected or for residual networks).</summary>
    public MixingDiagnostics? Diagnostics => TrainingHistory.Epochs.LastOrDefault()?.Diagnostics;

    /// <summary>True: a row-to-row mapper is available (for PredictionEngine).</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageFeatureColumn.FromSchema(inputSchema, feature.Name, feature.Channels, feature.Height, feature.Width);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var c in scorer.Columns) builder.AddColumn(c.Name, c.Type, c.Annotations);
        return builder.ToSchema();
    }

    /// <summary>Adds Score and PredictedLabel to <paramref name="input"/>, lazily, scoring in batches.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or of the wrong type or size.</exception>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        engine.ThrowIfDisposed();
        var column = ImageFeatureColumn.FromSchema(input.Schema, feature.Name, feature.Channels, feature.Height, feature.Width);
        var prepared = column.ToVector(ml, ImageScoringMappings.FeaturesColumn, SavedScoringChain.TempPrefix)
            .Fit(new SchemaOnlyDataView(input.Schema)).Transform(input);
        var scored = new BatchedScoringDataView(prepared, scorer);
        return SavedScoringChain.DropTemporaries(ml, scored.Schema).Fit(new SchemaOnlyDataView(scored.Schema)).Transform(scored);
    }

    /// <summary>A row-to-row mapper (one row per forward pass), the same one a saved and loaded model uses.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => savedForm.GetRowToRowMapper(inputSchema);

    /// <summary>The chain of stock transforms this model is saved as.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public ITransformer SavedForm => savedForm.Chain;

    void ICanSaveModel.Save(ModelSaveContext ctx) => savedForm.Save(ctx);

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
        var (scoring, width) = ImageScoringMappings.Create(ml, label.Count);
        return SavedScoringChain.Compose(ml, trainingSchema,
            feature.ToVector(ml, ImageScoringMappings.FeaturesColumn, SavedScoringChain.TempPrefix),
            SavedScoringChain.NetworkLookup(ml, encoded),
            scoring,
            SavedScoringChain.Trim(ml, ScoreColumnName, ImageScoringMappings.WideScoreColumn, width, label.Count),
            SavedScoringChain.KeyFromIndex(ml, PredictedLabelColumnName, ImageScoringMappings.PredictedIndexColumn, label));
    }

    /// <summary>The Score and PredictedLabel columns for <paramref name="classes"/> classes.</summary>
    internal static ScoredColumn[] OutputColumns(string scoreName, string predictedName, int classes, IReadOnlyList<string> names, KeyColumnInfo? label)
    {
        var slotNames = names.Select(n => n.AsMemory()).ToArray();
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> getSlotNames = (ref VBuffer<ReadOnlyMemory<char>> dst) =>
            dst = new VBuffer<ReadOnlyMemory<char>>(classes, (ReadOnlyMemory<char>[])slotNames.Clone());
        scoreAnnotations.Add(AnnotationKinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, classes), getSlotNames);
        DataViewSchema.Annotations keyAnnotations;
        if (label is not null) keyAnnotations = label.Annotations;
        else
        {
            var builder = new DataViewSchema.Annotations.Builder();
            builder.Add(AnnotationKinds.KeyValues, new VectorDataViewType(TextDataViewType.Instance, classes), getSlotNames);
            keyAnnotations = builder.ToAnnotations();
        }
        return
        [
            new ScoredColumn(scoreName, new VectorDataViewType(NumberDataViewType.Single, classes), scoreAnnotations.ToAnnotations()),
            new ScoredColumn(predictedName, new KeyDataViewType(typeof(uint), classes), keyAnnotations),
        ];
    }

    private sealed class ImageBatchScorer(ImageClassifierEngine engine, IReadOnlyList<ScoredColumn> columns, int batchSize) : IBatchScorer
    {
        public string InputColumn => ImageScoringMappings.FeaturesColumn;
        public int InputLength => engine.InputLength;
        public int BatchSize => batchSize;
        public IReadOnlyList<ScoredColumn> Columns => columns;

        public void Score(ReadOnlySpan<float> inputs, int count, ScoredBatch outputs)
        {
            var probabilities = outputs.Floats(0);
            engine.Probabilities(inputs, count, probabilities);
            var keys = outputs.Keys(1);
            int classes = engine.Classes;
            // Keys are 1-based; 0 is ML.NET's missing key, for rows whose scores are NaN.
            for (int i = 0; i < count; i++)
                keys[i] = (uint)(ImageClassifierEngine.ArgMax(probabilities.AsSpan(i * classes, classes)) + 1);
        }
    }
}
