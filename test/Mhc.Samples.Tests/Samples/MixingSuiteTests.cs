using System.Text.Json;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// Runs the mixing benchmark in quick mode on the real data (it sets libtorch's thread count, so with the other
/// sample runs, one at a time): every figure of the contract is there, and the profile covers every network
/// and connection.
/// </summary>
[Collection(SampleRunCollection.Name)]
public class MixingSuiteTests
{
    private static readonly string[] Ratios =
    [
        "resnet_mhc_over_residual", "resnet_hc_over_residual", "decoder_mhc_over_residual", "decoder_hc_over_residual",
        "mlp_mhc_over_residual", "mlp_hc_over_residual",
    ];

    [Fact]
    public void QuickRun_WritesTheFiguresAndTheProfile()
    {
        using var dir = new TempDirectory();
        string json = dir.File("bench.json");

        int exit = Benchmarks.Program.Main(["--suite", "mixing", "--quick", "--json", json]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        foreach (var key in Ratios.Append("generate_chars_per_second").Append("threads"))
        {
            Assert.True(f.ContainsKey(key), $"missing figure '{key}'");
            Assert.Equal(JsonValueKind.Number, f[key].ValueKind);
            Assert.True(f[key].GetDouble() > 0 && double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");
        }
        Assert.Equal(1, f["threads"].GetInt32());
        if (OperatingSystem.IsLinux())
            foreach (var key in Ratios.Select(r => r + "_cpu"))
                Assert.True(f[key].GetDouble() > 0 && double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");

        var profile = f["profile"];
        foreach (var network in new[] { "resnet", "decoder", "mlp" })
            foreach (var kind in new[] { "residual", "hc", "mhc" })
            {
                var sections = profile.GetProperty(network).GetProperty(kind);
                foreach (var section in new[] { "phi_norm", "sinkhorn", "mixing", "branch", "other", "optimizer", "step" })
                    Assert.True(sections.GetProperty(section).GetDouble() >= 0, $"{network}/{kind}/{section}");
                Assert.True(sections.GetProperty("branch").GetDouble() > 0, $"{network}/{kind}: no branch time");
                Assert.True(sections.GetProperty("forward").GetProperty("branch").GetDouble() > 0);
                Assert.True(sections.GetProperty("backward").GetProperty("branch").GetDouble() > 0);
            }
        // Only mHC has a Sinkhorn projection; only the hyper-connections have a dynamic projection.
        Assert.True(profile.GetProperty("decoder").GetProperty("mhc").GetProperty("sinkhorn").GetDouble() > 0);
        Assert.Equal(0, profile.GetProperty("decoder").GetProperty("hc").GetProperty("sinkhorn").GetDouble());
        Assert.Equal(0, profile.GetProperty("mlp").GetProperty("residual").GetProperty("phi_norm").GetDouble());
        Assert.True(profile.GetProperty("mlp").GetProperty("mhc").GetProperty("phi_norm").GetDouble() > 0);
        Assert.True(profile.GetProperty("generate").GetProperty("token").GetDouble() > 0);
    }

    [Theory]
    [InlineData("mixing-resnet", "resnet", "decoder")]
    [InlineData("mixing-decoder", "decoder", "resnet")]
    public void OneNetworkRun_WritesThatNetworksRatiosAndProfileOnly(string suite, string network, string other)
    {
        using var dir = new TempDirectory();
        string json = dir.File($"{network}.json");

        int exit = Benchmarks.Program.Main(["--suite", suite, "--quick", "--json", json]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        foreach (var key in new[] { $"{network}_mhc_over_residual", $"{network}_hc_over_residual", $"{network}_mhc_over_residual_cpu" })
            Assert.True(f[key].GetDouble() > 0 && double.IsFinite(f[key].GetDouble()), $"{key} = {f[key]}");
        Assert.False(f.ContainsKey($"{other}_mhc_over_residual"));
        Assert.True(f["profile"].GetProperty(network).GetProperty("mhc").GetProperty("mixing").GetDouble() > 0);
    }

    [Fact]
    public void BlocksRun_WritesTheWholeStepAndEveryBlock()
    {
        using var dir = new TempDirectory();
        string json = dir.File("blocks.json");

        int exit = Benchmarks.Program.Main(["--suite", "mixing-blocks", "--quick", "--json", json]);

        Assert.Equal(0, exit);
        var f = FiguresJson.Read(json);
        Assert.True(f["step_fastest_mhc_over_residual"].GetDouble() > 0);
        foreach (var block in new[] { "block0", "block1", "block2" })
            foreach (var kind in new[] { "residual", "mhc" })
                Assert.True(f[$"{block}_{kind}_ms"].GetDouble() > 0, $"{block} {kind}");
    }
}
