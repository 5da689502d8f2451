using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>Reduces the n streams (B, n, *features) to (B, *features) once, before the head.</summary>
public sealed class StreamCollapse : Module<Tensor, Tensor>
{
    private readonly Parameter? weights;

    /// <summary>Creates the reduction.</summary>
    public StreamCollapse(int streams, StreamCollapseMode mode = StreamCollapseMode.Mean, string name = "collapse") : base(name)
    {
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), streams, "At least one stream.");
        Streams = streams;
        Mode = mode;
        if (mode == StreamCollapseMode.Learned)
            weights = new Parameter(full(streams, 1.0f / streams, ScalarType.Float32));
        RegisterComponents();
    }

    /// <summary>The expansion rate n.</summary>
    public int Streams { get; }

    /// <summary>The reduction used.</summary>
    public StreamCollapseMode Mode { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor streams)
    {
        if (streams.dim() < 2 || streams.shape[1] != Streams)
            throw new ArgumentException($"Expected streams (B, {Streams}, ...); got [{string.Join(", ", streams.shape)}].", nameof(streams));
        switch (Mode)
        {
            case StreamCollapseMode.Sum: return streams.sum(1);
            case StreamCollapseMode.Mean: return streams.mean(new long[] { 1 });
            default:
                var shape = Enumerable.Repeat(1L, (int)streams.dim()).ToArray();
                shape[1] = Streams;
                return (streams * weights!.to_type(streams.dtype).view(shape)).sum(1);
        }
    }
}
