using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Everything needed to rebuild a segmentation network before its weights are loaded: input shape, classes
/// and the <see cref="HyperUNetOptions"/>. Stored as JSON in saved models.
/// </summary>
public sealed class SegmentationSpec
{
    /// <summary>The kind tag of serialized segmentation networks.</summary>
    public const string Kind = "segmentation-unet";

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>Input channels C.</summary>
    public int Channels { get; set; }

    /// <summary>Input height H.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Input width W.</summary>
    public int ImageWidth { get; set; }

    /// <summary>Number of classes K.</summary>
    public int NumClasses { get; set; }

    /// <summary>Class display names (K of them).</summary>
    public string[] ClassNames { get; set; } = [];

    /// <summary>The network's options.</summary>
    public HyperUNetOptions UNet { get; set; } = new();

    /// <summary>C x H x W.</summary>
    [JsonIgnore]
    public int InputLength => Channels * ImageHeight * ImageWidth;

    /// <summary>H x W.</summary>
    [JsonIgnore]
    public int PixelCount => ImageHeight * ImageWidth;

    /// <summary>Serializes the spec.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a spec written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a valid spec.</exception>
    public static SegmentationSpec FromJson(string json)
    {
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("Empty segmentation spec.");
            LegacyOptionsJson.Upgrade(node[nameof(UNet)] as JsonObject);
            var spec = node.Deserialize<SegmentationSpec>(Json) ?? throw new InvalidDataException("Empty segmentation spec.");
            if (spec.Channels < 1 || spec.ImageHeight < 1 || spec.ImageWidth < 1 || spec.NumClasses < 2 || spec.ClassNames.Length != spec.NumClasses)
                throw new InvalidDataException(
                    $"Invalid segmentation spec: {spec.Channels}x{spec.ImageHeight}x{spec.ImageWidth} input, {spec.NumClasses} classes, {spec.ClassNames.Length} class names.");
            return spec;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The segmentation spec does not parse: {e.Message}", e);
        }
    }
}
