using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// The image column of a segmentation model: what <see cref="ImageFeatureColumn"/> accepts (a known-size float
/// vector of C x H x W values, or a known-size <see cref="MLImage"/>), plus <see cref="MLImage"/> columns of no
/// declared size as <c>LoadImages</c> produces them from a folder, which are brought to H x W by a stock
/// <c>ResizeImages</c> (a no-op for images of that size; training rejects other sizes row by row).
/// </summary>
internal sealed class SegmentationImageColumn
{
    private const string ResizedColumn = Persistence.SavedScoringChain.TempPrefix + "resized_image";

    private SegmentationImageColumn(string name, bool resize, int channels, int height, int width)
    {
        Name = name;
        Resize = resize;
        Channels = channels;
        Height = height;
        Width = width;
    }

    public string Name { get; }
    public bool Resize { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Length => Channels * Height * Width;

    /// <exception cref="ArgumentOutOfRangeException">Missing column, wrong type or size; the message names the column.</exception>
    public static SegmentationImageColumn FromSchema(MLContext ml, DataViewSchema schema, string name, int channels, int height, int width)
    {
        var column = ColumnChecks.Require(schema, name, "image", ImageFeatureColumn.Expected(channels, height, width));
        if (column.Type is ImageDataViewType) ImagePixelAccess.EnsureWorks(name);
        if (column.Type is ImageDataViewType { Height: 0 })
        {
            // Validate what the resized column will be, with the same checks and messages as any image column.
            var resized = ml.Transforms.ResizeImages(ResizedColumn, width, height, name).Fit(new SchemaOnlyDataView(schema)).GetOutputSchema(schema);
            ImageFeatureColumn.FromSchema(resized, ResizedColumn, channels, height, width);
            return new SegmentationImageColumn(name, true, channels, height, width);
        }
        ImageFeatureColumn.FromSchema(schema, name, channels, height, width);
        return new SegmentationImageColumn(name, false, channels, height, width);
    }

    /// <summary>Stock, savable transforms writing the network input (raw values, channel-major) to <paramref name="outputColumn"/>.</summary>
    public IEstimator<ITransformer> ToVector(MLContext ml, DataViewSchema schema, string outputColumn)
    {
        if (!Resize)
            return ImageFeatureColumn.FromSchema(schema, Name, Channels, Height, Width).ToVector(ml, outputColumn, Persistence.SavedScoringChain.TempPrefix);
        var resize = ml.Transforms.ResizeImages(ResizedColumn, Width, Height, Name);
        var resized = resize.Fit(new SchemaOnlyDataView(schema)).GetOutputSchema(schema);
        return resize
            .Append(ImageFeatureColumn.FromSchema(resized, ResizedColumn, Channels, Height, Width).ToVector(ml, outputColumn, Persistence.SavedScoringChain.TempPrefix))
            .Append(ml.Transforms.DropColumns(ResizedColumn));
    }

    /// <summary>A check of the original image size of the cursor's current row (only for columns of no declared size), else null.</summary>
    public Action<long>? SizeCheck(DataViewRowCursor cursor, string dataName)
    {
        if (!Resize) return null;
        var getter = cursor.GetGetter<MLImage>(cursor.Schema[Name]);
        MLImage image = null!;
        return row =>
        {
            getter(ref image);
            if (image is null) throw new ArgumentException($"The image column '{Name}' of the {dataName} has no image at row {row}.");
            if (image.Width != Width || image.Height != Height)
                throw new ArgumentException(
                    $"The image column '{Name}' of the {dataName} holds a {image.Width}x{image.Height} image at row {row}, but the images must all be " +
                    $"{Width}x{Height} (ImageWidth x ImageHeight): a mask cannot follow a resize. Crop or pad the images and masks alike first.");
        };
    }
}
