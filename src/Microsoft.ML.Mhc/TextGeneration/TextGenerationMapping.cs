using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>Input of <see cref="TextGenerationMapping"/>: the prompt and the serialized model.</summary>
internal sealed class TextGenerationMappingInput
{
    /// <summary>The prompt (copied from the user's prompt column).</summary>
    [ColumnName(TextGenerationMapping.PromptColumn)]
    public ReadOnlyMemory<char> Prompt;

    /// <summary>The serialized model (from the saved chain's network lookup).</summary>
    [ColumnName(SavedScoringChain.NetworkColumn)]
    public ReadOnlyMemory<char> Network;
}

/// <summary>Output of <see cref="TextGenerationMapping"/>.</summary>
internal sealed class TextGenerationMappingOutput
{
    /// <summary>The generated continuation (copied to the user's output column).</summary>
    [ColumnName(TextGenerationMapping.GeneratedColumn)]
    public ReadOnlyMemory<char> Generated;
}

/// <summary>
/// The generation step of a saved text-generation model: decodes the model carried by the chain once
/// (per model), then continues each row's prompt with the sampling settings saved with it.
/// </summary>
/// <remarks>Registered by contract name; ML.NET finds it again in a fresh process when loading a model.</remarks>
[CustomMappingFactoryAttribute(ContractName)]
internal sealed class TextGenerationMapping : CustomMappingFactory<TextGenerationMappingInput, TextGenerationMappingOutput>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "Microsoft.ML.Mhc.TextGeneration";

    /// <summary>The kind tag of the serialized model.</summary>
    public const string NetworkKind = "text-generator";

    internal const string PromptColumn = SavedScoringChain.TempPrefix + "prompt";
    internal const string GeneratedColumn = SavedScoringChain.TempPrefix + "generated";

    internal static readonly LoadedNetworkCache<LoadedTextModel> Cache = new(NetworkKind, TextGenerationModelFile.Decode, model => model.Generator.Engine.Dispose());

    /// <inheritdoc />
    public override Action<TextGenerationMappingInput, TextGenerationMappingOutput> GetMapping() => Map;

    internal static void Map(TextGenerationMappingInput input, TextGenerationMappingOutput output)
    {
        var generator = Cache.Get(input.Network).Generator;
        output.Generated = generator.Generate(input.Prompt.ToString()).AsMemory();
    }
}
