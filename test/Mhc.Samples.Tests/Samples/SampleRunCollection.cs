namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// Sample runs train real networks; running them one at a time keeps each under its one-minute quick
/// budget on two cores instead of all of them competing for the CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SampleRunCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "sample runs";
}
