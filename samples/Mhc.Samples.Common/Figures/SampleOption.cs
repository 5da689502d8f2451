namespace Mhc.Samples.Figures;

/// <summary>A command-line option a sample accepts: <c>--name</c> alone (a flag) or <c>--name value</c>.</summary>
/// <param name="Name">Name without the leading dashes, e.g. <c>json</c>.</param>
/// <param name="ValueName">Placeholder shown in help for the value (e.g. <c>PATH</c>); null for a flag.</param>
/// <param name="Help">One-line description.</param>
public sealed record SampleOption(string Name, string? ValueName, string Help)
{
    /// <summary>True when the option takes a value.</summary>
    public bool TakesValue => ValueName is not null;

    /// <summary>How the option is written, e.g. <c>--json PATH</c>.</summary>
    public string Syntax => TakesValue ? $"--{Name} {ValueName}" : $"--{Name}";
}
