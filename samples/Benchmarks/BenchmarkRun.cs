using System.Text.Json.Nodes;

namespace Benchmarks;

/// <summary>What a suite gets: the run's settings, and the place its figures go.</summary>
public sealed class BenchmarkRun
{
    private readonly List<KeyValuePair<string, object?>> figures = [];

    /// <summary>Creates a run.</summary>
    /// <param name="quick">Small sizes and few repeats (the test suite's smoke run); figures are then not meaningful.</param>
    /// <param name="outDirectory">Folder for files a suite writes besides the JSON, or null.</param>
    /// <param name="log">Where progress lines go.</param>
    public BenchmarkRun(bool quick, string? outDirectory, Action<string> log)
    {
        Quick = quick;
        OutDirectory = outDirectory;
        Log = log;
    }

    /// <summary><c>--quick</c>: smoke-test sizes.</summary>
    public bool Quick { get; }

    /// <summary><c>--out DIR</c>, or null.</summary>
    public string? OutDirectory { get; }

    /// <summary>Progress output.</summary>
    public Action<string> Log { get; }

    /// <summary>The figures added so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Figures => figures;

    /// <summary>Adds a figure (null, string, bool, number or <see cref="JsonObject"/>); names must be unique in the run.</summary>
    public void Add(string name, object? value)
    {
        if (figures.Any(f => f.Key == name))
            throw new InvalidOperationException($"Figure '{name}' was added twice; each suite must use its own names.");
        figures.Add(new(name, value));
    }
}
