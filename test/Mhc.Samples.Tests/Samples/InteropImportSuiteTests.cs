using System.Text.Json;
using Benchmarks;
using Mhc.Models.Weights;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;
using Microsoft.ML.Mhc.ImageClassification;
using static TorchSharp.torch;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The C# half of the PyTorch route (interop/pytorch/train_ddp.py, which CI cannot run): given a train_ddp.py report
/// and weights, the suite builds the network the report names, scores the fixed MNIST test split with ML.NET
/// <c>Evaluate</c>, and reports an accuracy equal to the network's own argmax accuracy on those digits.
/// </summary>
[Collection(SampleRunCollection.Name)]
public class InteropImportSuiteTests
{
    [Fact]
    public void Run_EvaluatesTheReportedNetwork_WithTheNetworksOwnAccuracy()
    {
        using var dir = new TempDirectory();
        string runDir = dir.File("pytorch-run");
        Directory.CreateDirectory(runDir);
        const string report = """
            {"network": {"base_width": 4, "stage_depths": [1], "connection": "mhc", "expansion_rate": 2, "block": "basic"},
             "world_size": 2, "epochs": 1, "train_seconds": 1.5, "test_count": TEST_COUNT, "pytorch_test_accuracy": 0.25,
             "weights": "hyper_resnet.safetensors"}
            """;
        var test = InteropImportSuite.TestDigits(MnistDigits.Load());
        File.WriteAllText(Path.Combine(runDir, InteropImportSuite.ReportFile), report.Replace("TEST_COUNT", test.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var parsed = InteropImportSuite.PyTorchRun.Read(Path.Combine(runDir, InteropImportSuite.ReportFile));
        Assert.Equal(0.25, parsed.PyTorchTestAccuracy);
        Assert.Equal(2, parsed.TrainerOptions().Mixing.ExpansionRate);

        // Weights of an untrained network of that shape (as a PyTorch run would write them), and its own accuracy.
        manual_seed(3);
        double expected;
        using (var scope = NewDisposeScope())
        {
            var net = new ImageClassifierNetwork(MhcImageClassificationTrainer.CreateSpec(parsed.TrainerOptions(), 10), [0.13f], [0.31f]);
            net.eval();
            ModuleWeights.Save(net, Path.Combine(runDir, parsed.Weights));
            using var noGrad = no_grad();
            var pixels = tensor(test.SelectMany(d => d.Pixels).ToArray()).view(test.Count, 784);
            var predicted = net.forward(pixels).argmax(1).data<long>().ToArray();
            expected = test.Where((d, i) => d.Label == predicted[i].ToString(System.Globalization.CultureInfo.InvariantCulture)).Count() / (double)test.Count;
        }
        string json = dir.File("figures.json");

        int exit = Benchmarks.Program.Main(["--suite", "interop-import", "--out", runDir, "--json", json]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        Assert.Equal(test.Count, f["interop_import_test_digits"].GetInt32());
        Assert.Equal(0.25, f["interop_import_pytorch_accuracy"].GetDouble());
        Assert.Equal(expected, f["interop_import_mlnet_accuracy"].GetDouble(), 12);
        Assert.Equal(JsonValueKind.Number, f["interop_import_train_seconds"].ValueKind);
    }
}
