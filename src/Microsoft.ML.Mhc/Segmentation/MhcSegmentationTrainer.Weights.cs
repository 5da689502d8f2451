using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.Segmentation;

public sealed partial class MhcSegmentationTrainer
{
    /// <summary>
    /// Builds a transformer for scoring from a weights file, without training: the Hyper-UNet the trainer's options
    /// describe (or <paramref name="spec"/>) with the weights of <paramref name="weightsPath"/> (safetensors, or PyTorch
    /// <c>.pt</c>/<c>.pth</c>/<c>.bin</c>), e.g. weights trained in PyTorch or saved with
    /// <see cref="MhcSegmentationTransformer.SaveWeights"/>.
    /// </summary>
    /// <remarks>
    /// Without <paramref name="spec"/>, the class count is <see cref="Options.NumberOfClasses"/> (it cannot come from the
    /// data here, so it must be set). The input standardisation comes from the file. The mask column is not needed.
    /// </remarks>
    /// <param name="inputSchema">The schema of the data to score: the image column.</param>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="spec">The network; null: from the trainer's options.</param>
    /// <exception cref="ArgumentException">The image column does not fit, or neither a spec nor NumberOfClasses gives the class count.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the network; the message names each tensor.</exception>
    public MhcSegmentationTransformer FromWeights(DataViewSchema inputSchema, string weightsPath, SegmentationSpec? spec = null)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        var o = TrainerOptions;
        o.Validate();
        if (spec is null && o.NumberOfClasses < 2)
            throw new ArgumentException(
                $"Set {nameof(Options.NumberOfClasses)} (or pass a spec): without training data it cannot be read from the masks.", nameof(spec));
        spec ??= CreateSpec(o, o.NumberOfClasses);
        var image = SegmentationImageColumn.FromSchema(ml, inputSchema, o.FeatureColumnName, spec.Channels, spec.ImageHeight, spec.ImageWidth);
        return TrainingSession.FromWeights(o, CatalogEnvironment.ResolveSeed(ml, LoadName, o.Seed), () => new SegmentationNetwork(spec),
            weightsPath, (network, device, history) => new MhcSegmentationTransformer(ml, inputSchema, image,
                new SegmentationEngine(network, device, nameof(MhcSegmentationTransformer)),
                o.PredictedMaskColumnName, o.OutputProbabilities ? o.ProbabilitiesColumnName : null, o.ScoringBatchSize, history));
    }
}
