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
/// chain of stock transforms that carries it (<see cref="SavedScoringChain"/>).
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

    public static TextGenerator Decode(SerializedNetwork serialized)
    {
        MhcEnvironment.EnsureTorch();
        var config = JsonNode.Parse(serialized.ConfigJson)?.AsObject() ?? throw new InvalidDataException("The text-generation model has an empty configuration.");
        LegacyOptionsJson.Upgrade(config["network"] as JsonObject);
        var networkOptions = config["network"].Deserialize<HyperDecoderTransformerOptions>(Json)
            ?? throw new InvalidDataException("The text-generation model has no network options.");
        var vocabulary = TextVocabulary.FromJson(config["vocabulary"]?.AsObject() ?? throw new InvalidDataException("The text-generation model has no vocabulary."));
        var generation = config["generation"].Deserialize<TextGenerationOptions>(Json) ?? new TextGenerationOptions();
        var network = new HyperDecoderTransformer(networkOptions);
        NetworkWeights.Load(network, serialized.Weights);
        return new TextGenerator(new TextGenerationEngine(network, vocabulary, $"loaded mHC {TextGenerationMapping.NetworkKind} model"), generation);
    }

    /// <summary>The chain a model is saved as: prompt column in, generated-text column out.</summary>
    public static TransformerChain<ITransformer> Chain(MLContext ml, DataViewSchema inputSchema, string encoded, TextGenerationColumns columns) =>
        // The network lookup reads no input column and comes first, so Find can reach it from any row.
        SavedScoringChain.Compose(ml, inputSchema,
            SavedScoringChain.NetworkLookup(ml, encoded),
            ml.Transforms.CopyColumns(TextGenerationMapping.PromptColumn, columns.Prompt),
            ml.Transforms.CustomMapping<TextGenerationMappingInput, TextGenerationMappingOutput>(TextGenerationMapping.Map, TextGenerationMapping.ContractName),
            ml.Transforms.CopyColumns(columns.GeneratedText, TextGenerationMapping.GeneratedColumn));

    /// <summary>
    /// The generator inside a model: the transformer itself, or the network column of a loaded chain,
    /// found by running the chain's transforms on one row until that column appears.
    /// </summary>
    public static TextGenerator? Find(MLContext ml, ITransformer model)
    {
        switch (model)
        {
            case MhcTextGenerationTransformer t:
                return t.Generator;
            case IEnumerable<ITransformer> chain:
                var parts = chain.ToList();
                foreach (var part in parts)
                    if (Find(ml, part) is { } inner) return inner;
                return FromChain(ml, parts);
            default:
                return null;
        }
    }

    private static TextGenerator? FromChain(MLContext ml, IReadOnlyList<ITransformer> parts)
    {
        if (parts.Count == 0) return null;
        // A saved text-generation chain starts with the network lookup, which reads no input column.
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new SavedNetworks.EmptyRow() });
        foreach (var part in parts.Take(3))
        {
            try
            {
                data = part.Transform(data);
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;   // this chain needs input columns first: not a text-generation model
            }
            var column = data.Schema.GetColumnOrNull(SavedScoringChain.NetworkColumn);
            if (column is null) continue;
            using var cursor = data.GetRowCursor([column.Value]);
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column.Value);
            ReadOnlyMemory<char> blob = default;
            if (!cursor.MoveNext()) return null;
            getter(ref blob);
            return SerializedNetwork.KindOf(blob.Span) == TextGenerationMapping.NetworkKind ? TextGenerationMapping.Cache.Get(blob) : null;
        }
        return null;
    }
}
