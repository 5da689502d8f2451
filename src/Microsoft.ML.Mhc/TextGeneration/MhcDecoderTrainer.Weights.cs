using Mhc.Models.Transformers;
using TorchSharp;
using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.TextGeneration;

public sealed partial class MhcDecoderTrainer
{
    /// <summary>
    /// Builds a text-generation transformer from a weights file, without training: the decoder the trainer's options
    /// describe with the weights of <paramref name="weightsPath"/> (safetensors, or PyTorch <c>.pt</c>/<c>.pth</c>/<c>.bin</c>),
    /// e.g. saved with <see cref="MhcTextGenerationTransformer.SaveWeights"/>.
    /// </summary>
    /// <remarks>
    /// A weights file holds no vocabulary: it is built, as <see cref="Fit"/> builds it, from the text column of
    /// <paramref name="vocabularyText"/>, which must be the text the weights were trained on (or give the same
    /// characters or tokenizer ids). A vocabulary of another size fails with an <see cref="InvalidDataException"/> naming
    /// the embedding tensor; one of the same size with other tokens cannot be detected.
    /// </remarks>
    /// <param name="vocabularyText">Data whose text column (<see cref="Options.TextColumnName"/>) gives the vocabulary.</param>
    /// <param name="weightsPath">The weights file.</param>
    /// <exception cref="ArgumentException">The text column is missing, not text or empty.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the network; the message names each tensor.</exception>
    public MhcTextGenerationTransformer FromWeights(IDataView vocabularyText, string weightsPath)
    {
        ArgumentNullException.ThrowIfNull(vocabularyText);
        ArgumentException.ThrowIfNullOrWhiteSpace(weightsPath);
        options.Validate();
        var vocabulary = BuildVocabulary(ReadText(vocabularyText, options.TextColumnName, "vocabulary"));
        return TrainingSession.FromWeights(options, CatalogEnvironment.ResolveSeed(context, LoadName, options.Seed),
            () => new HyperDecoderTransformer(options.NetworkOptions(vocabulary.Count)), weightsPath, (network, device, history) =>
            {
                network.to(device);
                return new MhcTextGenerationTransformer(context, network, vocabulary, history,
                    new TextGenerationColumns(options.TextColumnName, options.PromptColumnName, options.GeneratedTextColumnName),
                    options.Generation.Clone());
            });
    }
}
