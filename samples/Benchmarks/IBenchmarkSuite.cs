namespace Benchmarks;

/// <summary>
/// One concern the benchmark measures (mixing cost, contention, ...). Suites are found by reflection, so a new
/// suite is one new class; each adds its figures under its own key names to the run's single JSON object.
/// </summary>
public interface IBenchmarkSuite
{
    /// <summary>Name used by <c>--suite</c> (lower case, no spaces).</summary>
    string Name { get; }

    /// <summary>One line for the help text.</summary>
    string Description { get; }

    /// <summary>Runs the suite and adds its figures to <paramref name="run"/>.</summary>
    void Run(BenchmarkRun run);
}
