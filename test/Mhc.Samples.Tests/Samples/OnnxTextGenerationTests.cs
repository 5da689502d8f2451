extern alias serving;

using Microsoft.ML;
using Microsoft.ML.Mhc.Onnx;
using Microsoft.ML.Mhc.TextGeneration;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The serving sample's generation loop (ONNX Runtime only, past keys and values fed back each step) on a decoder
/// exported with <c>ml.Model.ExportToOnnx</c> writes, greedily, the text the TorchSharp model writes, also past the
/// context length (where both start again from the last half of the context).
/// </summary>
[Collection(SampleRunCollection.Name)]
public class OnnxTextGenerationTests
{
    public sealed class TextRow
    {
        public string Text = "";
    }

    [Fact]
    public void GreedyGenerationOverOnnxRuntime_EqualsTheTorchSharpModel()
    {
        string[] lines = ["the cat sat on the mat.", "the dog sat on the log.", "a cat and a dog sat on a mat."];
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new TextRow { Text = lines[i % lines.Length] }));
        using var model = ml.TextGeneration().Trainers.MhcDecoder(new MhcDecoderTrainer.Options
        {
            ContextLength = 16, Dim = 32, Layers = 2, Heads = 2, MlpRatio = 2, ExpansionRate = 2, Dropout = 0,
            MaxEpochs = 2, StepsPerEpoch = 20, BatchSize = 8, LearningRate = 3e-3, NumberOfThreads = 1, Seed = 3,
        }).Fit(train);
        using var dir = new TempDirectory();
        var path = ml.Model.ExportToOnnx(model, dir.File("text.onnx"));

        const string prompt = "the c";
        var expected = model.Generate(prompt, new TextGenerationOptions { TopK = 1, MaxNewTokens = 40 });
        using var generator = new serving::OnnxServingSample.OnnxTextGenerator(path);
        var actual = string.Concat(generator.Generate(prompt, 40));
        Assert.Equal(40, actual.Length);
        Assert.True(actual.Distinct().Count() >= 3, $"A degenerate continuation: '{actual}'.");
        Assert.Equal(expected, actual);

        // The sample's command line: the prompt and its continuation.
        Assert.Equal(0, serving::OnnxServingSample.Program.Main(["--model", path, "--generate", prompt, "--tokens", "10"]));
        Assert.Equal(2, serving::OnnxServingSample.Program.Main(["--model", path, "--generate", "ZQ#", "--tokens", "10"]));
    }
}
