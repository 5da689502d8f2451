using Mhc.Models.Native;
using Mhc.Models;
using Microsoft.ML.Mhc.Persistence;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Runs a trained <see cref="SegmentationNetwork"/> for inference: per-pixel class ids and, optionally,
/// per-pixel class probabilities for rows of raw pixels. Thread-safe: the network stays in eval mode and
/// every call works under <c>no_grad</c> in its own dispose scope.
/// </summary>
public sealed class SegmentationEngine : IDisposable
{
    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    public SegmentationEngine(SegmentationNetwork network, Device device)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        network.eval();
    }

    /// <summary>The network.</summary>
    public SegmentationNetwork Network { get; }

    /// <summary>Where it runs.</summary>
    public Device Device { get; }

    /// <summary>Classes K.</summary>
    public int Classes => Network.Spec.NumClasses;

    /// <summary>Floats per input row (C x H x W).</summary>
    public int InputLength => Network.Spec.InputLength;

    /// <summary>Pixels per mask (H x W).</summary>
    public int PixelCount => Network.Spec.PixelCount;

    /// <summary>
    /// Predicts <paramref name="count"/> rows: class ids into <paramref name="masks"/> (count x H x W) and, when
    /// <paramref name="probabilities"/> is not empty, softmax probabilities (count x K x H x W, class-major).
    /// </summary>
    public void Predict(ReadOnlySpan<float> inputs, int count, Span<float> masks, Span<float> probabilities)
    {
        if (inputs.Length != count * InputLength)
            throw new ArgumentException($"Expected {count} x {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var quiet = GcQuietRegion.Enter();
        using var threads = count == 1 ? MhcEnvironment.EnterSingleRowScoring() : default;
        var x = tensor(inputs.ToArray(), [count, InputLength]).to(Device);
        var logits = Network.forward(x);
        var ids = logits.argmax(1).to_type(ScalarType.Float32).cpu().contiguous();
        ids.data<float>().CopyTo(masks[..(count * PixelCount)]);
        if (!probabilities.IsEmpty)
        {
            var p = nn.functional.softmax(logits, 1).cpu().contiguous();
            p.data<float>().CopyTo(probabilities[..(count * Classes * PixelCount)]);
        }
    }

    /// <summary>Serializes the network (spec and weights).</summary>
    public SerializedNetwork Serialize() => new(SegmentationSpec.Kind, Network.Spec.ToJson(), NetworkWeights.ToBytes(Network));

    /// <summary>Rebuilds an engine on CPU from a serialized network.</summary>
    /// <exception cref="InvalidDataException">The network cannot be rebuilt from the data.</exception>
    public static SegmentationEngine Deserialize(SerializedNetwork serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        MhcEnvironment.EnsureTorch();
        var spec = SegmentationSpec.FromJson(serialized.ConfigJson);
        var network = new SegmentationNetwork(spec);
        try
        {
            NetworkWeights.Load(network, serialized.Weights);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return new SegmentationEngine(network, CPU);
    }

    /// <summary>Disposes the network.</summary>
    public void Dispose() => Network.Dispose();
}
