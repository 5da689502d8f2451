using System.Text.Json.Nodes;
using Microsoft.ML.Mhc.Sweeps;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

public class SweepJsonTests
{
    public sealed class Mixed
    {
        public double LearningRate { get; set; } = 0.002;
        public ToyKind Kind { get; set; } = ToyKind.Gamma;
        public string? Device { get; set; }
        public int[] Widths { get; set; } = [16, 32];
        public float Dropout = 0.1f;
        public Action<string>? Log { get; set; }
        public IDataView? ValidationSet { get; set; }
        public CancellationToken Token { get; set; }
        public double Derived => LearningRate * 2;
    }

    [Fact]
    public void DescribeKeepsSimpleMembersAndDropsTheRest()
    {
        var json = SweepJson.Describe(new Mixed());
        Assert.Equal(["Dropout", "LearningRate", "Kind", "Device", "Widths", "Derived"], json.Select(kv => kv.Key));
        Assert.Equal(0.002, (double)json["LearningRate"]!);
        Assert.Equal("Gamma", (string?)json["Kind"]);
        Assert.Null(json["Device"]);
        Assert.Equal([16, 32], json["Widths"]!.AsArray().Select(n => (int)n!));
        Assert.Equal(0.1f, (float)json["Dropout"]!);
    }

    [Fact]
    public void WriteReplacesTheFileAtomically()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mhc-json-{Guid.NewGuid():N}");
        try
        {
            var path = Path.Combine(dir, "nested", "a.json");
            SweepJson.Write(new JsonObject { ["x"] = 1 }, path);
            SweepJson.Write(new JsonObject { ["x"] = 2 }, path);
            Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(path))!["x"]!);
            Assert.Equal(["a.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, true); }
    }
}
