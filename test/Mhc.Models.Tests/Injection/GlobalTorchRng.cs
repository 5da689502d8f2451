namespace Mhc.Models.Tests.Injection;

/// <summary>
/// Tests that seed and draw from torch's process-wide generator. They run after the parallel tests, one
/// at a time, so they never interleave draws with (and break) another class's seeded reproducibility check.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchRng
{
    public const string Name = "global torch RNG (injection and diagnostics)";
}
