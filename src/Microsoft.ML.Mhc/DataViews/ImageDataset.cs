using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// Images and key labels read from a data view into flat arrays, ready for batching. Rows whose label is
/// missing (key 0) are skipped, as ML.NET's trainers do; non-finite pixels are an error.
/// </summary>
internal sealed class ImageDataset
{
    private ImageDataset(float[] features, int[] labels, int count, int channels, int height, int width, int skipped)
    {
        Features = features;
        Labels = labels;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        SkippedMissingLabels = skipped;
    }

    /// <summary>Row-major features, <see cref="Count"/> x C x H x W (the array may be longer).</summary>
    public float[] Features { get; }

    /// <summary>0-based class of each row (the key value minus one); -1 when read without labels.</summary>
    public int[] Labels { get; }

    /// <summary>Rows read.</summary>
    public int Count { get; }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Height H.</summary>
    public int Height { get; }

    /// <summary>Width W.</summary>
    public int Width { get; }

    /// <summary>C x H x W.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>Rows skipped because their label was missing.</summary>
    public int SkippedMissingLabels { get; }

    /// <summary>The features of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * Length, Length);

    /// <summary>
    /// Reads <paramref name="data"/>: the feature column (vector or image, converted with stock transforms)
    /// and, when <paramref name="label"/> is given, its key-typed label column.
    /// </summary>
    /// <exception cref="ArgumentException">No usable rows, a non-finite pixel, or a label outside the key range; the message names the column and row.</exception>
    public static ImageDataset Read(MLContext ml, IDataView data, ImageFeatureColumn feature, KeyColumnInfo? label, string dataName,
        CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(data);
        const string column = "__mhc_read_features";
        var vectors = feature.ToVector(ml, column, "__mhc_read_").Fit(data).Transform(data);
        var featureColumn = vectors.Schema[column];
        var labelColumn = label is null ? (DataViewSchema.Column?)null : vectors.Schema[label.ColumnName];
        var needed = labelColumn is { } lc ? new[] { featureColumn, lc } : new[] { featureColumn };
        int length = feature.Length;
        long? rows = data.GetRowCount();
        int capacity = rows is > 0 and < int.MaxValue ? (int)rows.Value : 1024;
        var features = new float[(long)capacity * length];
        var labels = new int[capacity];
        int count = 0, skipped = 0;
        long position = 0;
        using (var cursor = vectors.GetRowCursor(needed))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            ValueGetter<uint>? getLabel = labelColumn is { } l ? cursor.GetGetter<uint>(l) : null;
            VBuffer<float> buffer = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                if ((position & 1023) == 0) token.ThrowIfCancellationRequested();
                position = cursor.Position;
                if (getLabel is not null)
                {
                    getLabel(ref key);
                    if (key == 0) { skipped++; continue; }
                    if (key > label!.Count)
                        throw new ArgumentException($"The label column '{label.ColumnName}' of the {dataName} has key {key} at row {position}, outside its {label.Count} classes.");
                }
                getFeatures(ref buffer);
                if (buffer.Length != length)
                    throw new ArgumentException($"The feature column '{feature.Name}' of the {dataName} has {buffer.Length} values at row {position}; expected {length}.");
                if (count == labels.Length)
                {
                    int grown = checked(labels.Length * 2);
                    Array.Resize(ref labels, grown);
                    Array.Resize(ref features, checked(grown * length));
                }
                var destination = features.AsSpan(count * length, length);
                buffer.CopyTo(destination);
                int bad = IndexOfNonFinite(destination);
                if (bad >= 0)
                    throw new ArgumentException(
                        $"The feature column '{feature.Name}' of the {dataName} has a non-finite value ({destination[bad]}) at row {position}, slot {bad}. " +
                        "Replace missing values first (e.g. mlContext.Transforms.ReplaceMissingValues) or drop such rows.");
                labels[count] = getLabel is null ? -1 : (int)key - 1;
                count++;
            }
        }
        if (count == 0)
            throw new ArgumentException(skipped > 0
                ? $"The {dataName} has no rows with a label: all {skipped} rows have a missing label in '{label!.ColumnName}'."
                : $"The {dataName} is empty: no rows to read from '{feature.Name}'.");
        return new ImageDataset(features, labels, count, feature.Channels, feature.Height, feature.Width, skipped);
    }

    /// <summary>Rows per class (labels must have been read).</summary>
    public int[] ClassCounts(int classes)
    {
        var counts = new int[classes];
        for (int i = 0; i < Count; i++) counts[Labels[i]]++;
        return counts;
    }

    /// <summary>Mean and standard deviation of every channel over all rows (computed in double).</summary>
    public (float[] Mean, float[] Std) ChannelStatistics() => DataViews.ChannelStatistics.Compute(Features, Count, Channels, Height * Width);

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
