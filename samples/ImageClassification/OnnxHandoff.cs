using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Onnx;

namespace ImageClassificationSample;

/// <summary>
/// <c>--onnx PATH</c>: exports the trained classifier to ONNX, and writes next to it (<c>PATH.torch.json</c>) what
/// samples/OnnxServing compares against without libtorch: the test split it was scored on, the class names in key
/// order, the TorchSharp model's accuracy, scoring speed and probabilities of every test image.
/// </summary>
internal static class OnnxHandoff
{
    /// <summary>The file name suffix of the reference written next to the .onnx file.</summary>
    public const string ReferenceSuffix = ".torch.json";

    public static string Write(MLContext ml, ITransformer model, MhcImageClassificationTransformer classifier, string path, RunConfig config,
        int? testPerClass, double torchAccuracy, double torchRowsPerSecond, float[][] torchScores)
    {
        var onnxPath = ml.Model.ExportToOnnx(model, path);
        var reference = new Dictionary<string, object?>
        {
            ["dataset"] = config.Dataset,
            ["split_seed"] = 1,
            ["train_fraction"] = 0.8,
            ["test_per_class"] = testPerClass,
            ["test_count"] = torchScores.Length,
            ["class_names"] = classifier.ClassNames,
            ["onnx_input"] = MhcOnnxNames.Features,
            ["onnx_output"] = MhcOnnxNames.Probabilities,
            ["torch_accuracy"] = torchAccuracy,
            ["torch_rows_per_second"] = torchRowsPerSecond,
            ["torch_scores"] = torchScores,
        };
        File.WriteAllText(onnxPath + ReferenceSuffix, JsonSerializer.Serialize(reference));
        return onnxPath;
    }
}
