using Mhc.Samples.Figures;

namespace Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project samples/Benchmarks -- --json FILE [--quick] [--suite NAME,...]</c>: runs the
/// benchmark suites in one process and writes all their figures to one JSON object.
/// </summary>
public static class Program
{
    private static readonly SampleOption SuiteOption = new("suite", "NAMES", "comma-separated suites to run (default: all)");

    /// <summary>Every suite in this assembly, by name.</summary>
    public static IReadOnlyList<IBenchmarkSuite> Suites { get; } = typeof(Program).Assembly.GetTypes()
        .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
        .OrderBy(s => s.Name, StringComparer.Ordinal)
        .ToArray();

    /// <summary>Runs the benchmark; see <c>--help</c>.</summary>
    public static int Main(string[] args) => SampleRunner.Run(args, "Benchmarks", [SuiteOption], SelectSuites, Execute);

    private static IReadOnlyList<IBenchmarkSuite> SelectSuites(SampleArgs args)
    {
        if (args.GetValue("suite") is not { } names) return Suites;
        var selected = new List<IBenchmarkSuite>();
        foreach (var name in names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var suite = Suites.FirstOrDefault(s => s.Name == name)
                ?? throw new ArgumentException($"--suite: unknown suite '{name}'; known: {string.Join(", ", Suites.Select(s => s.Name))}.");
            selected.Add(suite);
        }
        return selected;
    }

    private static int Execute(SampleArgs args, IReadOnlyList<IBenchmarkSuite> suites)
    {
        var run = new BenchmarkRun(args.Quick, args.OutDirectory, line => Console.WriteLine(line));
        foreach (var suite in suites)
        {
            run.Log($"== {suite.Name}: {suite.Description}");
            suite.Run(run);
        }
        if (args.JsonPath is { } path)
        {
            FiguresJson.Write(path, run.Figures);
            run.Log($"figures: {path}");
        }
        return 0;
    }
}
