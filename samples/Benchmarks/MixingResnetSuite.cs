using System.Text.Json.Nodes;

namespace Benchmarks;

/// <summary>
/// Only network (a) of <see cref="MixingSuite"/>, the Hyper-ResNet: the same interleaved residual / HC / mHC step
/// times, ratios and profile, in a fraction of the time, for work on the ResNet's mixing.
/// </summary>
public sealed class MixingResnetSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "mixing-resnet";

    /// <inheritdoc />
    public string Description => "the mixing suite's Hyper-ResNet only: step time of residual, HC and mHC, per-section profile";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            var profile = new JsonObject();
            MixingSuite.Network(run, sizes, profile, "resnet", kind => MixingWorkload.Resnet(kind, sizes, data));
            run.Add("profile", profile);
        });
    }
}
