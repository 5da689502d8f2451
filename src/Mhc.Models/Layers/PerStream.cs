using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Applies a single-stream module to each of the n streams independently: (B, n, *features) is folded
/// to (B·n, *features), passed through the module and unfolded. Use it for modules that sit between
/// hyper-connected blocks (dropout, a norm, a linear transition) so the streams persist through them.
/// </summary>
/// <remarks>
/// Modules that mix rows of the batch (batch norm) then see B·n rows, i.e. statistics over all streams.
/// For a linear module, applying it per stream commutes with the stream mixing; for a non-linear one it
/// does not, so a network with a non-linear per-stream module between blocks is a (sensible) variant
/// rather than a re-parameterisation of the single-stream net; with n = 1 it is exactly the original.
/// </remarks>
public sealed class PerStream : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public PerStream(string name, Module<Tensor, Tensor> inner) : base(name)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        RegisterComponents();
    }

    /// <summary>The wrapped single-stream module.</summary>
    public Module<Tensor, Tensor> Inner => inner;

    /// <inheritdoc />
    public override Tensor forward(Tensor streams)
    {
        if (streams.dim() < 3)
            throw new ArgumentException($"{GetName()} expects streams (B, n, *features); got [{string.Join(", ", streams.shape)}].", nameof(streams));
        long b = streams.shape[0], n = streams.shape[1];
        var y = inner.forward(streams.flatten(0, 1));
        return y.unflatten(0, new[] { b, n });
    }
}
