using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// A residual-style block: its forward pass is exactly <c>Shortcut(x) + Branch(x)</c> (with
/// <c>Shortcut</c> the identity when null). <see cref="HyperConnectionInjector"/> turns such blocks into
/// hyper-connections whose F is <see cref="Branch"/>.
/// </summary>
/// <remarks>
/// Implement this on your own block types, or give the injector an extractor
/// (<see cref="HyperInjectionOptions.Residual"/>) for block types you do not own. Anything the block does
/// after the sum (e.g. the ReLU of a post-activation ResNet block) is not part of x + F(x) and is lost by
/// the injection; move it into the branch (pre-activation form) first.
/// </remarks>
public interface IResidualBlock
{
    /// <summary>The residual branch F: (B, *features) to (B, *features').</summary>
    Module<Tensor, Tensor> Branch { get; }

    /// <summary>The skip path, or null for the identity. Must be linear when used with n &gt; 1 streams (it is applied to every stream).</summary>
    Module<Tensor, Tensor>? Shortcut { get; }

    /// <summary>Channels C of the block input (what the hyper-connection's dynamic mapping reads per stream).</summary>
    int Channels { get; }
}
