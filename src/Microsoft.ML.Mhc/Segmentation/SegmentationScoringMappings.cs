using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// The saved form of a segmentation model's scoring step: custom mappings, one per fixed output width (a custom
/// mapping's vector sizes are fixed by its class, see <see cref="WideVectorWidth"/>), that read the input
/// vector and the serialized network column and write the predicted class ids (as floats) and, in the
/// "with probabilities" variants, the class probabilities. ML.NET finds them by contract name when loading.
/// </summary>
internal static class SegmentationScoringMappings
{
    /// <summary>The network input column of a saved chain.</summary>
    public const string FeaturesColumn = ScoringSegment.FeaturesColumn;

    /// <summary>The fixed-width mask column.</summary>
    public const string WideMaskColumn = SavedScoringChain.TempPrefix + "wide_mask";

    /// <summary>The fixed-width probabilities column.</summary>
    public const string WideProbabilitiesColumn = SavedScoringChain.TempPrefix + "wide_probabilities";

    /// <summary>The exact-width mask column (floats) before its conversion to <see cref="uint"/>.</summary>
    public const string MaskColumn = SavedScoringChain.TempPrefix + "mask";

    /// <summary>Contract name prefix of the mask-only mappings; the mask width is appended.</summary>
    public const string MaskContractPrefix = "Microsoft.ML.Mhc.Segmentation.M";

    /// <summary>Contract name prefix of the mappings with probabilities; the mask width is appended.</summary>
    public const string MaskAndProbabilitiesContractPrefix = "Microsoft.ML.Mhc.Segmentation.MP";

    /// <summary>Mask widths (pixels) available: up to 64x64, 256x256 and 512x512 images.</summary>
    public static IReadOnlyList<int> MaskWidths { get; } = [4096, 65536, 262144];

    /// <summary>Probabilities hold at most this many classes per pixel in a saved model.</summary>
    public const int MaxSavedProbabilityClasses = 16;

    internal static readonly LoadedNetworkCache<SegmentationEngine> Engines = new(SegmentationSpec.Kind, SegmentationEngine.Deserialize, engine => engine.Dispose());

    /// <summary>The scoring mapping for <paramref name="pixels"/> pixels (and probabilities of <paramref name="classes"/> classes when asked), with its widths.</summary>
    /// <exception cref="NotSupportedException">The image or the probabilities are too large for a saved model.</exception>
    public static (IEstimator<ITransformer> Estimator, int MaskWidth, int ProbabilitiesWidth) Create(MLContext ml, int pixels, int classes, bool probabilities)
    {
        int width = MaskWidths.FirstOrDefault(w => w >= pixels);
        if (width == 0)
            throw new NotSupportedException($"A saved segmentation model can hold masks of at most {MaskWidths[^1]} pixels (512x512); this one has {pixels}.");
        if (!probabilities)
        {
            IEstimator<ITransformer> maskOnly = width switch
            {
                4096 => ml.Transforms.CustomMapping(new SegmentationScoringMapping4096().GetMapping(), MaskContractPrefix + 4096),
                65536 => ml.Transforms.CustomMapping(new SegmentationScoringMapping65536().GetMapping(), MaskContractPrefix + 65536),
                262144 => ml.Transforms.CustomMapping(new SegmentationScoringMapping262144().GetMapping(), MaskContractPrefix + 262144),
                _ => throw new NotSupportedException($"No segmentation mapping of width {width}."),
            };
            return (maskOnly, width, 0);
        }
        if (classes > MaxSavedProbabilityClasses || width > 65536)
            throw new NotSupportedException(
                $"A saved segmentation model can carry probabilities for at most {MaxSavedProbabilityClasses} classes on images of at most 256x256 pixels; " +
                $"this one has {classes} classes and {pixels} pixels. Turn OutputProbabilities off to save it.");
        IEstimator<ITransformer> both = width switch
        {
            4096 => ml.Transforms.CustomMapping(new SegmentationScoringWithProbabilitiesMapping4096().GetMapping(), MaskAndProbabilitiesContractPrefix + 4096),
            65536 => ml.Transforms.CustomMapping(new SegmentationScoringWithProbabilitiesMapping65536().GetMapping(), MaskAndProbabilitiesContractPrefix + 65536),
            _ => throw new NotSupportedException($"No segmentation mapping with probabilities of width {width}."),
        };
        return (both, width, width * MaxSavedProbabilityClasses);
    }

    internal static void Score(SegmentationScoringInput input, float[] mask, float[]? probabilities)
    {
        var engine = Engines.Get(input.Network);
        var features = input.Features ?? [];
        if (features.Length != engine.InputLength)
            throw new InvalidOperationException(
                $"The segmentation model expects {engine.InputLength} input values per row " +
                $"({engine.Network.Spec.Channels} x {engine.Network.Spec.ImageHeight} x {engine.Network.Spec.ImageWidth}), got {features.Length}.");
        Array.Clear(mask);
        if (probabilities is not null) Array.Clear(probabilities);
        engine.Predict(features, 1, mask, probabilities ?? Span<float>.Empty);
    }
}

/// <summary>Input of the saved segmentation mappings; public for ML.NET's row binding.</summary>
internal sealed class SegmentationScoringInput
{
    /// <summary>Raw pixels, C x H x W.</summary>
    [ColumnName(SegmentationScoringMappings.FeaturesColumn)]
    public float[] Features = [];

    /// <summary>The serialized network.</summary>
    [ColumnName(SavedScoringChain.NetworkColumn)]
    public ReadOnlyMemory<char> Network;
}

