using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML;

/// <summary>Adds <c>mlContext.TextGeneration()</c>.</summary>
public static class TextGenerationCatalogExtensions
{
    /// <summary>Text generation with hyper-connection decoders (trainers, evaluation, direct generation).</summary>
    public static TextGenerationCatalog TextGeneration(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new TextGenerationCatalog(mlContext);
    }
}
