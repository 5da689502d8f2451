using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Repeats the embedding n times into n residual streams, (B, *features) to (B, n, *features), as the
/// first step of a hyper-connected network (HC sec. 2, mHC sec. 3): streams then persist through all blocks.
/// </summary>
public sealed class StreamExpand : Module<Tensor, Tensor>
{
    /// <summary>Creates the expansion to <paramref name="streams"/> streams.</summary>
    public StreamExpand(int streams, string name = "expand") : base(name)
    {
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), streams, "At least one stream.");
        Streams = streams;
    }

    /// <summary>The expansion rate n.</summary>
    public int Streams { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var shape = x.shape.ToList();
        shape.Insert(1, Streams);
        return x.unsqueeze(1).expand(shape.ToArray()).contiguous();
    }
}