/// <summary>The outputs of the saved segmentation mappings: one class per fixed width; public for ML.NET's row binding.</summary>
internal abstract class SegmentationScoringOutput
{
    // Methods, not properties: ML.NET would bind a property as one more column.
    internal abstract float[] MaskBuffer();

    internal virtual float[]? ProbabilityBuffer() => null;
}

/// <summary>
/// A saved segmentation step: one mapping for every width, specialised per width only because ML.NET rebuilds a custom
/// mapping's schema from its output class, whose vector sizes must therefore be compile-time attributes.
/// </summary>
/// <typeparam name="TOutput">The output class of one width.</typeparam>
internal abstract class SegmentationScoringMapping<TOutput> : CustomMappingFactory<SegmentationScoringInput, TOutput>
    where TOutput : SegmentationScoringOutput, new()
{
    /// <inheritdoc />
    public override Action<SegmentationScoringInput, TOutput> GetMapping() =>
        (input, output) => SegmentationScoringMappings.Score(input, output.MaskBuffer(), output.ProbabilityBuffer());
}

/// <summary>Output of <see cref="SegmentationScoringMapping4096"/>.</summary>
internal sealed class SegmentationMaskOutput4096 : SegmentationScoringOutput
{
    /// <summary>Class ids (as floats) in the first H x W slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideMaskColumn), VectorType(4096)]
    public float[] Mask = new float[4096];

    internal override float[] MaskBuffer() => Mask;
}

/// <summary>Output of <see cref="SegmentationScoringMapping65536"/>.</summary>
internal sealed class SegmentationMaskOutput65536 : SegmentationScoringOutput
{
    /// <summary>Class ids (as floats) in the first H x W slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideMaskColumn), VectorType(65536)]
    public float[] Mask = new float[65536];

    internal override float[] MaskBuffer() => Mask;
}

/// <summary>Output of <see cref="SegmentationScoringMapping262144"/>.</summary>
internal sealed class SegmentationMaskOutput262144 : SegmentationScoringOutput
{
    /// <summary>Class ids (as floats) in the first H x W slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideMaskColumn), VectorType(262144)]
    public float[] Mask = new float[262144];

    internal override float[] MaskBuffer() => Mask;
}

/// <summary>Output of <see cref="SegmentationScoringWithProbabilitiesMapping4096"/>.</summary>
internal sealed class SegmentationMaskAndProbabilitiesOutput4096 : SegmentationScoringOutput
{
    /// <summary>Class ids (as floats) in the first H x W slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideMaskColumn), VectorType(4096)]
    public float[] Mask = new float[4096];

    internal override float[] MaskBuffer() => Mask;

    /// <summary>Probabilities (K x H x W, class-major) in the first slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideProbabilitiesColumn), VectorType(65536)]
    public float[] Probabilities = new float[65536];

    internal override float[]? ProbabilityBuffer() => Probabilities;
}

/// <summary>Output of <see cref="SegmentationScoringWithProbabilitiesMapping65536"/>.</summary>
internal sealed class SegmentationMaskAndProbabilitiesOutput65536 : SegmentationScoringOutput
{
    /// <summary>Class ids (as floats) in the first H x W slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideMaskColumn), VectorType(65536)]
    public float[] Mask = new float[65536];

    internal override float[] MaskBuffer() => Mask;

    /// <summary>Probabilities (K x H x W, class-major) in the first slots, zeros after.</summary>
    [ColumnName(SegmentationScoringMappings.WideProbabilitiesColumn), VectorType(1048576)]
    public float[] Probabilities = new float[1048576];

    internal override float[]? ProbabilityBuffer() => Probabilities;
}

/// <summary>Saved scoring step for masks of up to 4096 pixels.</summary>
[CustomMappingFactoryAttribute(SegmentationScoringMappings.MaskContractPrefix + "4096")]
internal sealed class SegmentationScoringMapping4096 : SegmentationScoringMapping<SegmentationMaskOutput4096>;

/// <summary>Saved scoring step for masks of up to 65536 pixels.</summary>
[CustomMappingFactoryAttribute(SegmentationScoringMappings.MaskContractPrefix + "65536")]
internal sealed class SegmentationScoringMapping65536 : SegmentationScoringMapping<SegmentationMaskOutput65536>;

/// <summary>Saved scoring step for masks of up to 262144 pixels.</summary>
[CustomMappingFactoryAttribute(SegmentationScoringMappings.MaskContractPrefix + "262144")]
internal sealed class SegmentationScoringMapping262144 : SegmentationScoringMapping<SegmentationMaskOutput262144>;

/// <summary>Saved scoring step with probabilities for masks of up to 4096 pixels and 16 classes.</summary>
[CustomMappingFactoryAttribute(SegmentationScoringMappings.MaskAndProbabilitiesContractPrefix + "4096")]
internal sealed class SegmentationScoringWithProbabilitiesMapping4096 : SegmentationScoringMapping<SegmentationMaskAndProbabilitiesOutput4096>;

/// <summary>Saved scoring step with probabilities for masks of up to 65536 pixels and 16 classes.</summary>
[CustomMappingFactoryAttribute(SegmentationScoringMappings.MaskAndProbabilitiesContractPrefix + "65536")]
internal sealed class SegmentationScoringWithProbabilitiesMapping65536 : SegmentationScoringMapping<SegmentationMaskAndProbabilitiesOutput65536>;
