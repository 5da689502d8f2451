using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mhc.Models.Layers;
using Mhc.Models.Vision;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// Everything needed to rebuild an image classifier's network before its weights are loaded: the
/// architecture, the input shape, the class count and the architecture's own options. Stored as JSON
/// in saved models.
/// </summary>
public sealed class ImageClassifierSpec
{
    /// <summary>The kind tag of serialized image classifiers.</summary>
    public const string Kind = "image-classifier";

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>The network family.</summary>
    public MhcImageArchitecture Architecture { get; set; }

    /// <summary>Input channels C.</summary>
    public int Channels { get; set; }

    /// <summary>Input height H.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Input width W.</summary>
    public int ImageWidth { get; set; }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; set; }

    /// <summary>Options of the Hyper-ResNet, when <see cref="Architecture"/> is <see cref="MhcImageArchitecture.HyperResNet"/>.</summary>
    public HyperResNetOptions? HyperResNet { get; set; }

    /// <summary>Options of the vision transformer as JSON, when <see cref="Architecture"/> is <see cref="MhcImageArchitecture.VisionTransformer"/>.</summary>
    public JsonObject? VisionTransformer { get; set; }

    /// <summary>C x H x W.</summary>
    [JsonIgnore]
    public int InputLength => Channels * ImageHeight * ImageWidth;

    /// <summary>Serializes the spec.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a spec written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a valid spec.</exception>
    public static ImageClassifierSpec FromJson(string json)
    {
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("Empty image classifier spec.");
            LegacyOptionsJson.Upgrade(node[nameof(HyperResNet)] as JsonObject);
            LegacyOptionsJson.Upgrade(node[nameof(VisionTransformer)] as JsonObject);
            var spec = node.Deserialize<ImageClassifierSpec>(Json) ?? throw new InvalidDataException("Empty image classifier spec.");
            if (spec.Channels < 1 || spec.ImageHeight < 1 || spec.ImageWidth < 1 || spec.NumClasses < 2)
                throw new InvalidDataException($"Invalid image classifier spec: {spec.Channels}x{spec.ImageHeight}x{spec.ImageWidth} input, {spec.NumClasses} classes.");
            return spec;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The image classifier spec does not parse: {e.Message}", e);
        }
    }

    /// <summary>Options as the typed object <typeparamref name="T"/> (for architectures stored as JSON).</summary>
    internal static T Options<T>(JsonObject node) => node.Deserialize<T>(Json) ?? throw new InvalidDataException($"Empty {typeof(T).Name}.");

    /// <summary>Options object as JSON (for architectures stored as JSON).</summary>
    internal static JsonObject ToNode<T>(T options) => JsonSerializer.SerializeToNode(options, Json)!.AsObject();
}
