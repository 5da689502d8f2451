using Mhc.Models.Native;
using Mhc.Models;
using Microsoft.ML.Mhc.Lifetime;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// Runs a trained <see cref="ImageClassifierNetwork"/> for inference: class probabilities for rows of
/// raw pixels. Thread-safe: the network stays in eval mode and every call works under
/// <c>no_grad</c> in its own dispose scope, so concurrent calls only read the weights. <see cref="Dispose"/> waits for
/// calls in flight; calls after it throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class ImageClassifierEngine : IDisposable
{
    private readonly DisposalGuard guard;
    private long forwardPasses;

    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the engine owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    public ImageClassifierEngine(ImageClassifierNetwork network, Device device, string ownerName = nameof(ImageClassifierEngine))
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        guard = new DisposalGuard(ownerName);
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
        Interlocked.Increment(ref forwardPasses);
        using (var use = guard.Enter())
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        using (var quiet = GcQuietRegion.Enter())
        using (var threads = count == 1 ? MhcEnvironment.EnterSingleRowScoring() : default)
        {
            var x = HostTensors.Copy(cleaned is null ? inputs : cleaned, count, InputLength).to(Device);
            var p = nn.functional.softmax(Network.forward(x), 1).cpu().contiguous();
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

    /// <summary>Serializes the network (spec and weights).</summary>
    public SerializedNetwork Serialize()
    {
        using var use = guard.Enter();
        return new(ImageClassifierSpec.Kind, Network.Spec.ToJson(), NetworkWeights.ToBytes(Network));
    }

    /// <summary>Forward passes so far: one per batch scored, so tests can tell batched scoring from row at a time.</summary>
    internal long ForwardPasses => Interlocked.Read(ref forwardPasses);

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => guard.IsDisposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> (naming the owner) once the engine is disposed.</summary>
    public void ThrowIfDisposed() => guard.ThrowIfDisposed();

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
        return new ImageClassifierEngine(network, CPU, $"loaded mHC {ImageClassifierSpec.Kind} model");
    }

    /// <summary>Frees the network's native memory once the calls in flight have finished.</summary>
    public void Dispose() => guard.Dispose(Network.Dispose);
}
