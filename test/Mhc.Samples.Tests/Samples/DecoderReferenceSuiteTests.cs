using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The decoder-reference benchmark in quick mode on the real Austen text: it writes the text the PyTorch script reads
/// and a loss curve and validation loss for both connections.
/// </summary>
[Collection(SampleRunCollection.Name)]
public class DecoderReferenceSuiteTests
{
    [Fact]
    public void QuickRun_WritesTheTextAndTheLossFigures()
    {
        using var dir = new TempDirectory();
        string json = dir.File("bench.json");

        int exit = Benchmarks.Program.Main(["--suite", "decoder-reference", "--quick", "--json", json, "--out", dir.Path]);

        Assert.Equal(0, exit);
        var text = Path.Combine(dir.Path, "decoder-reference");
        Assert.True(new FileInfo(Path.Combine(text, "train.txt")).Length > 100_000, "the training text is missing or short");
        Assert.True(new FileInfo(Path.Combine(text, "validation.txt")).Length > 10_000, "the validation text is missing or short");
        var f = FiguresJson.Read(json);
        foreach (var kind in new[] { "mhc", "residual" })
        {
            var windows = f[$"decoder_reference_ours_{kind}_train_loss_windows"].EnumerateArray().Select(e => e.GetDouble()).ToList();
            Assert.Single(windows);
            // Character-level cross-entropy of an untrained model: near ln(vocabulary size), far from 0.
            Assert.InRange(windows[0], 2.0, 6.0);
            Assert.InRange(f[$"decoder_reference_ours_{kind}_validation_loss"].GetDouble(), 2.0, 6.0);
            Assert.True(f[$"decoder_reference_ours_{kind}_ms_per_step"].GetDouble() > 0);
        }
        Assert.Equal(4, f["decoder_reference_steps"].GetInt32());
    }
}
