using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// An empty data view with a given schema: lets stock estimators be fitted for their schema alone
/// (e.g. when a saved-model chain is assembled) without keeping the training data alive.
/// </summary>
internal sealed class SchemaOnlyDataView : IDataView
{
    /// <summary>Creates an empty view with <paramref name="schema"/>.</summary>
    public SchemaOnlyDataView(DataViewSchema schema) => Schema = schema ?? throw new ArgumentNullException(nameof(schema));

    /// <inheritdoc />
    public bool CanShuffle => true;

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <inheritdoc />
    public long? GetRowCount() => 0;

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new EmptyCursor(Schema);

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [new EmptyCursor(Schema)];

    private sealed class EmptyCursor(DataViewSchema schema) : DataViewRowCursor
    {
        public override DataViewSchema Schema { get; } = schema;
        public override long Position => -1;
        public override long Batch => 0;
        public override bool MoveNext() => false;
        public override bool IsColumnActive(DataViewSchema.Column column) => false;
        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            throw new InvalidOperationException("An empty view has no rows.");
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            throw new InvalidOperationException($"An empty view has no values (column '{column.Name}').");
    }
}
