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

    /// <summary>Writes softmax probabilities of <paramref name="count"/> rows to <paramref name="probabilities"/> (count x classes).</summary>
    public void Probabilities(ReadOnlySpan<float> inputs, int count, Span<float> probabilities)
    {
        if (inputs.Length != count * InputLength)
            throw new ArgumentException($"Expected {count} x {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var quiet = GcQuietRegion.Enter();
        using var threads = count == 1 ? MhcEnvironment.EnterSingleRowScoring() : default;
        var x = tensor(inputs.ToArray(), [count, InputLength]).to(Device);
        var p = nn.functional.softmax(Network.forward(x), 1).cpu().contiguous();
        p.data<float>().CopyTo(probabilities[..(count * Classes)]);
    }

    /// <summary>
    /// Scores one row into the first <see cref="Classes"/> slots of <paramref name="probabilities"/> (the rest
    /// is zeroed) and returns the 0-based predicted class.
    /// </summary>
    public uint ScoreRow(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        probabilities.Clear();
        Probabilities(features, 1, probabilities);
        return (uint)ArgMax(probabilities[..Classes]);
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
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
