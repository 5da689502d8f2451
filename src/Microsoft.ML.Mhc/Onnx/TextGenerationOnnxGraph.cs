using System.Text.Json;
using Mhc.Models.Onnx;
using Mhc.Models.Transformers;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The ONNX graph of a text-generation model: the decoder with past keys and values
/// (<see cref="DecoderOnnxExport"/>), and the vocabulary in the model's metadata, so that a client with ONNX Runtime
/// alone can encode a prompt and decode what it generates.
/// </summary>
internal static class TextGenerationOnnxGraph
{
    public static void Write(HyperDecoderTransformer network, TextVocabulary vocabulary, Stream stream)
    {
        if (vocabulary.Count != network.Options.VocabSize)
            throw new InvalidDataException($"The vocabulary has {vocabulary.Count} tokens but the decoder expects {network.Options.VocabSize}.");
        var tokens = Enumerable.Range(0, vocabulary.Count).Select(i => vocabulary.Decode([i])).ToArray();
        DecoderOnnxExport.Write(network, stream, new Dictionary<string, string>
        {
            [MhcOnnxNames.TokensMetadata] = JsonSerializer.Serialize(tokens),
            [MhcOnnxNames.DocumentSeparatorMetadata] = JsonSerializer.Serialize(vocabulary.DocumentSeparator),
            [MhcOnnxNames.VocabularyMetadata] = vocabulary.ToJson().ToJsonString(),
        });
    }
}
