namespace Mhc.Samples.Data;

/// <summary>
/// A value read from R's serialization format (see <see cref="RUnserializer"/>). Only the types
/// data sets need are modelled; attributes (names, class, dim, ...) hang off every value.
/// </summary>
public abstract class RObject
{
    /// <summary>The value's attributes as a tagged pairlist, or null when it has none.</summary>
    public RPairList? Attributes { get; internal set; }

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    /// <param name="name">Attribute name, e.g. <c>names</c> or <c>class</c>.</param>
    public RObject? Attribute(string name) => Attributes?[name];

    /// <summary>The <c>names</c> attribute as strings (null entries are NA), or null when absent.</summary>
    public IReadOnlyList<string?>? Names => (Attribute("names") as RCharacterVector)?.Values;
}
