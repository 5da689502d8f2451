using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>How the image input arrives: a float vector already, or an <see cref="MLImage"/> to extract pixels from.</summary>
internal enum ImageFeatureKind
{
    /// <summary>A known-size vector of C x H x W floats, channel-major (as ExtractPixels writes by default).</summary>
    Vector,
    /// <summary>An <see cref="MLImage"/> column of known size (after ResizeImages).</summary>
    Image,
}

/// <summary>
/// The image feature column of a schema, validated against the expected channels and size, and the
/// stock transforms that turn it into the network's input: a float vector of C x H x W raw values.
/// </summary>
internal sealed class ImageFeatureColumn
{
    private ImageFeatureColumn(string name, ImageFeatureKind kind, int channels, int height, int width)
    {
        Name = name;
        Kind = kind;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>The column's name.</summary>
    public string Name { get; }

    /// <summary>Vector or image.</summary>
    public ImageFeatureKind Kind { get; }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Height H.</summary>
    public int Height { get; }

    /// <summary>Width W.</summary>
    public int Width { get; }

    /// <summary>C x H x W.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>What the column must be, for messages.</summary>
    public static string Expected(int channels, int height, int width) =>
        $"a known-size vector of {channels * height * width} floats (Channels {channels} x ImageHeight {height} x ImageWidth {width}) or an MLImage of {width}x{height}";

    /// <summary>Checks the column in <paramref name="schema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing column, wrong type or wrong size; the message names the column, what was expected and what was found.</exception>
    public static ImageFeatureColumn FromSchema(DataViewSchema schema, string name, int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(channels), $"{channels}x{height}x{width}", "Channels, ImageHeight and ImageWidth must be positive.");
        var expected = Expected(channels, height, width);
        var column = ColumnChecks.Require(schema, name, "feature", expected);
        switch (column.Type)
        {
            case VectorDataViewType vector:
                if (vector.ItemType != NumberDataViewType.Single)
                    throw new ArgumentOutOfRangeException(nameof(name),
                        $"The feature column '{name}' must be {expected}; found a vector of {vector.ItemType} ({vector}). " +
                        "Convert it with mlContext.Transforms.Conversion.ConvertType(..., outputKind: DataKind.Single).");
                if (!vector.IsKnownSize)
                    throw new ArgumentOutOfRangeException(nameof(name),
                        $"The feature column '{name}' must be {expected}; found a vector of unknown size ({vector}). " +
                        "Declare the size, e.g. [VectorType(C * H * W)] on the input class, or use ExtractPixels.");
                if (vector.Size != channels * height * width)
                    throw new ArgumentOutOfRangeException(nameof(name),
                        $"The feature column '{name}' has {vector.Size} values per row, but Channels x ImageHeight x ImageWidth = " +
                        $"{channels} x {height} x {width} = {channels * height * width}. Fix the options or the column.");
                return new ImageFeatureColumn(name, ImageFeatureKind.Vector, channels, height, width);
            case ImageDataViewType image:
                if (image.Height != height || image.Width != width)
                    throw new ArgumentOutOfRangeException(nameof(name),
                        image.Height == 0 || image.Width == 0
                            ? $"The image column '{name}' has no fixed size; resize it to {width}x{height} with mlContext.Transforms.ResizeImages(\"{name}\", {width}, {height})."
                            : $"The image column '{name}' holds {image.Width}x{image.Height} images, but ImageWidth x ImageHeight is {width}x{height}. Resize it or fix the options.");
                if (channels != 1 && channels != 3 && channels != 4)
                    throw new ArgumentOutOfRangeException(nameof(channels), channels, $"Images from the MLImage column '{name}' can have 1 (grey), 3 (RGB) or 4 (ARGB) channels; got {channels}.");
                return new ImageFeatureColumn(name, ImageFeatureKind.Image, channels, height, width);
            default:
                throw new ArgumentOutOfRangeException(nameof(name), $"The feature column '{name}' must be {expected}; found {column.Type}.");
        }
    }

    /// <summary>
    /// Stock, savable transforms writing the network input (raw values, channel-major) to
    /// <paramref name="outputColumn"/>; temporary columns start with <paramref name="tempPrefix"/>.
    /// </summary>
    public IEstimator<ITransformer> ToVector(MLContext ml, string outputColumn, string tempPrefix)
    {
        if (Kind == ImageFeatureKind.Vector) return ml.Transforms.CopyColumns(outputColumn, Name);
        ImagePixelAccess.EnsureWorks(Name);
        if (Channels == 1)
        {
            var grey = tempPrefix + "grey";
            return ml.Transforms.ConvertToGrayscale(grey, Name)
                .Append(ml.Transforms.ExtractPixels(outputColumn, grey, ImagePixelExtractingEstimator.ColorBits.Red))
                .Append(ml.Transforms.DropColumns(grey));
        }
        var bits = Channels == 3 ? ImagePixelExtractingEstimator.ColorBits.Rgb : ImagePixelExtractingEstimator.ColorBits.All;
        return ml.Transforms.ExtractPixels(outputColumn, Name, bits, ImagePixelExtractingEstimator.ColorsOrder.ARGB);
    }
}
