using System.Text.Json.Nodes;

namespace Benchmarks;

/// <summary>
/// One network of <see cref="MixingSuite"/> alone: the same interleaved residual / HC / mHC step times, ratios and
/// profile, in a fraction of the time, for work on that network's mixing.
/// </summary>
public abstract class MixingNetworkSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract string Description { get; }

    /// <summary>The network's key in the figures (<c>{network}_mhc_over_residual</c>, the profile).</summary>
    protected abstract string Network { get; }

    /// <summary>Builds the network's workload for one connection kind.</summary>
    protected abstract MixingWorkload Build(ConnectionKindWorkload request);

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            var profile = new JsonObject();
            MixingSuite.Network(run, sizes, profile, Network, kind => Build(new ConnectionKindWorkload(kind, sizes, data)));
            run.Add("profile", profile);
        });
    }
}

/// <summary>What a <see cref="MixingNetworkSuite"/> builds a workload from.</summary>
/// <param name="Kind">The connection.</param>
/// <param name="Sizes">The run's sizes.</param>
/// <param name="Data">The run's data.</param>
public sealed record ConnectionKindWorkload(Mhc.Models.Layers.ConnectionKind Kind, MixingSizes Sizes, MixingData Data);
