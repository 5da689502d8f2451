using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>An output column of a <see cref="IBatchScorer"/>: a float vector, a float or a <see cref="uint"/> key.</summary>
/// <param name="Name">Column name.</param>
/// <param name="Type">A known-size <see cref="VectorDataViewType"/> of <see cref="NumberDataViewType.Single"/>, <see cref="NumberDataViewType.Single"/>, or a <see cref="KeyDataViewType"/> over <see cref="uint"/>.</param>
/// <param name="Annotations">Annotations of the column (slot names, key values), or null.</param>
internal sealed record ScoredColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations)
{
    /// <summary>Values per row: the vector size, or 1.</summary>
    public int Width => Type is VectorDataViewType v ? v.Size : 1;

    /// <summary>Whether the column is a key (stored as <see cref="uint"/>).</summary>
    public bool IsKey => Type is KeyDataViewType;

    internal void Check()
    {
        bool ok = Type switch
        {
            VectorDataViewType v => v.ItemType == NumberDataViewType.Single && v.IsKnownSize,
            KeyDataViewType k => k.RawType == typeof(uint),
            _ => Type == NumberDataViewType.Single,
        };
        if (!ok) throw new ArgumentException($"Scored column '{Name}' has unsupported type {Type}.");
    }
}

/// <summary>Output buffers of one scored batch: floats per vector or float column, keys per key column.</summary>
internal sealed class ScoredBatch
{
    private readonly IReadOnlyList<ScoredColumn> columns;
    private readonly float[]?[] floats;
    private readonly uint[]?[] keys;

    /// <summary>Creates buffers for <paramref name="capacity"/> rows.</summary>
    public ScoredBatch(IReadOnlyList<ScoredColumn> columns, int capacity)
    {
        this.columns = columns;
        Capacity = capacity;
        floats = new float[columns.Count][];
        keys = new uint[columns.Count][];
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i].IsKey) keys[i] = new uint[capacity];
            else floats[i] = new float[checked(capacity * columns[i].Width)];
        }
    }

    /// <summary>Rows the buffers hold.</summary>
    public int Capacity { get; }

    /// <summary>The float buffer of column <paramref name="column"/> (rows x width).</summary>
    public float[] Floats(int column) => floats[column] ?? throw new InvalidOperationException($"'{columns[column].Name}' is a key column.");

    /// <summary>The key buffer of column <paramref name="column"/> (1-based keys, 0 = missing).</summary>
    public uint[] Keys(int column) => keys[column] ?? throw new InvalidOperationException($"'{columns[column].Name}' is not a key column.");
}

/// <summary>Scores many rows at once; the engine behind a batched transformer's <c>Transform</c>.</summary>
internal interface IBatchScorer
{
    /// <summary>The input column: a known-size float vector.</summary>
    string InputColumn { get; }

    /// <summary>Floats per input row.</summary>
    int InputLength { get; }

    /// <summary>Rows per call of <see cref="Score"/>.</summary>
    int BatchSize { get; }

    /// <summary>The columns the scorer adds.</summary>
    IReadOnlyList<ScoredColumn> Columns { get; }

    /// <summary>Scores <paramref name="count"/> rows laid out one after another in <paramref name="inputs"/>. Must be thread-safe.</summary>
    void Score(ReadOnlySpan<float> inputs, int count, ScoredBatch outputs);
}
