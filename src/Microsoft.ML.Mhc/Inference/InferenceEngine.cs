using Mhc.Models;
using Mhc.Models.Native;
using Microsoft.ML.Mhc.Lifetime;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Inference;

/// <summary>
/// Runs a trained network on rows of floats, whatever the task: on a <see cref="NetworkHost{TNetwork}"/> (eval mode, a
/// disposal that waits for calls in flight, calls after it throwing <see cref="ObjectDisposedException"/> naming the
/// owner), every call under <c>no_grad</c> in its own dispose scope (so concurrent calls only read the weights), and
/// serialisation. A task adds what it computes from the network's output.
/// </summary>
/// <typeparam name="TNetwork">The network: rows of C x H x W floats in, one output tensor out.</typeparam>
internal abstract class InferenceEngine<TNetwork> : NetworkHost<TNetwork> where TNetwork : nn.Module<Tensor, Tensor>
{
    private readonly string kind;
    private long forwardPasses;

    /// <summary>Wraps <paramref name="network"/> (put in eval mode) on <paramref name="device"/>.</summary>
    /// <param name="network">The network; the engine owns it from now on.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="kind">The format tag its serialised form carries.</param>
    /// <param name="ownerName">The name <see cref="ObjectDisposedException"/> gives after disposal (the transformer's type).</param>
    protected InferenceEngine(TNetwork network, Device device, string kind, string ownerName)
        : base(network, device, ownerName)
    {
        this.kind = kind;
    }

    /// <summary>Floats per input row.</summary>
    public abstract int InputLength { get; }

    /// <summary>Forward passes so far: one per batch scored, so tests can tell batched scoring from row at a time.</summary>
    internal long ForwardPasses => Interlocked.Read(ref forwardPasses);

    /// <summary>
    /// Enters one inference call over <paramref name="count"/> rows: no gradients, a dispose scope for every tensor made
    /// until the returned value is disposed, the GC kept quiet, and one intra-op thread for a single row.
    /// </summary>
    protected InferenceCall Enter(int count)
    {
        Interlocked.Increment(ref forwardPasses);
        return new InferenceCall(Use(), count);
    }

    /// <summary>The network's output for <paramref name="count"/> rows laid out one after another (call inside <see cref="Enter"/>).</summary>
    protected Tensor Forward(ReadOnlySpan<float> inputs, int count) => Network.forward(HostTensors.Copy(inputs, count, InputLength).to(Device));

    /// <summary>Serializes the network (spec and weights).</summary>
    public SerializedNetwork Serialize()
    {
        using var use = Use();
        return new(kind, SpecJson(), NetworkWeights.ToBytes(Network));
    }

    /// <summary>The network's spec as JSON, as its serialised form carries it.</summary>
    protected abstract string SpecJson();

    /// <summary>
    /// Builds a network with <paramref name="build"/> and loads <paramref name="weights"/> into it, disposing it when they
    /// do not fit; the engine's owner is the caller's <paramref name="wrap"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The weights do not fit the network.</exception>
    protected static TEngine Load<TEngine>(Func<TNetwork> build, byte[] weights, Func<TNetwork, TEngine> wrap)
    {
        MhcEnvironment.EnsureTorch();
        var network = build();
        try
        {
            NetworkWeights.Load(network, weights);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return wrap(network);
    }

    /// <summary>The scopes of one inference call, released in reverse order.</summary>
    protected readonly struct InferenceCall : IDisposable
    {
        private readonly DisposalGuard.Use use;
        private readonly DisposeScope scope;
        private readonly NativeStep step;
        private readonly IntraOpThreadLimit threads;

        internal InferenceCall(DisposalGuard.Use use, int count)
        {
            this.use = use;
            scope = NewDisposeScope();
            step = NativeStep.NoGrad();
            threads = count == 1 ? MhcEnvironment.EnterSingleRowScoring() : default;
        }

        public void Dispose()
        {
            threads.Dispose();
            step.Dispose();
            scope.Dispose();
            use.Dispose();
        }
    }
}
