using System.Text.Json;
using System.Text.Json.Nodes;
using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// The saved form of a text-generation model: the decoder's options, the vocabulary, the sampling
/// settings and the column names as the JSON configuration of a <see cref="SerializedNetwork"/>, and the
/// chain of stock transforms that carries it: one saved scoring segment (<see cref="ScoringSegment"/>).
/// </summary>
internal static class TextGenerationModelFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static string Encode(TextGenerator generator, TextGenerationColumns columns)
    {
        var config = new JsonObject
        {
            ["network"] = JsonSerializer.SerializeToNode(generator.Network.Options, Json),
            ["vocabulary"] = generator.Vocabulary.ToJson(),
            ["generation"] = JsonSerializer.SerializeToNode(generator.DefaultOptions, Json),
            ["columns"] = JsonSerializer.SerializeToNode(columns, Json),
        };
        return new SerializedNetwork(TextGenerationMapping.NetworkKind, config.ToJsonString(), NetworkWeights.ToBytes(generator.Network)).Encode();
    }

    public static LoadedTextModel Decode(SerializedNetwork serialized)
    {
        MhcEnvironment.EnsureTorch();
        var config = JsonNode.Parse(serialized.ConfigJson)?.AsObject() ?? throw new InvalidDataException("The text-generation model has an empty configuration.");
        LegacyOptionsJson.Upgrade(config["network"] as JsonObject);
        var networkOptions = config["network"].Deserialize<HyperDecoderTransformerOptions>(Json)
            ?? throw new InvalidDataException("The text-generation model has no network options.");
        var vocabulary = TextVocabulary.FromJson(config["vocabulary"]?.AsObject() ?? throw new InvalidDataException("The text-generation model has no vocabulary."));
        var generation = config["generation"].Deserialize<TextGenerationOptions>(Json) ?? new TextGenerationOptions();
        var columns = config["columns"].Deserialize<TextGenerationColumns>(Json)
            ?? new TextGenerationColumns(DefaultColumnNames.Text, DefaultColumnNames.Prompt, DefaultColumnNames.GeneratedText);
        var network = new HyperDecoderTransformer(networkOptions);
        NetworkWeights.Load(network, serialized.Weights);
        return new LoadedTextModel(new TextGenerator(new TextGenerationEngine(network, vocabulary, $"loaded mHC {TextGenerationMapping.NetworkKind} model"), generation), columns);
    }

    /// <summary>
    /// The chain a model is saved as: one scoring segment, prompt column in, generated-text column out (generation is
    /// row by row, so its batch size is 1).
    /// </summary>
    public static TransformerChain<ITransformer> Chain(MLContext ml, DataViewSchema inputSchema, string encoded, TextGenerationColumns columns) =>
        ScoringSegment.Saved(ml, inputSchema, encoded, 1, [columns.GeneratedText],
            ml.Transforms.CopyColumns(TextGenerationMapping.PromptColumn, columns.Prompt),
            ml.Transforms.CustomMapping<TextGenerationMappingInput, TextGenerationMappingOutput>(TextGenerationMapping.Map, TextGenerationMapping.ContractName),
            ml.Transforms.CopyColumns(columns.GeneratedText, TextGenerationMapping.GeneratedColumn));

    /// <summary>
    /// The generator inside a model: the transformer itself, or the network of a loaded chain's text-generation
    /// segment (found by the chain's structure, as for every task; models saved before segments carried scoring
    /// settings have the same structure at the top level).
    /// </summary>
    public static TextGenerator? Find(ITransformer model)
    {
        if (InMemory(model) is { } trained) return trained.Generator;
        foreach (var network in ScoringSegment.Networks(model, typeof(TextGenerationMappingInput)))
            return TextGenerationMapping.Cache.Get(network).Generator;
        return null;
    }

    private static MhcTextGenerationTransformer? InMemory(ITransformer model) => model switch
    {
        MhcTextGenerationTransformer t => t,
        IEnumerable<ITransformer> chain => chain.Select(InMemory).FirstOrDefault(t => t is not null),
        _ => null,
    };
}
