using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The benchmark seeds torch's process-wide generator and sets its thread count, so it runs alone,
/// after the parallel tests, and cannot disturb another sample's seeded run.
/// </summary>
[CollectionDefinition(nameof(StabilityBenchmarkTests), DisableParallelization = true)]
public sealed class StabilityBenchmarkCollection;

[Collection(nameof(StabilityBenchmarkTests))]
public class StabilityBenchmarkTests
{
    private static readonly string[] ContractKeys =
    [
        "depth", "residual_gain", "hc_gain", "mhc_gain", "hc_overhead", "mhc_overhead",
        "residual_final_loss", "hc_final_loss", "mhc_final_loss",
    ];

    [Fact]
    public void QuickRun_WritesTheFiguresContract_AndMhcStaysAtGainOne()
    {
        using var dir = new TempDirectory();
        string json = dir.File("figures.json");

        int exit = StabilityBenchmark.Benchmark.Run(["--quick", "--json", json, "--out", dir.Path]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        foreach (var key in ContractKeys)
        {
            Assert.True(f.ContainsKey(key), $"missing figure '{key}'");
            Assert.Equal(JsonValueKind.Number, f[key].ValueKind);
            Assert.True(double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");
        }
        double D(string key) => f[key].GetDouble();
        Assert.True(D("depth") >= 64, "the benchmark stack must be at least 64 blocks deep");

        // mHC's doubly stochastic mixing keeps the composite gain at 1, at init, with random raw
        // parameters, and after training.
        Assert.InRange(D("mhc_gain"), 0.9, 1.1);
        Assert.InRange(D("mhc_gain_random_init"), 0.9, 1.1);
        Assert.InRange(D("mhc_backward_gain_random_init"), 0.9, 1.1);
        Assert.InRange(D("mhc_gain_trained"), 0.9, 1.1);
        // The same raw parameters unconstrained (HC) compound over 64 layers.
        Assert.True(D("hc_gain_random_init") > 2, $"hc_gain_random_init = {D("hc_gain_random_init")}");
        Assert.Equal(1.0, D("residual_gain"));

        foreach (var kind in new[] { "residual", "hc", "mhc" })
        {
            Assert.True(D($"{kind}_final_loss") < D($"{kind}_first_loss"), $"{kind} did not learn");
            Assert.InRange(D($"{kind}_test_accuracy"), 0.3, 1.0);
            Assert.True(D($"{kind}_step_ms") > 0);
            Assert.False(f[$"{kind}_diverged"].GetBoolean());
        }
        Assert.True(D("hc_overhead") > -1 && D("mhc_overhead") > -1);

        var png = File.ReadAllBytes(f["chart"].GetString()!);
        Assert.True(png.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void BadArguments_ExitWithUsageError()
    {
        Assert.Equal(2, StabilityBenchmark.Benchmark.Run(["--depth", "zero"]));
        Assert.Equal(2, StabilityBenchmark.Benchmark.Run(["--connection", "hc"]));
        Assert.Equal(0, StabilityBenchmark.Benchmark.Run(["--help"]));
    }
}
