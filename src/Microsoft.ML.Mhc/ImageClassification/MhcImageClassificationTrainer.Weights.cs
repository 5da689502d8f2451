using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.ImageClassification;

public sealed partial class MhcImageClassificationTrainer
{
    /// <summary>
    /// Builds a transformer for scoring from a weights file, without training: the network the trainer's options describe
    /// (or <paramref name="spec"/>) with the weights of <paramref name="weightsPath"/> (safetensors, or PyTorch
    /// <c>.pt</c>/<c>.pth</c>/<c>.bin</c>), e.g. weights trained in PyTorch or saved with
    /// <see cref="MhcImageClassificationTransformer.SaveWeights"/>.
    /// </summary>
    /// <remarks>
    /// The class count and class names come from the key-typed label column of <paramref name="inputSchema"/> (as for
    /// <see cref="Fit"/>); the input standardisation comes from the file's <c>input_mean</c> and <c>input_std</c>. The
    /// result scores, saves and loads like a trained transformer; its <see cref="MhcImageClassificationTransformer.TrainingHistory"/>
    /// has no epochs.
    /// </remarks>
    /// <param name="inputSchema">The schema of the data to score: the label column (key type) and the feature column.</param>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="spec">The network; null: <see cref="CreateSpec"/> of the trainer's options for the label's class count.</param>
    /// <exception cref="ArgumentException">The columns do not fit, or <paramref name="spec"/> disagrees with the label's class count.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the network; the message names each tensor.</exception>
    public MhcImageClassificationTransformer FromWeights(DataViewSchema inputSchema, string weightsPath, ImageClassifierSpec? spec = null)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        var o = TrainerOptions;
        o.Validate();
        var label = KeyColumnInfo.FromSchema(inputSchema, o.LabelColumnName);
        spec ??= CreateSpec(o, label.Count);
        if (spec.NumClasses != label.Count)
            throw new ArgumentException(
                $"The spec has {spec.NumClasses} classes but the label column '{o.LabelColumnName}' has {label.Count}.", nameof(spec));
        var feature = ImageFeatureColumn.FromSchema(inputSchema, o.FeatureColumnName, spec.Channels, spec.ImageHeight, spec.ImageWidth);
        return TrainingSession.FromWeights(o, CatalogEnvironment.ResolveSeed(environment, LoadName, o.Seed), () => new ImageClassifierNetwork(spec),
            weightsPath, (network, device, history) => new MhcImageClassificationTransformer(ml, inputSchema, feature, label,
                new ImageClassifierEngine(network, device, nameof(MhcImageClassificationTransformer)),
                o.ScoreColumnName, o.PredictedLabelColumnName, o.ScoringBatchSize, history));
    }
}
