using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// A lazy data view that adds the columns of an <see cref="IBatchScorer"/> to its input, scoring
/// <see cref="IBatchScorer.BatchSize"/> rows per forward pass.
/// </summary>
/// <remarks>
/// A cursor walks the input twice in step: a look-ahead cursor reads only the input vectors of the next
/// batch, the main cursor serves the pass-through columns of the current row. Both are unshuffled
/// cursors of the same view, which ML.NET views serve in the same order; the row ids are compared to
/// make sure, so a view that breaks this fails loudly instead of misaligning scores.
/// </remarks>
internal sealed class BatchedScoringDataView : IDataView
{
    private readonly IDataView input;
    private readonly IBatchScorer scorer;
    private readonly DataViewSchema.Column inputColumn;

    /// <summary>Wraps <paramref name="input"/>, which must have the scorer's input column.</summary>
    public BatchedScoringDataView(IDataView input, IBatchScorer scorer)
    {
        this.input = input ?? throw new ArgumentNullException(nameof(input));
        this.scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        var column = ColumnChecks.Require(input.Schema, scorer.InputColumn, "scoring input", $"a vector of {scorer.InputLength} floats");
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size != scorer.InputLength)
            throw new ArgumentException($"The scoring input column '{scorer.InputColumn}' must be a vector of {scorer.InputLength} floats; found {column.Type}.");
        inputColumn = column;
        foreach (var c in scorer.Columns) c.Check();
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        foreach (var c in scorer.Columns) builder.AddColumn(c.Name, c.Type, c.Annotations);
        Schema = builder.ToSchema();
    }

    /// <summary>Rows cannot be shuffled: scores are computed in input order.</summary>
    public bool CanShuffle => false;

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <inheritdoc />
    public long? GetRowCount() => input.GetRowCount();

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        int inputCount = input.Schema.Count;
        var passThrough = input.Schema.Where(c => needed.Contains(c.Index)).ToList();
        var outputs = Enumerable.Range(0, scorer.Columns.Count).Where(i => needed.Contains(inputCount + i)).ToArray();
        return new Cursor(this, input.GetRowCursor(passThrough), outputs);
    }

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedScoringDataView parent;
        private readonly DataViewRowCursor main;
        private readonly bool[] active;
        private readonly int inputCount;
        private readonly ValueGetter<DataViewRowId> mainId;
        private DataViewRowCursor? ahead;
        private ValueGetter<VBuffer<float>>? aheadFeatures;
        private ValueGetter<DataViewRowId>? aheadId;
        private readonly ScoredBatch? batch;
        private readonly float[]? inputs;
        private readonly DataViewRowId[]? ids;
        private int batchCount, index = -1;
        private bool aheadDone;

        public Cursor(BatchedScoringDataView parent, DataViewRowCursor main, int[] outputs)
        {
            this.parent = parent;
            this.main = main;
            inputCount = parent.input.Schema.Count;
            active = new bool[parent.scorer.Columns.Count];
            foreach (var o in outputs) active[o] = true;
            mainId = main.GetIdGetter();
            if (outputs.Length > 0)
            {
                int size = parent.scorer.BatchSize;
                batch = new ScoredBatch(parent.scorer.Columns, size);
                inputs = new float[checked(size * parent.scorer.InputLength)];
                ids = new DataViewRowId[size];
            }
        }

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => main.Position;
        public override long Batch => main.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => mainId;

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < inputCount ? main.IsColumnActive(parent.input.Schema[column.Index]) : active[column.Index - inputCount];

        public override bool MoveNext()
        {
            if (!main.MoveNext()) return false;
            if (batch is null) return true;
            index++;
            if (index >= batchCount) FillBatch();
            if (index >= batchCount)
                throw new InvalidOperationException("The input data view served more rows to one cursor than to another; it cannot be scored in batches.");
            DataViewRowId id = default;
            mainId(ref id);
            if (!id.Equals(ids![index]))
                throw new InvalidOperationException(
                    "The input data view served rows in a different order to two cursors, so batched scores would not line up. " +
                    "Materialise it first (e.g. mlContext.Data.Cache).");
            return true;
        }

        private void FillBatch()
        {
            index = 0;
            batchCount = 0;
            if (aheadDone) return;
            if (ahead is null)
            {
                ahead = parent.input.GetRowCursor([parent.inputColumn]);
                aheadFeatures = ahead.GetGetter<VBuffer<float>>(parent.inputColumn);
                aheadId = ahead.GetIdGetter();
            }
            int length = parent.scorer.InputLength;
            VBuffer<float> buffer = default;
            while (batchCount < batch!.Capacity && ahead.MoveNext())
            {
                aheadFeatures!(ref buffer);
                if (buffer.Length != length)
                    throw new InvalidOperationException($"Column '{parent.inputColumn.Name}' has {buffer.Length} values at row {ahead.Position}; expected {length}.");
                buffer.CopyTo(inputs.AsSpan(batchCount * length, length));
                aheadId!(ref ids![batchCount]);
                batchCount++;
            }
            if (batchCount < batch.Capacity) aheadDone = true;
            if (batchCount > 0) parent.scorer.Score(inputs.AsSpan(0, batchCount * length), batchCount, batch);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < inputCount) return main.GetGetter<TValue>(parent.input.Schema[column.Index]);
            int o = column.Index - inputCount;
            if (!active[o]) throw new InvalidOperationException($"Column '{column.Name}' was not requested from this cursor.");
            var spec = parent.scorer.Columns[o];
            Delegate getter;
            if (spec.IsKey)
            {
                var keys = batch!.Keys(o);
                getter = (ValueGetter<uint>)((ref uint v) => v = keys[index]);
            }
            else if (spec.Type is VectorDataViewType)
            {
                var values = batch!.Floats(o);
                int width = spec.Width;
                getter = (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    var editor = VBufferEditor.Create(ref v, width);
                    values.AsSpan(index * width, width).CopyTo(editor.Values);
                    v = editor.Commit();
                });
            }
            else
            {
                var values = batch!.Floats(o);
                getter = (ValueGetter<float>)((ref float v) => v = values[index]);
            }
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {spec.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                ahead?.Dispose();
                main.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
