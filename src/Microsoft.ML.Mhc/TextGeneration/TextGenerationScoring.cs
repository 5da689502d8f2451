using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>A loaded text-generation model and the columns it was trained to read and write.</summary>
/// <param name="Generator">The decoded generator.</param>
/// <param name="Columns">The saved column names.</param>
internal sealed record LoadedTextModel(TextGenerator Generator, TextGenerationColumns Columns);

/// <summary>
/// Text generation's scoring step in a loaded model: the saved segment (prompt in, generated text out, one row per
/// <see cref="TextGenerationMapping"/> call) is replaced by the view the trained transformer's <c>Transform</c> gives
/// (<see cref="TextGenerationDataView"/>), so the loaded model adds the same columns as the fresh one, the per-row
/// likelihood of a text column included.
/// </summary>
internal sealed class TextGenerationScoring : ILoadedScoring
{
    public Type MappingInput => typeof(TextGenerationMappingInput);

    public Func<IDataView, IDataView> CreateStep(ReadOnlyMemory<char> network, ITransformer stock, DataViewSchema inputSchema, ScoringSettings settings)
    {
        var model = TextGenerationMapping.Cache.Get(network);
        return input => new TextGenerationDataView(input, model.Generator, model.Columns);
    }
}
