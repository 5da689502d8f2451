using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>The pieces of a residual-style block that a hyper-connection needs: y = Shortcut(x) + Branch(x).</summary>
/// <param name="Branch">The residual branch F; becomes the hyper-connection's branch (its parameters are shared, not copied).</param>
/// <param name="Channels">Channels C of the block input.</param>
/// <param name="Shortcut">The skip path, or null for the identity; applied to every stream, so it must be linear for n &gt; 1.</param>
public sealed record ResidualParts(Module<Tensor, Tensor> Branch, int Channels, Module<Tensor, Tensor>? Shortcut = null)
{
    /// <summary>The parts of a block that implements <see cref="IResidualBlock"/>.</summary>
    public static ResidualParts Of(IResidualBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        return new ResidualParts(block.Branch, block.Channels, block.Shortcut);
    }
}
