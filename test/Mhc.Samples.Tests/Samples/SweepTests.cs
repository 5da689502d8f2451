using System.Text.Json;
using Mhc.Samples.Sweep;

namespace Mhc.Samples.Tests.Samples;

/// <summary>Runs the sweep sample in quick mode on the real MNIST digits, so the sample never rots.</summary>
[Collection(SampleRunCollection.Name)]
public class SweepTests
{
    [Fact]
    public void QuickSweep_WritesContractFiguresAndHistory()
    {
        var dir = Directory.CreateTempSubdirectory("mhc-sweep-").FullName;
        try
        {
            var json = Path.Combine(dir, "sweep.json");
            int code = SweepSample.Run(["--quick", "--json", json, "--out", dir]);
            Assert.Equal(0, code);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            // One successive-halving bracket: two configurations for 1 epoch, the better one promoted to 2.
            Assert.Equal(3, root.GetProperty("trials").GetInt32());
            Assert.Equal("1/2", root.GetProperty("halving_rungs").GetString());
            Assert.Equal("2/1", root.GetProperty("trials_per_rung").GetString());
            double best = root.GetProperty("best_accuracy").GetDouble();
            Assert.InRange(best, 0.0, 1.0);
            Assert.Equal(JsonValueKind.Object, root.GetProperty("best_options").ValueKind);
            Assert.True(root.GetProperty("best_options").TryGetProperty("LearningRate", out _));
            Assert.True(root.GetProperty("seconds").GetDouble() > 0);

            using var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "sweep.mbconfig.json")));
            Assert.Equal(3, history.RootElement.GetProperty("RunHistory").GetProperty("Trials").GetArrayLength());
            Assert.True(new FileInfo(Path.Combine(dir, "sweep-best-training.png")).Length > 1000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
