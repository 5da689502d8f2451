using System.Reflection;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// <see cref="SchemaShape"/> helpers that ML.NET 5 keeps internal: finding a column by name, and making
/// shape columns for new output columns (through the internal <c>SchemaShape.Create(DataViewSchema)</c>,
/// the only way to get shape columns with the exact types ML.NET's own estimators report).
/// </summary>
internal static class SchemaShapeColumns
{
    private static readonly MethodInfo Create = typeof(SchemaShape).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static,
            [typeof(DataViewSchema)])
        ?? throw new MissingMethodException("SchemaShape.Create(DataViewSchema) is not in this ML.NET version.");

    public static bool TryFind(SchemaShape shape, string name, out SchemaShape.Column column)
    {
        foreach (var c in shape)
            if (c.Name == name)
            {
                column = c;
                return true;
            }
        column = default;
        return false;
    }

    /// <summary>The shape columns of <paramref name="schema"/>.</summary>
    public static IEnumerable<SchemaShape.Column> Of(DataViewSchema schema) => (SchemaShape)Create.Invoke(null, [schema])!;
}
