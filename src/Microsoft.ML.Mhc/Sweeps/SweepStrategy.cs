namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>How a sweep proposes configurations.</summary>
public enum SweepStrategy
{
    /// <summary>Independent random draws (log-uniform on log ranges); the first trial runs the base options unchanged.</summary>
    Random,

    /// <summary>
    /// Every combination of per-member grid values (<see cref="SweepSettings{TOptions}.GridPointsPerRange"/> points
    /// per numeric range, every candidate of a choice), visited in a seeded random order so that a budget that stops
    /// early still covers the space evenly.
    /// </summary>
    Grid,
}
