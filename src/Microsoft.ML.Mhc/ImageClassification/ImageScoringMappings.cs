using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// The saved form of an image classifier's scoring step: custom mappings (one per fixed output width,
/// see <see cref="WideVectorWidth"/>) that read the input vector and the serialized network column and
/// write class probabilities and the predicted class index. ML.NET finds them by contract name when a
/// model is loaded.
/// </summary>
internal static class ImageScoringMappings
{
    /// <summary>The network input column of a saved chain.</summary>
    public const string FeaturesColumn = ScoringSegment.FeaturesColumn;

    /// <summary>The fixed-width probabilities column.</summary>
    public const string WideScoreColumn = SavedScoringChain.TempPrefix + "wide_score";

    /// <summary>The 0-based predicted class column.</summary>
    public const string PredictedIndexColumn = SavedScoringChain.TempPrefix + "predicted_index";

    /// <summary>Contract name prefix; the width is appended.</summary>
    public const string ContractPrefix = "Microsoft.ML.Mhc.ImageClassifier.W";

    internal static readonly LoadedNetworkCache<ImageClassifierEngine> Engines = new(ImageClassifierSpec.Kind, ImageClassifierEngine.Deserialize, engine => engine.Dispose());

    /// <summary>The estimator of the scoring mapping for <paramref name="classes"/> classes, and its width.</summary>
    public static (IEstimator<ITransformer> Estimator, int Width) Create(MLContext ml, int classes)
    {
        int width = WideVectorWidth.For(classes, "classes");
        IEstimator<ITransformer> estimator = width switch
        {
            16 => ml.Transforms.CustomMapping(new ImageScoringMapping16().GetMapping(), ContractPrefix + 16),
            256 => ml.Transforms.CustomMapping(new ImageScoringMapping256().GetMapping(), ContractPrefix + 256),
            4096 => ml.Transforms.CustomMapping(new ImageScoringMapping4096().GetMapping(), ContractPrefix + 4096),
            _ => throw new NotSupportedException($"No image scoring mapping of width {width}."),
        };
        return (estimator, width);
    }

    internal static uint Score(ImageScoringInput input, float[] probabilities)
    {
        var engine = Engines.Get(input.Network);
        var features = input.Features ?? [];
        if (features.Length != engine.InputLength)
            throw new InvalidOperationException(
                $"The image classifier expects {engine.InputLength} input values per row " +
                $"({engine.Network.Spec.Channels} x {engine.Network.Spec.ImageHeight} x {engine.Network.Spec.ImageWidth}), got {features.Length}.");
        return engine.ScoreRow(features, probabilities);
    }
}

/// <summary>Input of the saved scoring mappings; public for ML.NET's row binding.</summary>
internal sealed class ImageScoringInput
{
    /// <summary>Raw pixels, C x H x W.</summary>
    [ColumnName(ImageScoringMappings.FeaturesColumn)]
    public float[] Features = [];

    /// <summary>The serialized network.</summary>
    [ColumnName(SavedScoringChain.NetworkColumn)]
    public ReadOnlyMemory<char> Network;
}

/// <summary>The outputs of the saved scoring mappings: one class per fixed width; public for ML.NET's row binding.</summary>
internal abstract class ImageScoringOutput
{
    /// <summary>0-based predicted class.</summary>
    [ColumnName(ImageScoringMappings.PredictedIndexColumn)]
    public uint PredictedIndex;

    // A method, not a property: ML.NET would bind a property as one more column.
    internal abstract float[] ScoreBuffer();
}

/// <summary>
/// A saved scoring step: one mapping for every width, specialised per width only because ML.NET rebuilds a custom mapping's
/// schema from its output class, whose vector size must therefore be a compile-time attribute.
/// </summary>
/// <typeparam name="TOutput">The output class of one width.</typeparam>
internal abstract class ImageScoringMapping<TOutput> : CustomMappingFactory<ImageScoringInput, TOutput> where TOutput : ImageScoringOutput, new()
{
    /// <inheritdoc />
    public override Action<ImageScoringInput, TOutput> GetMapping() =>
        (input, output) => output.PredictedIndex = ImageScoringMappings.Score(input, output.ScoreBuffer());
}

/// <summary>Output of <see cref="ImageScoringMapping16"/>.</summary>
internal sealed class ImageScoringOutput16 : ImageScoringOutput
{
    /// <summary>Probabilities in the first slots, zeros after.</summary>
    [ColumnName(ImageScoringMappings.WideScoreColumn), VectorType(16)]
    public float[] Scores = new float[16];

    internal override float[] ScoreBuffer() => Scores;
}

/// <summary>Output of <see cref="ImageScoringMapping256"/>.</summary>
internal sealed class ImageScoringOutput256 : ImageScoringOutput
{
    /// <summary>Probabilities in the first slots, zeros after.</summary>
    [ColumnName(ImageScoringMappings.WideScoreColumn), VectorType(256)]
    public float[] Scores = new float[256];

    internal override float[] ScoreBuffer() => Scores;
}

/// <summary>Output of <see cref="ImageScoringMapping4096"/>.</summary>
internal sealed class ImageScoringOutput4096 : ImageScoringOutput
{
    /// <summary>Probabilities in the first slots, zeros after.</summary>
    [ColumnName(ImageScoringMappings.WideScoreColumn), VectorType(4096)]
    public float[] Scores = new float[4096];

    internal override float[] ScoreBuffer() => Scores;
}

/// <summary>Saved scoring step for up to 16 classes.</summary>
[CustomMappingFactoryAttribute(ImageScoringMappings.ContractPrefix + "16")]
internal sealed class ImageScoringMapping16 : ImageScoringMapping<ImageScoringOutput16>;

/// <summary>Saved scoring step for up to 256 classes.</summary>
[CustomMappingFactoryAttribute(ImageScoringMappings.ContractPrefix + "256")]
internal sealed class ImageScoringMapping256 : ImageScoringMapping<ImageScoringOutput256>;

/// <summary>Saved scoring step for up to 4096 classes.</summary>
[CustomMappingFactoryAttribute(ImageScoringMappings.ContractPrefix + "4096")]
internal sealed class ImageScoringMapping4096 : ImageScoringMapping<ImageScoringOutput4096>;
