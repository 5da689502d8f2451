using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// The lazy output of <see cref="MhcTextGenerationTransformer.Transform"/>: the input columns plus
/// <c>GeneratedText</c> (when the prompt column is present) and the per-row scores (when the text column
/// is present). A value is computed only when a cursor reads it, once per row.
/// </summary>
internal sealed class TextGenerationDataView : IDataView
{
    private readonly IDataView input;
    private readonly TextGenerator generator;
    private readonly TextGenerationColumns columns;
    private readonly IReadOnlyList<TextGenerationColumns.Output> outputs;

    public TextGenerationDataView(IDataView input, TextGenerator generator, TextGenerationColumns columns)
    {
        this.input = input;
        this.generator = generator;
        this.columns = columns;
        outputs = columns.Added(input.Schema);
        if (outputs.Count == 0)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"The data has neither the prompt column '{columns.Prompt}' nor the text column '{columns.Text}' (text). " +
                $"Available columns: {string.Join(", ", input.Schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"))}.");
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        foreach (var o in outputs) builder.AddColumn(o.Name, o.Type);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => input.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        int inputCount = input.Schema.Count;
        var active = outputs.Select((_, i) => needed.Contains(inputCount + i)).ToArray();
        var sources = new HashSet<int>(input.Schema.Where(c => needed.Contains(c.Index)).Select(c => c.Index));
        for (int i = 0; i < outputs.Count; i++)
            if (active[i]) sources.Add(input.Schema[SourceOf(outputs[i].Name)].Index);
        return new Cursor(this, input.GetRowCursor(sources.Select(i => input.Schema[i]), rand), active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private string SourceOf(string output) => output == columns.GeneratedText ? columns.Prompt : columns.Text;

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TextGenerationDataView parent;
        private readonly DataViewRowCursor inner;
        private readonly bool[] active;
        private readonly int inputCount;
        private long generatedAt = -1, scoredAt = -1;
        private string generated = "";
        private (double Nats, long Tokens) score;

        public Cursor(TextGenerationDataView parent, DataViewRowCursor inner, bool[] active)
        {
            this.parent = parent;
            this.inner = inner;
            this.active = active;
            inputCount = parent.input.Schema.Count;
        }

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => inner.Position;
        public override long Batch => inner.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();
        public override bool MoveNext() => inner.MoveNext();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < inputCount ? inner.IsColumnActive(parent.input.Schema[column.Index]) : active[column.Index - inputCount];

        private string Source(string output)
        {
            var getter = inner.GetGetter<ReadOnlyMemory<char>>(parent.input.Schema[parent.SourceOf(output)]);
            ReadOnlyMemory<char> value = default;
            getter(ref value);
            return value.ToString();
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < inputCount) return inner.GetGetter<TValue>(parent.input.Schema[column.Index]);
            int o = column.Index - inputCount;
            if (!active[o]) throw new InvalidOperationException($"Column '{column.Name}' was not requested from this cursor.");
            var name = parent.outputs[o].Name;
            Delegate getter;
            if (name == parent.columns.GeneratedText)
            {
                getter = (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) =>
                {
                    if (generatedAt != inner.Position)
                    {
                        generated = parent.generator.Generate(Source(name));
                        generatedAt = inner.Position;
                    }
                    v = generated.AsMemory();
                });
            }
            else
            {
                bool nats = name == DefaultColumnNames.NegativeLogLikelihood;
                getter = (ValueGetter<float>)((ref float v) =>
                {
                    if (scoredAt != inner.Position)
                    {
                        score = parent.generator.Engine.Score(Source(name));
                        scoredAt = inner.Position;
                    }
                    v = nats ? (float)score.Nats : score.Tokens;
                });
            }
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {parent.outputs[o].Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
