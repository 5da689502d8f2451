using System.Text.Json;
using Mhc.Models.Onnx;
using Microsoft.ML.Mhc.Onnx;
using Microsoft.ML.Mhc.Tests.TextGeneration;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// The ML.NET face on a text-generation model: a fitted model exports its decoder with the vocabulary in the
/// metadata, giving the TorchSharp decoder's logits; the same model saved and loaded exports the same file.
/// </summary>
public sealed class TextGenerationOnnxTests(TextGenerationFixture fixture, ITestOutputHelper output) : IClassFixture<TextGenerationFixture>
{
    [Fact]
    public void FittedModel_ExportsTheDecoderAndVocabulary()
    {
        var dir = Directory.CreateTempSubdirectory("mhc-onnx-");
        try
        {
            var path = fixture.Ml.Model.ExportToOnnx(fixture.Model, Path.Combine(dir.FullName, "text.onnx"));
            using var session = new InferenceSession(path);
            var metadata = session.ModelMetadata.CustomMetadataMap;
            var vocabulary = fixture.Model.Vocabulary;
            var tokens = JsonSerializer.Deserialize<string[]>(metadata[MhcOnnxNames.TokensMetadata])!;
            Assert.Equal(Enumerable.Range(0, vocabulary.Count).Select(i => vocabulary.Decode([i])), tokens);
            Assert.Equal(vocabulary.DocumentSeparator, JsonSerializer.Deserialize<int[]>(metadata[MhcOnnxNames.DocumentSeparatorMetadata]));

            var ids = vocabulary.DocumentSeparator.Concat(vocabulary.Encode("the cat sat")).Select(i => (long)i).ToArray();
            float[] expected;
            using (no_grad())
            using (NewDisposeScope())
                expected = fixture.Model.Network.forward(tensor(ids).view(1, -1)).data<float>().ToArray();
            var layers = fixture.Model.Network.Options.Transformer.Layers;
            var t = fixture.Model.Network.Options.Transformer;
            var inputs = new List<(string, OrtValue)> { (DecoderOnnxExport.InputIds, OnnxScoring.Tensor(ids, [1, ids.Length])) };
            for (int i = 0; i < layers; i++)
            {
                inputs.Add((DecoderOnnxExport.PastKeys(i), OnnxScoring.Tensor(Array.Empty<float>(), [1, t.Heads, 0, t.Dim / t.Heads])));
                inputs.Add((DecoderOnnxExport.PastValues(i), OnnxScoring.Tensor(Array.Empty<float>(), [1, t.Heads, 0, t.Dim / t.Heads])));
            }
            using var outputs = OnnxScoring.Run(File.ReadAllBytes(path), inputs, [DecoderOnnxExport.Logits]);
            double diff = OnnxScoring.MaxAbsDiff(expected, outputs[0].GetTensorDataAsSpan<float>().ToArray());
            output.WriteLine($"trained decoder, {ids.Length} tokens: max |logit diff| {diff:E2}, logit range {expected.Min():F2}..{expected.Max():F2}");
            Assert.True(diff <= 1e-4, $"The exported decoder's logits differ by {diff:E3}.");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadedModel_ExportsTheSameFile()
    {
        using var fitted = new MemoryStream();
        MhcOnnx.Export(fixture.Ml, fixture.Model, fitted);
        using var saved = new MemoryStream();
        var prompts = fixture.Ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "the" } });
        fixture.Ml.Model.Save(fixture.Model, prompts.Schema, saved);
        saved.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(saved, out _);
        try
        {
            using var onnx = new MemoryStream();
            MhcOnnx.Export(fixture.Ml, loaded, onnx);
            Assert.Equal(fitted.ToArray(), onnx.ToArray());
        }
        finally
        {
            Persistence.SavedNetworks.Release(loaded);
        }
    }
}
