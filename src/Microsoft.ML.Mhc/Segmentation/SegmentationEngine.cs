using Microsoft.ML.Mhc.Inference;
using Microsoft.ML.Mhc.Persistence;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Runs a trained <see cref="SegmentationNetwork"/> for inference (see <see cref="InferenceEngine{TNetwork}"/>): per-pixel
/// class ids and, optionally, per-pixel class probabilities for rows of raw pixels.
/// </summary>
internal sealed class SegmentationEngine : InferenceEngine<SegmentationNetwork>
{
    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the engine owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    public SegmentationEngine(SegmentationNetwork network, Device device, string ownerName = nameof(SegmentationEngine))
        : base(network, device, SegmentationSpec.Kind, ownerName)
    {
    }

    /// <summary>Classes K.</summary>
    public int Classes => Network.Spec.NumClasses;

    /// <inheritdoc />
    public override int InputLength => Network.Spec.InputLength;

    /// <summary>Pixels per mask (H x W).</summary>
    public int PixelCount => Network.Spec.PixelCount;

    /// <summary>
    /// Predicts <paramref name="count"/> rows: class ids into <paramref name="masks"/> (count x H x W) and, when
    /// <paramref name="probabilities"/> is not empty, softmax probabilities (count x K x H x W, class-major).
    /// </summary>
    /// <exception cref="ArgumentException">A row has a NaN or infinite pixel: a mask of class ids has no missing value
    /// (unlike a classifier's key, see ML.NET's missing-value convention), so such an image is rejected, naming
    /// <paramref name="columnName"/> and the pixel.</exception>
    public void Predict(ReadOnlySpan<float> inputs, int count, Span<float> masks, Span<float> probabilities, string columnName = "image")
    {
        if (inputs.Length != count * InputLength)
            throw new ArgumentException($"Expected {count} x {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        for (int i = 0; i < inputs.Length; i++)
        {
            if (float.IsFinite(inputs[i])) continue;
            int slot = i % InputLength, plane = Network.Spec.ImageHeight * Network.Spec.ImageWidth;
            throw new ArgumentException(
                $"The image column '{columnName}' has a non-finite value ({inputs[i]}) at channel {slot / plane}, y {slot % plane / Network.Spec.ImageWidth}, " +
                $"x {slot % Network.Spec.ImageWidth} of an image being segmented; a mask of class ids cannot mark it missing. " +
                "Replace missing values first (e.g. mlContext.Transforms.ReplaceMissingValues) or drop such rows.", nameof(inputs));
        }
        using var call = Enter(count);
        var logits = Forward(inputs, count);
        var ids = logits.argmax(1).to_type(ScalarType.Float32).cpu().contiguous();
        ids.data<float>().CopyTo(masks[..(count * PixelCount)]);
        if (!probabilities.IsEmpty)
        {
            var p = nn.functional.softmax(logits, 1).cpu().contiguous();
            p.data<float>().CopyTo(probabilities[..(count * Classes * PixelCount)]);
        }
    }

    /// <inheritdoc />
    protected override string SpecJson() => Network.Spec.ToJson();

    /// <summary>Rebuilds an engine on CPU from a serialized network.</summary>
    /// <exception cref="InvalidDataException">The network cannot be rebuilt from the data.</exception>
    public static SegmentationEngine Deserialize(SerializedNetwork serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        var spec = SegmentationSpec.FromJson(serialized.ConfigJson);
        return Load(() => new SegmentationNetwork(spec), serialized.Weights,
            network => new SegmentationEngine(network, CPU, $"loaded mHC {SegmentationSpec.Kind} model"));
    }
}
