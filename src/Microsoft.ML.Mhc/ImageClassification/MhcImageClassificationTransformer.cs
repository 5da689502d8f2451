using Mhc.Models.Diagnostics;
using Mhc.Models.Weights;
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
/// same scores, usable by <c>PredictionEngine</c>, without this type. Loaded with <see cref="MhcModelFile.Load"/>, it
/// scores through the same batched scorer as this transformer: same columns, slot names and batch size.
/// ML.NET's own <c>Model.Load</c> gives the stock chain alone, which scores one row at a time and whose <c>Score</c>
/// column has no slot names (a limit of the stock transforms).
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
        scorer = new ImageBatchScorer(engine, ImageBatchScorer.OutputColumns(scoreColumnName, predictedLabelColumnName, label), scoringBatchSize);
        savedForm = new LazySavedForm(BuildSavedForm, engine.ThrowIfDisposed);
    }

    internal ImageClassifierEngine Engine => engine;

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
        var prepared = column.ToVector(ml, ScoringSegment.FeaturesColumn, SavedScoringChain.TempPrefix)
            .Fit(new SchemaOnlyDataView(input.Schema)).Transform(input);
        var scored = ScoringSegment.Score(prepared, scorer);
        return SavedScoringChain.DropTemporaries(ml, scored.Schema).Fit(new SchemaOnlyDataView(scored.Schema)).Transform(scored);
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
    /// <see cref="MhcImageClassificationTrainer.FromWeights"/> or for fine-tuning
    /// (<see cref="Training.MhcTrainerOptions.InitialWeightsPath"/>). Returns the full path.
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="format">The format; null: from the extension (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>: PyTorch; otherwise safetensors).</param>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public string SaveWeights(string path, WeightsFormat? format = null)
    {
        return engine.SaveWeights(path, format);
    }

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
            feature.ToVector(ml, ScoringSegment.FeaturesColumn, SavedScoringChain.TempPrefix),
            (Func<DataViewSchema, ITransformer>)(schema => ScoringSegment.Saved(ml, schema, encoded, scorer.BatchSize, scorer.Columns,
                scoring,
                SavedScoringChain.Trim(ml, ScoreColumnName, ImageScoringMappings.WideScoreColumn, width, label.Count),
                SavedScoringChain.KeyFromIndex(ml, PredictedLabelColumnName, ImageScoringMappings.PredictedIndexColumn, label))));
    }
}
