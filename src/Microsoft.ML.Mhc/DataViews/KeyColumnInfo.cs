using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// What a key-typed label column says about its classes: how many, and the values they stand for
/// (the <c>KeyValues</c> annotation that <c>MapValueToKey</c> attaches), kept so that predicted keys can
/// be mapped back to the same values in memory and after a model is saved and loaded.
/// </summary>
internal sealed class KeyColumnInfo
{
    private KeyColumnInfo(string columnName, int count, DataViewType valueType, Array values, DataViewSchema.Annotations annotations)
    {
        ColumnName = columnName;
        Count = count;
        ValueType = valueType;
        Values = values;
        Annotations = annotations;
    }

    /// <summary>The label column's name.</summary>
    public string ColumnName { get; }

    /// <summary>The number of classes (the key count).</summary>
    public int Count { get; }

    /// <summary>The item type of the key values (text, a number, ...). <see cref="NumberDataViewType.UInt32"/> when the key has none.</summary>
    public DataViewType ValueType { get; }

    /// <summary>The key values, an array of <see cref="ValueType"/>'s raw type, one per class.</summary>
    public Array Values { get; }

    /// <summary>Annotations to put on a predicted-label column (the key values).</summary>
    public DataViewSchema.Annotations Annotations { get; }

    /// <summary>The key type of the predicted label.</summary>
    public KeyDataViewType KeyType => new(typeof(uint), Count);

    /// <summary>The class names as text (for slot names and reports).</summary>
    public string[] Names => Values.Cast<object?>().Select(v => v?.ToString() ?? "").ToArray();

    /// <summary>
    /// Reads the label column: it must be a key type (as produced by <c>MapValueToKey</c>) with at least
    /// two classes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or not a usable key.</exception>
    public static KeyColumnInfo FromSchema(DataViewSchema schema, string columnName, string role = "label")
    {
        var column = ColumnChecks.Require(schema, columnName, role, "a key type (use MapValueToKey)");
        if (column.Type is not KeyDataViewType key)
            throw new ArgumentOutOfRangeException(nameof(columnName),
                $"The {role} column '{columnName}' must be a key type (map it with mlContext.Transforms.Conversion.MapValueToKey(\"{columnName}\")), " +
                $"but it is {column.Type}.");
        // A one-class key is let through: the trainer reads the data first, so empty data is reported as
        // such, and then rejects a single class with the class's name.
        if (key.Count < 1 || key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(columnName),
                $"The {role} column '{columnName}' is a key of unknown or unsupported cardinality ({key.Count}); map it with MapValueToKey.");
        int count = (int)key.Count;
        var kvType = column.Annotations.Schema.GetColumnOrNull(AnnotationKinds.KeyValues)?.Type as VectorDataViewType;
        if (kvType is not null && kvType.Size == count)
        {
            var values = (Array)typeof(KeyColumnInfo).GetMethod(nameof(ReadKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(kvType.ItemType.RawType).Invoke(null, [column])!;
            var builder = new DataViewSchema.Annotations.Builder();
            builder.Add(column.Annotations, name => name == AnnotationKinds.KeyValues);
            return new KeyColumnInfo(columnName, count, kvType.ItemType, values, builder.ToAnnotations());
        }
        var indices = Enumerable.Range(0, count).Select(i => (uint)i).ToArray();
        var indexAnnotations = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<uint>> getter = (ref VBuffer<uint> dst) => dst = new VBuffer<uint>(count, (uint[])indices.Clone());
        indexAnnotations.Add(AnnotationKinds.KeyValues, new VectorDataViewType(NumberDataViewType.UInt32, count), getter);
        return new KeyColumnInfo(columnName, count, NumberDataViewType.UInt32, indices, indexAnnotations.ToAnnotations());
    }

    private static T[] ReadKeyValues<T>(DataViewSchema.Column column)
    {
        VBuffer<T> buffer = default;
        column.GetKeyValues(ref buffer);
        return buffer.DenseValues().ToArray();
    }
}
