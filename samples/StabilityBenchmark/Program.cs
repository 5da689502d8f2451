namespace StabilityBenchmark;

/// <summary>Entry point; <see cref="Benchmark.Run"/> is public so tests can run the benchmark in-process.</summary>
public static class Program
{
    /// <summary>Runs the benchmark; see <c>--help</c>.</summary>
    public static int Main(string[] args) => Benchmark.Run(args);
}
