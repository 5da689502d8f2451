namespace Mhc.Samples.Data;

/// <summary>An R symbol (SYMSXP), e.g. a pairlist tag such as <c>names</c>.</summary>
/// <param name="name">The symbol's print name.</param>
public sealed class RSymbol(string name) : RObject
{
    /// <summary>The symbol's print name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public override string ToString() => Name;
}
