using System.Text.Json;
using System.Text.Json.Serialization;

namespace OnnxServingSample;

/// <summary>
/// What the training run wrote next to the .onnx file (<c>PATH.torch.json</c>): the test split, the class names in the
/// model's key order, and the TorchSharp model's accuracy, scoring speed and probabilities per test image.
/// </summary>
public sealed class TorchReference
{
    [JsonPropertyName("dataset")] public string Dataset { get; set; } = "";
    [JsonPropertyName("split_seed")] public int SplitSeed { get; set; }
    [JsonPropertyName("train_fraction")] public double TrainFraction { get; set; }
    [JsonPropertyName("test_per_class")] public int? TestPerClass { get; set; }
    [JsonPropertyName("test_count")] public int TestCount { get; set; }
    [JsonPropertyName("class_names")] public string[] ClassNames { get; set; } = [];
    [JsonPropertyName("onnx_input")] public string OnnxInput { get; set; } = "";
    [JsonPropertyName("onnx_output")] public string OnnxOutput { get; set; } = "";
    [JsonPropertyName("torch_accuracy")] public double TorchAccuracy { get; set; }
    [JsonPropertyName("torch_rows_per_second")] public double TorchRowsPerSecond { get; set; }
    [JsonPropertyName("torch_scores")] public float[][] TorchScores { get; set; } = [];

    /// <summary>Reads the reference written for <paramref name="onnxPath"/>.</summary>
    /// <exception cref="FileNotFoundException">The training run did not write one (it was run without --onnx).</exception>
    public static TorchReference Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"No TorchSharp reference at {path}. Run the training sample with --onnx first: " +
                "dotnet run --project samples/ImageClassification -c Release -- --onnx out/mnist.onnx", path);
        var reference = JsonSerializer.Deserialize<TorchReference>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty.");
        if (reference.Dataset != "mnist") throw new NotSupportedException($"The serving sample scores MNIST; the model was trained on '{reference.Dataset}'.");
        if (reference.TorchScores.Length != reference.TestCount) throw new InvalidDataException($"{path}: {reference.TorchScores.Length} score rows for {reference.TestCount} test images.");
        return reference;
    }
}
