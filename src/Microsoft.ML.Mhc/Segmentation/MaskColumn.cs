using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// A mask column: per-pixel class ids, as a vector of H x W numbers (any integer type, floats holding whole
/// numbers, or a key type whose key k stands for class k - 1) or as an <see cref="MLImage"/> whose grey value
/// is the class id (so image/mask PNG pairs load with <c>LoadImages</c>). Reading checks every row: its size,
/// that values are whole non-negative numbers, and that grey masks really are grey.
/// </summary>
internal sealed class MaskColumn
{
    private MaskColumn(string name, string role, DataViewType type, int height, int width, int pixelCount)
    {
        Name = name;
        Role = role;
        Type = type;
        Height = height;
        Width = width;
        PixelCount = pixelCount;
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>What the column is, for messages ("label mask", "predicted mask").</summary>
    public string Role { get; }

    /// <summary>The column's type.</summary>
    public DataViewType Type { get; }

    /// <summary>Mask height (0 when only the pixel count is known).</summary>
    public int Height { get; }

    /// <summary>Mask width (0 when only the pixel count is known).</summary>
    public int Width { get; }

    /// <summary>Pixels per mask, H x W.</summary>
    public int PixelCount { get; }

    private string Size => Height > 0 ? $"{Height}x{Width}" : PixelCount > 0 ? $"{PixelCount}-pixel" : "matching";

    /// <summary>The fixed vector size of the column, or 0 when it has none (images, vectors of unknown size).</summary>
    public int DeclaredSize => Type is VectorDataViewType { IsKnownSize: true } v ? v.Size : Type is ImageDataViewType { Height: > 0 } i ? i.Height * i.Width : 0;

    /// <summary>Whether the column holds images (else vectors).</summary>
    public bool IsImage => Type is ImageDataViewType;

    /// <summary>What the column must be, for messages.</summary>
    public static string Expected(int height, int width) =>
        $"a vector of {height * width} class ids (ImageHeight {height} x ImageWidth {width}; integers, whole-valued floats or a key type) " +
        $"or a grey MLImage of {width}x{height} whose grey value is the class id";

    /// <summary>Checks the column in <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing column, wrong type or a fixed size that does not match the image.</exception>
    public static MaskColumn FromSchema(DataViewSchema schema, string name, int height, int width, string role = "label mask")
    {
        var expected = Expected(height, width);
        var column = ColumnChecks.Require(schema, name, role, expected);
        switch (column.Type)
        {
            case VectorDataViewType vector:
                if (!IsSupportedItem(vector.ItemType))
                    throw new ArgumentOutOfRangeException(nameof(name), $"The {role} column '{name}' must be {expected}; found a vector of {vector.ItemType}.");
                if (vector.IsKnownSize && vector.Size != height * width)
                    throw new ArgumentOutOfRangeException(nameof(name),
                        $"The {role} column '{name}' has {vector.Size} values per row, but the image is {height}x{width} = {height * width} pixels; " +
                        "the mask must have one class id per image pixel.");
                break;
            case ImageDataViewType image:
                if (image.Height != 0 && (image.Height != height || image.Width != width))
                    throw new ArgumentOutOfRangeException(nameof(name),
                        $"The {role} column '{name}' holds {image.Width}x{image.Height} images, but the image is {width}x{height}; " +
                        "masks must have the image's size (do not resize masks: interpolation mixes class ids).");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), $"The {role} column '{name}' must be {expected}; found {column.Type}.");
        }
        return new MaskColumn(name, role, column.Type, height, width, height * width);
    }

    /// <summary>Checks a mask column of which at most the pixel count is known (as when evaluating predictions).</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="name">The column.</param>
    /// <param name="pixelCount">Pixels per mask; 0 accepts any size (rows are then compared pairwise by the caller).</param>
    /// <param name="role">What the column is, for messages.</param>
    /// <exception cref="ArgumentOutOfRangeException">Missing column, wrong type or a fixed size of another pixel count.</exception>
    public static MaskColumn FromSchema(DataViewSchema schema, string name, int pixelCount, string role)
    {
        string count = pixelCount > 0 ? pixelCount.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " : "";
        string expected = $"a vector of {count}class ids or a grey MLImage{(pixelCount > 0 ? $" of {pixelCount} pixels" : "")}";
        var column = ColumnChecks.Require(schema, name, role, expected);
        switch (column.Type)
        {
            case VectorDataViewType vector when IsSupportedItem(vector.ItemType):
                if (pixelCount > 0 && vector.IsKnownSize && vector.Size != pixelCount)
                    throw new ArgumentOutOfRangeException(nameof(name), $"The {role} column '{name}' has {vector.Size} values per row; expected {pixelCount}, one per pixel.");
                break;
            case ImageDataViewType image:
                if (pixelCount > 0 && image.Height != 0 && image.Height * image.Width != pixelCount)
                    throw new ArgumentOutOfRangeException(nameof(name), $"The {role} column '{name}' holds {image.Width}x{image.Height} images; expected {pixelCount} pixels.");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), $"The {role} column '{name}' must be {expected}; found {column.Type}.");
        }
        return new MaskColumn(name, role, column.Type, 0, 0, pixelCount);
    }

    private static bool IsSupportedItem(DataViewType item) =>
        item is KeyDataViewType || item == NumberDataViewType.Single || item == NumberDataViewType.Double ||
        item == NumberDataViewType.Byte || item == NumberDataViewType.SByte || item == NumberDataViewType.Int16 ||
        item == NumberDataViewType.UInt16 || item == NumberDataViewType.Int32 || item == NumberDataViewType.UInt32 ||
        item == NumberDataViewType.Int64 || item == NumberDataViewType.UInt64;

    /// <summary>A reader of this column on <paramref name="cursor"/>; <paramref name="dataName"/> names the data in messages.</summary>
    public MaskReader CreateReader(DataViewRowCursor cursor, string dataName)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var column = cursor.Schema[Name];
        if (IsImage)
        {
            ImagePixelAccess.EnsureWorks(Name);
            return new ImageMaskReader(this, cursor.GetGetter<MLImage>(column), dataName);
        }
        var item = ((VectorDataViewType)column.Type).ItemType;
        var method = typeof(MaskColumn).GetMethod(nameof(CreateVectorReader), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(item.RawType);
        return (MaskReader)method.Invoke(this, [cursor, column, item is KeyDataViewType, dataName])!;
    }

    private VectorMaskReader<T> CreateVectorReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column, bool isKey, string dataName) =>
        new(this, cursor.GetGetter<VBuffer<T>>(column), ToDouble<T>(), isKey, dataName);

    private static Func<T, double> ToDouble<T>()
    {
        object f = typeof(T) switch
        {
            var t when t == typeof(float) => (Func<float, double>)(v => v),
            var t when t == typeof(double) => (Func<double, double>)(v => v),
            var t when t == typeof(byte) => (Func<byte, double>)(v => v),
            var t when t == typeof(sbyte) => (Func<sbyte, double>)(v => v),
            var t when t == typeof(short) => (Func<short, double>)(v => v),
            var t when t == typeof(ushort) => (Func<ushort, double>)(v => v),
            var t when t == typeof(int) => (Func<int, double>)(v => v),
            var t when t == typeof(uint) => (Func<uint, double>)(v => v),
            var t when t == typeof(long) => (Func<long, double>)(v => v),
            var t when t == typeof(ulong) => (Func<ulong, double>)(v => v),
            _ => throw new NotSupportedException($"Mask values of type {typeof(T)} are not supported."),
        };
        return (Func<T, double>)f;
    }

    /// <summary>Reads the mask of the cursor's current row.</summary>
    public abstract class MaskReader
    {
        private protected MaskReader(MaskColumn column, string dataName)
        {
            Column = column;
            DataName = dataName;
        }

        /// <summary>The column read.</summary>
        public MaskColumn Column { get; }

        /// <summary>Names the data in messages.</summary>
        public string DataName { get; }

        /// <summary>Reads row <paramref name="row"/>'s class ids into <paramref name="destination"/> (H x W, row-major).</summary>
        /// <exception cref="ArgumentException">Wrong size, a value that is not a whole non-negative number, a missing key, or a mask image that is not grey; the message names the column and the row.</exception>
        public void Read(long row, Span<int> destination)
        {
            int read = ReadAny(row, ref scratch);
            if (read != destination.Length)
                throw Error(row, $"has {read} values; expected {destination.Length} (one class id per pixel of the {Column.Size} image)");
            scratch.AsSpan(0, read).CopyTo(destination);
        }

        /// <summary>
        /// Reads row <paramref name="row"/>'s class ids into <paramref name="buffer"/> (grown as needed) and returns how
        /// many there are; with a known <see cref="PixelCount"/>, any other count is an error.
        /// </summary>
        public abstract int ReadAny(long row, ref int[] buffer);

        private int[] scratch = [];

        private protected ArgumentException Error(long row, string what) =>
            new($"The {Column.Role} column '{Column.Name}' of the {DataName} {what} at row {row}.");
    }

    private sealed class VectorMaskReader<T>(MaskColumn column, ValueGetter<VBuffer<T>> getter, Func<T, double> toDouble, bool isKey, string dataName)
        : MaskReader(column, dataName)
    {
        private VBuffer<T> buffer;

        public override int ReadAny(long row, ref int[] destination)
        {
            getter(ref buffer);
            if (Column.PixelCount > 0 && buffer.Length != Column.PixelCount)
                throw Error(row, $"has {buffer.Length} values; expected {Column.PixelCount} (one class id per pixel of the {Column.Size} image)");
            if (destination.Length < buffer.Length) destination = new int[buffer.Length];
            if (!buffer.IsDense && !isKey) destination.AsSpan(0, buffer.Length).Clear();
            var values = buffer.GetValues();
            var indices = buffer.IsDense ? default : buffer.GetIndices();
            if (!buffer.IsDense && isKey && values.Length < buffer.Length)
                throw Error(row, "has missing keys (key 0) in its sparse mask");
            for (int i = 0; i < values.Length; i++)
            {
                int pixel = buffer.IsDense ? i : indices[i];
                double v = toDouble(values[i]);
                if (isKey)
                {
                    if (v == 0) throw Error(row, $"has a missing key (0) at pixel {pixel}; every pixel needs a class");
                    v -= 1;
                }
                else if (!double.IsFinite(v) || v != Math.Floor(v))
                    throw Error(row, $"has {v} at pixel {pixel}; mask values must be whole class ids");
                if (v < 0) throw Error(row, $"has the negative class id {v} at pixel {pixel}");
                if (v > int.MaxValue) throw Error(row, $"has the class id {v} at pixel {pixel}, beyond any class count");
                destination[pixel] = (int)v;
            }
            return buffer.Length;
        }
    }

    private sealed class ImageMaskReader(MaskColumn column, ValueGetter<MLImage> getter, string dataName) : MaskReader(column, dataName)
    {
        private MLImage image = null!;

        public override int ReadAny(long row, ref int[] destination)
        {
            getter(ref image);
            if (image is null) throw Error(row, "has no image (null)");
            int count = image.Width * image.Height;
            if (Column.Height > 0 ? image.Width != Column.Width || image.Height != Column.Height : Column.PixelCount > 0 && count != Column.PixelCount)
                throw Error(row, $"holds a {image.Width}x{image.Height} mask; expected {(Column.Height > 0 ? $"{Column.Width}x{Column.Height}" : $"{Column.PixelCount} pixels")}, the size of the images");
            var pixels = image.Pixels;
            int red, green = 1, blue;
            switch (image.PixelFormat)
            {
                case MLPixelFormat.Bgra32: red = 2; blue = 0; break;
                case MLPixelFormat.Rgba32: red = 0; blue = 2; break;
                default: throw Error(row, $"has pixel format {image.PixelFormat}; expected Bgra32 or Rgba32");
            }
            int stride = pixels.Length / count;
            if (stride < 3) throw Error(row, $"has {stride} bytes per pixel");
            if (destination.Length < count) destination = new int[count];
            for (int p = 0; p < count; p++)
            {
                int at = p * stride;
                byte r = pixels[at + red];
                if (pixels[at + green] != r || pixels[at + blue] != r)
                    throw Error(row, $"is not grey at pixel {p} (R {r}, G {pixels[at + green]}, B {pixels[at + blue]}); a mask image's grey value is the class id");
                destination[p] = r;
            }
            return count;
        }
    }
}
