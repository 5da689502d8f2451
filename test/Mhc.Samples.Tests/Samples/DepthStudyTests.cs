using System.Text.Json;
using DepthStudy;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

[Collection(SampleRunCollection.Name)]
public class DepthStudyTests
{
    private static readonly string[] CellKeys =
        ["connection", "depth", "learning_rate", "final_loss", "steps_to_target", "max_forward_gain", "max_backward_gain", "spikes", "diverged"];

    [Fact]
    public void QuickRun_WritesEveryCell_AndMhcKeepsItsGainNearOne()
    {
        using var dir = new TempDirectory();
        string json = dir.File("figures.json");

        int exit = Study.Run(["--quick", "--json", json, "--out", dir.Path]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        var cells = f["cells"].EnumerateArray().ToList();
        // Quick grid: 4 connections x depth {4, 8} x peak lr {1e-3, 1e-2}.
        Assert.Equal(16, cells.Count);
        foreach (var name in new[] { "residual", "hc", "mhc", "history" })
            foreach (var depth in new[] { 4, 8 })
                foreach (var lr in new[] { 1e-3, 1e-2 })
                    Assert.Single(cells, c => c.GetProperty("connection").GetString() == name && c.GetProperty("depth").GetInt32() == depth
                        && c.GetProperty("learning_rate").GetDouble() == lr);
        foreach (var c in cells)
        {
            foreach (var key in CellKeys) Assert.True(c.TryGetProperty(key, out _), $"cell without '{key}'");
            Assert.False(c.GetProperty("diverged").GetBoolean(), $"{c} diverged in the quick grid");
            Assert.True(c.GetProperty("final_loss").GetDouble() < c.GetProperty("initial_loss").GetDouble());
        }
        // The doubly stochastic constraint bounds every composite gain by 1 (up to Sinkhorn's residual); HC's is unbounded.
        Assert.InRange(f["mhc_max_gain"].GetDouble(), 0.99, 1.01);
        Assert.True(f["hc_max_gain"].GetDouble() > 1.01, $"hc_max_gain = {f["hc_max_gain"]}");
        Assert.Equal(1.0, f["residual_max_gain"].GetDouble());
        Assert.Equal(JsonValueKind.Array, f["mhc_wins"].ValueKind);
        Assert.True(f["claim_resnet_final_loss"].GetDouble() > 0);

        foreach (var chart in f["charts"].EnumerateArray().Select(c => c.GetString()!))
        {
            var png = File.ReadAllBytes(chart);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
        Assert.Contains(f["charts"].EnumerateArray(), c => c.GetString()!.EndsWith("gains.png", StringComparison.Ordinal));
        Assert.Contains(f["charts"].EnumerateArray(), c => c.GetString()!.EndsWith("history-dashboard.png", StringComparison.Ordinal));
    }

    [Fact]
    public void BadArguments_ExitWithUsageError()
    {
        Assert.Equal(2, Study.Run(["--connections", "resnet"]));
        Assert.Equal(2, Study.Run(["--depths", "0"]));
        Assert.Equal(2, Study.Run(["--connection", "mhc"]));
        Assert.Equal(0, Study.Run(["--help"]));
    }

    [Fact]
    public void LossMetrics_FollowTheirDefinitions()
    {
        // 20 steps: 1.0 ... then a spike of 2.5 at step 15 (> 2 x median 1.0), a final tenth of [0.4, 0.2].
        var loss = Enumerable.Repeat(1.0, 18).Concat([0.4, 0.2]).ToArray();
        loss[14] = 2.5;
        Assert.Equal(1, LossMetrics.Spikes(loss));
        Assert.Equal(0.3, LossMetrics.FinalLoss(loss, 20), 12);
        Assert.False(LossMetrics.Diverged(loss, 20));
        // The 10-step mean first reaches 1.0 at step 1 (mean of one 1.0 value).
        Assert.Equal(1, LossMetrics.StepsToTarget(loss, 1.0));
        Assert.Null(LossMetrics.StepsToTarget(loss, 0.1));
        // A NaN is a spike and a divergence; a run cut short has no final loss; ending above the first loss is divergence.
        Assert.Equal(2, LossMetrics.Spikes([.. loss[..16], double.NaN]));
        Assert.True(LossMetrics.Diverged([.. loss[..16], double.NaN], 20));
        Assert.True(double.IsNaN(LossMetrics.FinalLoss(loss[..16], 20)));
        Assert.True(LossMetrics.Diverged([1.0, 0.5, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9], 10));
    }
}
