namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>Finding a column of a <see cref="SchemaShape"/> by name (ML.NET 5 keeps its own lookup internal).</summary>
internal static class SchemaShapeColumns
{
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
}
