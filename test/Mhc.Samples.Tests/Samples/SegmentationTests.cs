using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

// Same collection name as the other sample runs: they train real networks and must not compete for the two cores.
[Collection("sample runs")]
public class SegmentationTests
{
    [Fact]
    public void QuickRun_WritesTheFiguresContract_TheGrid_AndReloadsIdentically()
    {
        using var dir = new TempDirectory();
        string json = dir.File("figures.json");

        int exit = SegmentationSample.Program.Run(["--quick", "--json", json, "--out", dir.Path]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        Assert.Equal("mhc", f["connection"].GetString());
        foreach (var key in new[] { "miou", "pixel_accuracy", "train_seconds", "peak_memory_mb", "plain_miou", "mhc_miou" })
        {
            Assert.True(f.ContainsKey(key), $"missing figure '{key}'");
            Assert.Equal(JsonValueKind.Number, f[key].ValueKind);
            Assert.True(double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");
        }
        Assert.InRange(f["miou"].GetDouble(), 0, 1);
        Assert.InRange(f["pixel_accuracy"].GetDouble(), 0, 1);
        Assert.True(f["train_seconds"].GetDouble() > 0);
        Assert.True(f["peak_memory_mb"].GetDouble() > 0);
        Assert.True(f["reload_identical"].GetBoolean());
        var png = File.ReadAllBytes(dir.File("segmentation-grid.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(File.Exists(dir.File("segmentation-mhc.zip")));
        using var config = JsonDocument.Parse(File.ReadAllText(dir.File("segmentation-run.config.json")));
        Assert.True(config.RootElement.GetProperty("Quick").GetBoolean());
    }

    [Fact]
    public void BadArguments_ExitWithUsageError()
    {
        Assert.Equal(2, SegmentationSample.Program.Run(["--connection", "dense"]));
        Assert.Equal(2, SegmentationSample.Program.Run(["--dataset", "voc"]));
        Assert.Equal(2, SegmentationSample.Program.Run(["--epochs", "zero"]));
    }
}
