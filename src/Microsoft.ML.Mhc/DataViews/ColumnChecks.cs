namespace Microsoft.ML.Mhc.DataViews;

/// <summary>Column lookups that fail with a message naming the column, what was expected and what exists.</summary>
internal static class ColumnChecks
{
    /// <summary>Finds <paramref name="columnName"/> or throws, listing the available columns.</summary>
    /// <param name="schema">The schema to look in.</param>
    /// <param name="columnName">The column the options name.</param>
    /// <param name="role">What the column is for ("feature", "label", ...).</param>
    /// <param name="expected">What type it should have, for the message.</param>
    /// <exception cref="ArgumentOutOfRangeException">The column is not in the schema.</exception>
    public static DataViewSchema.Column Require(DataViewSchema schema, string columnName, string role, string expected)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (string.IsNullOrWhiteSpace(columnName))
            throw new ArgumentException($"The {role} column name is empty; it should name a column of {expected}.", nameof(columnName));
        var column = schema.GetColumnOrNull(columnName);
        if (column is null)
        {
            var names = string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"));
            throw new ArgumentOutOfRangeException(nameof(columnName),
                $"The {role} column '{columnName}' ({expected}) was not found. Available columns: {names}.");
        }
        return column.Value;
    }
}
