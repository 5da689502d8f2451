using Mhc.Models.Native;
using Mhc.Models;
using Microsoft.ML.Mhc.Persistence;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// Runs a trained <see cref="ImageClassifierNetwork"/> for inference: class probabilities for rows of
/// raw pixels. Thread-safe: the network stays in eval mode and every call works under
/// <c>no_grad</c> in its own dispose scope, so concurrent calls only read the weights.
/// </summary>
public sealed class ImageClassifierEngine : IDisposable
{
    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    public ImageClassifierEngine(ImageClassifierNetwork network, Device device)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        network.eval();
    }

    /// <summary>The network.</summary>
    public ImageClassifierNetwork Network { get; }

    /// <summary>Where it runs.</summary>
    public Device Device { get; }

    /// <summary>Classes.</summary>
    public int Classes => Network.Spec.NumClasses;

    /// <summary>Floats per input row.</summary>
    public int InputLength => Network.Spec.InputLength;

    /// <summary>
    /// Writes softmax probabilities of <paramref name="count"/> rows to <paramref name="probabilities"/> (count x classes).
    /// A row with a NaN or infinite input value gets NaN probabilities (ML.NET's missing value); it is fed to the network
    /// as zeros, so it cannot disturb the other rows of the batch.
    /// </summary>
    public void Probabilities(ReadOnlySpan<float> inputs, int count, Span<float> probabilities)
    {
        if (inputs.Length != count * InputLength)
            throw new ArgumentException($"Expected {count} x {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        var values = inputs.ToArray();
        var missing = new bool[count];
        for (int row = 0; row < count; row++)
        {
            var pixels = values.AsSpan(row * InputLength, InputLength);
            foreach (var v in pixels)
                if (!float.IsFinite(v)) { missing[row] = true; break; }
            if (missing[row]) pixels.Clear();
        }
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        using (var quiet = GcQuietRegion.Enter())
        {
            var x = tensor(values, [count, InputLength]).to(Device);
            var p = nn.functional.softmax(Network.forward(x), 1).cpu().contiguous();
            p.data<float>().CopyTo(probabilities[..(count * Classes)]);
        }
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

    /// <summary>Serializes the network (spec and weights).</summary>
    public SerializedNetwork Serialize() => new(ImageClassifierSpec.Kind, Network.Spec.ToJson(), NetworkWeights.ToBytes(Network));

    /// <summary>Rebuilds an engine on CPU from a serialized network.</summary>
    /// <exception cref="InvalidDataException">The network cannot be rebuilt from the data.</exception>
    public static ImageClassifierEngine Deserialize(SerializedNetwork serialized)
    {
        MhcEnvironment.EnsureTorch();
        var spec = ImageClassifierSpec.FromJson(serialized.ConfigJson);
        var network = new ImageClassifierNetwork(spec);
        try
        {
            NetworkWeights.Load(network, serialized.Weights);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return new ImageClassifierEngine(network, CPU);
    }

    /// <summary>Disposes the network.</summary>
    public void Dispose() => Network.Dispose();
}
