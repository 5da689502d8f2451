using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.TextGeneration;

namespace Mhc.Samples.Tests.Samples;

/// <summary>Runs the text-generation sample in quick mode on the real Jane Austen text, so the sample never rots.</summary>
[Collection(SampleRunCollection.Name)]
public class TextGenerationTests
{
    [Fact]
    public void QuickRun_TrainsEvaluatesSavesReloads_AndWritesTheFigures()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mhc-text-sample-{Guid.NewGuid():N}");
        var json = Path.Combine(dir, "figures.json");
        try
        {
            int code = TextGenerationSample.Run(["--quick", "--json", json, "--out", dir, "--connection", "mhc"]);
            Assert.Equal(0, code);
            var figures = FiguresJson.Read(json);
            foreach (var name in new[]
                     {
                         "val_nats_per_char", "val_bits_per_char", "train_seconds", "generate_chars_per_second",
                         "generate_chars_per_second_no_cache", "peak_memory_mb", "connection", "sample_text",
                     })
                Assert.True(figures.ContainsKey(name), $"figure '{name}' is missing");
            double nats = figures["val_nats_per_char"].GetDouble();
            int vocab = figures["vocab_size"].GetInt32();
            // A few dozen steps already beat the uniform guess over the characters, yet are far from done.
            Assert.InRange(nats, 0.5, Math.Log(vocab) - 0.3);
            Assert.Equal(nats / Math.Log(2), figures["val_bits_per_char"].GetDouble(), 6);
            Assert.Equal("mhc", figures["connection"].GetString());
            Assert.True(figures["generate_chars_per_second"].GetDouble() > 0);
            Assert.True(figures["generate_chars_per_second_no_cache"].GetDouble() > 0);
            Assert.True(figures["reload_same_text"].GetBoolean(), "the reloaded model must generate the same passage");
            Assert.StartsWith("It is a truth universally acknowledged", figures["sample_text"].GetString());
            Assert.True(figures["sample_text"].GetString()!.Length > "It is a truth universally acknowledged".Length);
            Assert.True(File.Exists(Path.Combine(dir, "AustenModel.mlnet")));
            Assert.Equal(JsonValueKind.Number, figures["peak_memory_mb"].ValueKind);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void UnknownConnection_IsRefused()
    {
        Assert.Equal(2, TextGenerationSample.Run(["--quick", "--connection", "dense", "--out", Path.GetTempPath()]));
    }
}
