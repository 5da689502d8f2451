extern alias serving;

using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

public class ImageClassificationSampleTests
{
    private static readonly string[] NumericKeys =
    [
        "accuracy", "macro_accuracy", "log_loss", "train_seconds", "train_samples_per_second",
        "score_samples_per_second_in_memory", "score_samples_per_second_reloaded", "reload_max_score_diff", "peak_memory_mb",
    ];

    [Fact]
    public void QuickRun_WritesTheFiguresContract_AndReloadsIdentically()
    {
        using var dir = new TempDirectory();
        string json = dir.File("figures.json");
        string onnx = dir.File("mnist.onnx");

        int exit = ImageClassificationSample.Sample.Run(["--quick", "--dataset", "mnist", "--json", json, "--out", dir.Path, "--onnx", onnx]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        Assert.Equal("mnist", f["dataset"].GetString());
        Assert.Equal("mhc", f["connection"].GetString());
        foreach (var key in NumericKeys)
        {
            Assert.True(f.ContainsKey(key), $"missing figure '{key}'");
            Assert.Equal(JsonValueKind.Number, f[key].ValueKind);
            Assert.True(double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");
        }
        // Ten classes: chance is 0.1; even the quick run must have learned something.
        Assert.True(f["accuracy"].GetDouble() > 0.15, $"accuracy {f["accuracy"]}");
        Assert.True(f["reload_max_score_diff"].GetDouble() <= 1e-5);
        Assert.True(f["train_samples_per_second"].GetDouble() > 0);
        var rss = f["rss_mb_per_epoch"];
        Assert.Equal(JsonValueKind.Array, rss.ValueKind);
        Assert.Equal(f["epochs"].GetInt32(), rss.GetArrayLength());
        Assert.All(rss.EnumerateArray(), r => Assert.InRange(r.GetDouble(), 1, f["peak_memory_mb"].GetDouble()));
        Assert.Equal(JsonValueKind.Number, f["rss_growth_epoch_2_to_last"].ValueKind);
        Assert.InRange(f["composite_forward_gain"].GetDouble(), 0.99, 1.01);
        Assert.True(File.Exists(f["model_path"].GetString()));
        var png = File.ReadAllBytes(f["curve_png"].GetString()!);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using var config = JsonDocument.Parse(File.ReadAllText(f["run_config"].GetString()!));
        Assert.Equal("ImageClassification", config.RootElement.GetProperty("Scenario").GetString());

        // The serving sample scores the exported model with ApplyOnnxModel: same accuracy, same probabilities.
        Assert.Equal(Path.GetFullPath(onnx), f["onnx_path"].GetString());
        string servingJson = dir.File("serving.json");
        Assert.Equal(0, serving::OnnxServingSample.Program.Main(["--model", onnx, "--json", servingJson]));
        var s = FiguresJson.Read(servingJson);
        Assert.Equal(f["accuracy"].GetDouble(), s["torch_accuracy"].GetDouble());
        Assert.Equal(s["torch_accuracy"].GetDouble(), s["onnx_accuracy"].GetDouble());
        Assert.True(s["max_abs_diff"].GetDouble() <= 1e-4, $"max_abs_diff {s["max_abs_diff"]}");
        Assert.True(s["onnx_rows_per_second"].GetDouble() > 0);
    }

    [Fact]
    public void BadArguments_ExitWithUsageError()
    {
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--connection", "dense"]));
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--dataset", "cifar"]));
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--epochs", "zero"]));
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--architecture", "vit", "--rotate", "-3"]));
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--architecture", "vit", "--shift", "1.5"]));
        Assert.Equal(2, ImageClassificationSample.Sample.Run(["--architecture", "vit", "--smoothing", "much"]));
        Assert.Equal(2, serving::OnnxServingSample.Program.Main(["--model"]));
        Assert.Equal(3, serving::OnnxServingSample.Program.Main(["--model", Path.Combine(Path.GetTempPath(), "no-such-model.onnx")]));
    }

    [Fact]
    public void VisionTransformerRecipes_KeepTheReferenceNetwork_AndDifferInTraining()
    {
        var reference = ImageClassificationSample.RunConfig.ForVisionTransformer("mnist", quick: false);
        var library = ImageClassificationSample.RunConfig.ForVisionTransformer("mnist", quick: false);
        library.UseLibraryRecipe();
        // The network is the reference's MNIST configuration in both.
        foreach (var c in new[] { reference, library })
        {
            Assert.Equal((4, 96, 6, 4, 2, 0.1), (c.PatchSize, c.TransformerDim, c.TransformerLayers, c.TransformerHeads, c.ExpansionRate, c.Dropout));
        }
        Assert.Equal((20, 3e-4, 0, 0.0, 0.0, 0.0), (reference.MaxEpochs, reference.LearningRate, reference.AugmentShiftPixels,
            reference.AugmentRotationDegrees, reference.AugmentScale, reference.LabelSmoothing));
        Assert.Equal((60, 1e-3, 2, 10.0, 0.1, 0.1), (library.MaxEpochs, library.LearningRate, library.AugmentShiftPixels,
            library.AugmentRotationDegrees, library.AugmentScale, library.LabelSmoothing));
        // The sample's default for the vision transformer is the library's recipe (the one that reaches the accuracy
        // target); --recipe reference gives the reference's training settings.
        var byDefault = ImageClassificationSample.Sample.Configure(["--architecture", "vit"]);
        Assert.Equal((library.MaxEpochs, library.LearningRate, library.AugmentRotationDegrees, library.LabelSmoothing),
            (byDefault.MaxEpochs, byDefault.LearningRate, byDefault.AugmentRotationDegrees, byDefault.LabelSmoothing));
        var asReference = ImageClassificationSample.Sample.Configure(["--architecture", "vit", "--recipe", "reference"]);
        Assert.Equal((reference.MaxEpochs, reference.LearningRate, reference.AugmentRotationDegrees, reference.LabelSmoothing),
            (asReference.MaxEpochs, asReference.LearningRate, asReference.AugmentRotationDegrees, asReference.LabelSmoothing));
        Assert.Equal(40, ImageClassificationSample.Sample.Configure(["--architecture", "vit", "--epochs", "40"]).MaxEpochs);
        Assert.Throws<ArgumentException>(() => ImageClassificationSample.Sample.Configure(["--recipe", "reference"]));
        var quick = ImageClassificationSample.RunConfig.ForVisionTransformer("mnist", quick: true);
        quick.UseLibraryRecipe();
        Assert.Equal(3, quick.MaxEpochs);
    }
}
