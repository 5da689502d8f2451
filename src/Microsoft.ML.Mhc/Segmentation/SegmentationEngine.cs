using Mhc.Models.Native;
using Mhc.Models;
using Microsoft.ML.Mhc.Lifetime;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// Runs a trained <see cref="SegmentationNetwork"/> for inference: per-pixel class ids and, optionally,
/// per-pixel class probabilities for rows of raw pixels. Thread-safe: the network stays in eval mode and
/// every call works under <c>no_grad</c> in its own dispose scope. <see cref="Dispose"/> waits for calls in flight;
/// calls after it throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class SegmentationEngine : IDisposable
{
    private readonly DisposalGuard guard;
    private long forwardPasses;

    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the engine owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    public SegmentationEngine(SegmentationNetwork network, Device device, string ownerName = nameof(SegmentationEngine))
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        guard = new DisposalGuard(ownerName);
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
        Interlocked.Increment(ref forwardPasses);
        using var use = guard.Enter();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var quiet = GcQuietRegion.Enter();
        using var threads = count == 1 ? MhcEnvironment.EnterSingleRowScoring() : default;
        var x = HostTensors.Copy(inputs, count, InputLength).to(Device);
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
    public SerializedNetwork Serialize()
    {
        using var use = guard.Enter();
        return new(SegmentationSpec.Kind, Network.Spec.ToJson(), NetworkWeights.ToBytes(Network));
    }

    /// <summary>Forward passes so far: one per batch scored, so tests can tell batched scoring from row at a time.</summary>
    internal long ForwardPasses => Interlocked.Read(ref forwardPasses);

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => guard.IsDisposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> (naming the owner) once the engine is disposed.</summary>
    public void ThrowIfDisposed() => guard.ThrowIfDisposed();

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
        return new SegmentationEngine(network, CPU, $"loaded mHC {SegmentationSpec.Kind} model");
    }

    /// <summary>Frees the network's native memory once the calls in flight have finished.</summary>
    public void Dispose() => guard.Dispose(Network.Dispose);
}
