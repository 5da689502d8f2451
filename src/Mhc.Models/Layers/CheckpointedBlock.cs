using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>
/// Wraps a one-input module so that its forward pass is checkpointed (<see cref="BlockCheckpoint"/>): only its input
/// is kept for backward, and the module is run again during backward. Put it around each block of a deep network
/// (a <see cref="HyperConnection"/> with its branch, a transformer block) to trade about one extra forward pass for
/// most of the activation memory. Parameters stay those of the wrapped module.
/// </summary>
public sealed class CheckpointedBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The block to checkpoint; it must not change its parameters between forward and backward.</param>
    /// <param name="name">Module name; defaults to the wrapped module's name.</param>
    public CheckpointedBlock(nn.Module<Tensor, Tensor> inner, string? name = null) : base(name ?? inner?.GetName() ?? "checkpointed")
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        RegisterComponents();
    }

    /// <summary>The wrapped module.</summary>
    public nn.Module<Tensor, Tensor> Inner => inner;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => BlockCheckpoint.Apply(xs => inner.forward(xs[0]), [input]);
}
