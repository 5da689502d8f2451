using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Figures;

public class FiguresJsonTests
{
    [Fact]
    public void WritesAFlatObjectThatReadsBack()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "nested", "figures.json");

        FiguresJson.Write(path,
        [
            new("accuracy", 0.9125), new("epochs", 3), new("connection", "mhc"), new("quick", true),
            new("loss", double.NaN), new("note", null), new("rss_mb_per_epoch", new List<double> { 812.5, 820, double.NaN }),
        ]);

        var figures = FiguresJson.Read(path);
        Assert.Equal(0.9125, figures["accuracy"].GetDouble());
        Assert.Equal(3, figures["epochs"].GetInt32());
        Assert.Equal("mhc", figures["connection"].GetString());
        Assert.True(figures["quick"].GetBoolean());
        Assert.Equal("NaN", figures["loss"].GetString());
        Assert.Equal(JsonValueKind.Null, figures["note"].ValueKind);
        var series = figures["rss_mb_per_epoch"].EnumerateArray().ToList();
        Assert.Equal([812.5, 820.0], series.Take(2).Select(e => e.GetDouble()));
        Assert.Equal("NaN", series[2].GetString());
        Assert.Equal(new[] { "figures.json" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void OverwritesAndLeavesNoTemporaryFiles()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f.json");

        FiguresJson.Write(path, [new("a", 1)]);
        FiguresJson.Write(path, [new("a", 2)]);

        Assert.Equal(2, FiguresJson.Read(path)["a"].GetInt32());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void RejectsNestedValuesAndDuplicateNamesWithoutTouchingTheTarget()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f.json");
        FiguresJson.Write(path, [new("a", 1)]);

        var nested = Assert.Throws<ArgumentException>(() => FiguresJson.Write(path, [new("b", 1), new("list", new[] { 1, 2 })]));
        var duplicate = Assert.Throws<ArgumentException>(() => FiguresJson.Write(path, [new("b", 1), new("b", 2)]));

        Assert.Contains("'list'", nested.Message);
        Assert.Contains("'b' appears twice", duplicate.Message);
        Assert.Equal(1, FiguresJson.Read(path)["a"].GetInt32());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WritesArraysOfFlatObjects()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f.json");

        FiguresJson.Write(path, [new("cells", new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["depth"] = 16, ["diverged"] = false },
            new System.Text.Json.Nodes.JsonObject { ["depth"] = 32, ["diverged"] = true }))]);

        var cells = FiguresJson.Read(path)["cells"].EnumerateArray().ToList();
        Assert.Equal([16, 32], cells.Select(c => c.GetProperty("depth").GetInt32()));
        Assert.True(cells[1].GetProperty("diverged").GetBoolean());
    }
}
