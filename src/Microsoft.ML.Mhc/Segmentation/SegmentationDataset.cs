using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>Images and masks read from a data view into flat arrays, ready for batching.</summary>
internal sealed class SegmentationDataset
{
    private SegmentationDataset(float[] features, ushort[] masks, int count, int channels, int height, int width, int maxClass)
    {
        Features = features;
        Masks = masks;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        MaxClassId = maxClass;
    }

    /// <summary>Row-major images, <see cref="Count"/> x C x H x W (the array may be longer).</summary>
    public float[] Features { get; }

    /// <summary>Row-major class ids, <see cref="Count"/> x H x W (the array may be longer).</summary>
    public ushort[] Masks { get; }

    public int Count { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Length => Channels * Height * Width;
    public int PixelCount => Height * Width;

    /// <summary>The largest class id in the masks.</summary>
    public int MaxClassId { get; }

    public ReadOnlySpan<float> Image(int row) => Features.AsSpan(row * Length, Length);
    public ReadOnlySpan<ushort> Mask(int row) => Masks.AsSpan(row * PixelCount, PixelCount);

    /// <summary>Pixels of each class over all masks.</summary>
    public long[] ClassPixelCounts(int classes)
    {
        var counts = new long[classes];
        for (long i = 0; i < (long)Count * PixelCount; i++) counts[Masks[i]]++;
        return counts;
    }

    /// <summary>Reads images and masks; with <paramref name="classes"/> &gt; 0, class ids must be below it.</summary>
    /// <exception cref="ArgumentException">A bad row: wrong size, non-finite pixel, bad class id; the message names the column and the row.</exception>
    public static SegmentationDataset Read(MLContext ml, IDataView data, SegmentationImageColumn image, MaskColumn mask, int classes, string dataName,
        CancellationToken token)
    {
        const string column = "__mhc_read_features";
        var vectors = image.ToVector(ml, data.Schema, column).Fit(data).Transform(data);
        var featureColumn = vectors.Schema[column];
        var needed = new List<DataViewSchema.Column> { featureColumn, vectors.Schema[mask.Name] };
        if (image.Resize) needed.Add(vectors.Schema[image.Name]);
        int length = image.Length, pixels = image.Height * image.Width;
        long? rows = data.GetRowCount();
        int capacity = rows is > 0 and < int.MaxValue ? (int)rows.Value : 256;
        var features = new float[(long)capacity * length];
        var masks = new ushort[(long)capacity * pixels];
        var ids = new int[pixels];
        int count = 0, maxClass = 0;
        using (var cursor = vectors.GetRowCursor(needed))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            var readMask = mask.CreateReader(cursor, dataName);
            var checkSize = image.SizeCheck(cursor, dataName);
            VBuffer<float> buffer = default;
            while (cursor.MoveNext())
            {
                long row = cursor.Position;
                if ((row & 255) == 0) token.ThrowIfCancellationRequested();
                checkSize?.Invoke(row);
                getFeatures(ref buffer);
                if (buffer.Length != length)
                    throw new ArgumentException($"The image column '{image.Name}' of the {dataName} has {buffer.Length} values at row {row}; expected {length}.");
                readMask.Read(row, ids);
                if (count == capacity)
                {
                    capacity = checked(capacity * 2);
                    Array.Resize(ref features, checked(capacity * length));
                    Array.Resize(ref masks, checked(capacity * pixels));
                }
                var destination = features.AsSpan(count * length, length);
                buffer.CopyTo(destination);
                for (int i = 0; i < length; i++)
                    if (!float.IsFinite(destination[i]))
                        throw new ArgumentException(
                            $"The image column '{image.Name}' of the {dataName} has a non-finite value ({destination[i]}) at row {row}, slot {i}.");
                var target = masks.AsSpan(count * pixels, pixels);
                for (int p = 0; p < pixels; p++)
                {
                    int id = ids[p];
                    if (classes > 0 && id >= classes)
                        throw new ArgumentException(
                            $"The {mask.Role} column '{mask.Name}' of the {dataName} has class id {id} at row {row}, pixel {p} (y {p / image.Width}, x {p % image.Width}), " +
                            $"but there are {classes} classes (ids 0..{classes - 1}). Raise NumberOfClasses or fix the mask.");
                    if (id > ushort.MaxValue)
                        throw new ArgumentException($"The {mask.Role} column '{mask.Name}' of the {dataName} has class id {id} at row {row}, pixel {p}; at most {ushort.MaxValue} is supported.");
                    target[p] = (ushort)id;
                    if (id > maxClass) maxClass = id;
                }
                count++;
            }
        }
        if (count == 0) throw new ArgumentException($"The {dataName} is empty: no rows to read from '{image.Name}' and '{mask.Name}'.");
        return new SegmentationDataset(features, masks, count, image.Channels, image.Height, image.Width, maxClass);
    }

    /// <summary>Mean and standard deviation of every channel over all rows (in double).</summary>
    public (float[] Mean, float[] Std) ChannelStatistics() => DataViews.ChannelStatistics.Compute(Features, Count, Channels, PixelCount);
}
