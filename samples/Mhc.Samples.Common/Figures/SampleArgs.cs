using System.Globalization;

namespace Mhc.Samples.Figures;

/// <summary>
/// The command line every sample shares: <c>--quick</c>, <c>--json PATH</c>, <c>--out DIR</c>,
/// <c>--connection X</c>, <c>--dataset X</c>, <c>--budget-minutes N</c> and <c>--help</c>, plus any
/// sample-specific options passed to <see cref="Parse(IReadOnlyList{string}, SampleOption[])"/>.
/// Values may be given as <c>--key value</c> or <c>--key=value</c>. Unknown or repeated options,
/// missing values and stray positional arguments fail with an <see cref="ArgumentException"/> that
/// lists the known options.
/// </summary>
public sealed class SampleArgs
{
    /// <summary>The options every sample accepts.</summary>
    public static IReadOnlyList<SampleOption> StandardOptions { get; } =
    [
        new("quick", null, "small, fast run (CI smoke test)"),
        new("json", "PATH", "write the measured figures as a flat JSON object to PATH"),
        new("out", "DIR", "folder for models, plots and other outputs"),
        new("connection", "X", "residual connection to use (e.g. residual, hc, mhc)"),
        new("dataset", "X", "data set to use"),
        new("budget-minutes", "N", "stop after about N minutes of training (N > 0)"),
        new("help", null, "print this help"),
    ];

    private readonly Dictionary<string, string?> _values;

    private SampleArgs(IReadOnlyList<SampleOption> known, Dictionary<string, string?> values)
    {
        KnownOptions = known;
        _values = values;
        Quick = values.ContainsKey("quick");
        Help = values.ContainsKey("help");
        JsonPath = GetValue("json");
        OutDirectory = GetValue("out");
        Connection = GetValue("connection");
        Dataset = GetValue("dataset");
        if (GetValue("budget-minutes") is string budget)
        {
            if (!double.TryParse(budget, NumberStyles.Float, CultureInfo.InvariantCulture, out double minutes) ||
                !double.IsFinite(minutes) || minutes <= 0)
            {
                throw new ArgumentException($"--budget-minutes expects a positive number of minutes, got '{budget}'.");
            }

            BudgetMinutes = minutes;
        }
    }

    /// <summary>All options this parse accepted (standard + sample-specific).</summary>
    public IReadOnlyList<SampleOption> KnownOptions { get; }

    /// <summary><c>--quick</c>: a small, fast run.</summary>
    public bool Quick { get; }

    /// <summary><c>--help</c> was given; the sample should print <see cref="Usage"/> and exit.</summary>
    public bool Help { get; }

    /// <summary><c>--json PATH</c>, or null.</summary>
    public string? JsonPath { get; }

    /// <summary><c>--out DIR</c>, or null.</summary>
    public string? OutDirectory { get; }

    /// <summary><c>--connection X</c>, or null.</summary>
    public string? Connection { get; }

    /// <summary><c>--dataset X</c>, or null.</summary>
    public string? Dataset { get; }

    /// <summary><c>--budget-minutes N</c> (positive), or null.</summary>
    public double? BudgetMinutes { get; }

    /// <summary>
    /// Parses <paramref name="args"/> against the standard options and <paramref name="extraOptions"/>.
    /// </summary>
    /// <param name="args">The command-line arguments (without the program name).</param>
    /// <param name="extraOptions">Sample-specific options; names must not clash with the standard ones.</param>
    public static SampleArgs Parse(IReadOnlyList<string> args, params SampleOption[] extraOptions)
    {
        ArgumentNullException.ThrowIfNull(args);
        var known = StandardOptions.Concat(extraOptions ?? []).ToList();
        var byName = new Dictionary<string, SampleOption>(StringComparer.Ordinal);
        foreach (var option in known)
        {
            if (!byName.TryAdd(option.Name, option))
            {
                throw new ArgumentException($"Option --{option.Name} is declared twice.", nameof(extraOptions));
            }
        }

        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw Error($"Unexpected argument '{arg}': arguments must be options starting with '--'.", known);
            }

            string name = arg[2..];
            string? inlineValue = null;
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            if (!byName.TryGetValue(name, out var spec))
            {
                throw Error($"Unknown option '--{name}'.", known);
            }

            if (values.ContainsKey(name))
            {
                throw Error($"Option '--{name}' is given more than once.", known);
            }

            if (!spec.TakesValue)
            {
                if (inlineValue is not null)
                {
                    throw Error($"Option '--{name}' is a flag and takes no value (got '{inlineValue}').", known);
                }

                values[name] = null;
                continue;
            }

            string? value = inlineValue;
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw Error($"Option '{spec.Syntax}' needs a value.", known);
                }

                value = args[++i];
            }

            if (value.Length == 0)
            {
                throw Error($"Option '{spec.Syntax}' needs a non-empty value.", known);
            }

            values[name] = value;
        }

        return new SampleArgs(known, values);
    }

    /// <summary>The value of a value option (standard or extra), or null when not given.</summary>
    /// <param name="name">Option name without dashes.</param>
    public string? GetValue(string name)
    {
        RequireKnown(name);
        return _values.TryGetValue(name, out var v) ? v : null;
    }

    /// <summary>The value of a positive-integer option, or null when it was not given.</summary>
    /// <param name="name">Option name without dashes.</param>
    /// <exception cref="ArgumentException">The value is not an integer of at least 1.</exception>
    public int? GetPositiveInt(string name)
    {
        if (GetValue(name) is not { } text) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 1)
            throw new ArgumentException($"--{name} expects a positive integer, got '{text}'.");
        return v;
    }

    /// <summary>True when the option (flag or value option) was given.</summary>
    /// <param name="name">Option name without dashes.</param>
    public bool Has(string name)
    {
        RequireKnown(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Help text listing every known option.</summary>
    /// <param name="programName">Name shown in the usage line.</param>
    public string Usage(string programName) => FormatUsage(programName, KnownOptions);

    private void RequireKnown(string name)
    {
        if (!KnownOptions.Any(o => o.Name == name))
        {
            throw new ArgumentException($"Option '--{name}' was not declared; known: {string.Join(", ", KnownOptions.Select(o => o.Syntax))}.", nameof(name));
        }
    }

    private static ArgumentException Error(string message, IReadOnlyList<SampleOption> known) =>
        new($"{message} Known options: {string.Join(", ", known.Select(o => o.Syntax))}.");

    private static string FormatUsage(string programName, IReadOnlyList<SampleOption> known)
    {
        int width = known.Max(o => o.Syntax.Length);
        var lines = known.Select(o => $"  {o.Syntax.PadRight(width)}  {o.Help}");
        return $"usage: {programName} [options]{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
    }
}
