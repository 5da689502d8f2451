using Microsoft.ML.Mhc.Inference;
using Microsoft.ML.Mhc.Persistence;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// Runs a trained <see cref="ImageClassifierNetwork"/> for inference (see <see cref="InferenceEngine{TNetwork}"/>): class
/// probabilities for rows of raw pixels.
/// </summary>
internal sealed class ImageClassifierEngine : InferenceEngine<ImageClassifierNetwork>
{
    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the engine owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    public ImageClassifierEngine(ImageClassifierNetwork network, Device device, string ownerName = nameof(ImageClassifierEngine))
        : base(network, device, ImageClassifierSpec.Kind, ownerName)
    {
    }

    /// <summary>Classes.</summary>
    public int Classes => Network.Spec.NumClasses;

    /// <inheritdoc />
    public override int InputLength => Network.Spec.InputLength;

    /// <summary>
    /// Writes softmax probabilities of <paramref name="count"/> rows to <paramref name="probabilities"/> (count x classes).
    /// A row with a NaN or infinite input value gets NaN probabilities (ML.NET's missing value); it is fed to the network
    /// as zeros, so it cannot disturb the other rows of the batch.
    /// </summary>
    public void Probabilities(ReadOnlySpan<float> inputs, int count, Span<float> probabilities)
    {
        if (inputs.Length != count * InputLength)
            throw new ArgumentException($"Expected {count} x {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        bool[]? missing = null;
        for (int row = 0; row < count; row++)
            foreach (var v in inputs.Slice(row * InputLength, InputLength))
                if (!float.IsFinite(v)) { (missing ??= new bool[count])[row] = true; break; }
        // A missing row is fed as zeros so it cannot disturb the other rows of the batch; the common case copies
        // the caller's span straight into libtorch memory.
        float[]? cleaned = null;
        if (missing is not null)
        {
            cleaned = inputs.ToArray();
            for (int row = 0; row < count; row++)
                if (missing[row]) cleaned.AsSpan(row * InputLength, InputLength).Clear();
        }
        using (var call = Enter(count))
        {
            var p = nn.functional.softmax(Forward(cleaned is null ? inputs : cleaned, count), 1).cpu().contiguous();
            p.data<float>().CopyTo(probabilities[..(count * Classes)]);
        }
        if (missing is not null)
            for (int row = 0; row < count; row++)
                if (missing[row]) probabilities.Slice(row * Classes, Classes).Fill(float.NaN);
    }

    /// <summary>The index <see cref="ScoreRow"/> returns for a row it cannot classify (NaN scores): one past the last class.</summary>
    public int MissingIndex => Classes;

    /// <summary>
    /// Scores one row into the first <see cref="Classes"/> slots of <paramref name="probabilities"/> (the rest
    /// is zeroed) and returns the 0-based predicted class, or <see cref="MissingIndex"/> when the scores are NaN
    /// (an input value was NaN or infinite).
    /// </summary>
    public uint ScoreRow(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        probabilities.Clear();
        Probabilities(features, 1, probabilities);
        int best = ArgMax(probabilities[..Classes]);
        return best < 0 ? (uint)MissingIndex : (uint)best;
    }

    /// <summary>Index of the largest value (first on ties), or -1 when any value is NaN.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i])) return -1;
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    /// <inheritdoc />
    protected override string SpecJson() => Network.Spec.ToJson();

    /// <summary>Rebuilds an engine on CPU from a serialized network.</summary>
    /// <exception cref="InvalidDataException">The network cannot be rebuilt from the data.</exception>
    public static ImageClassifierEngine Deserialize(SerializedNetwork serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        var spec = ImageClassifierSpec.FromJson(serialized.ConfigJson);
        return Load(() => new ImageClassifierNetwork(spec), serialized.Weights,
            network => new ImageClassifierEngine(network, CPU, $"loaded mHC {ImageClassifierSpec.Kind} model"));
    }
}
