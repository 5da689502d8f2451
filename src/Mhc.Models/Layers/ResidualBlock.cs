using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// The plain residual block y = Shortcut(x) + F(x) (Shortcut the identity by default), as a
/// <see cref="IResidualBlock"/> that <see cref="HyperConnectionInjector"/> can convert.
/// </summary>
public sealed class ResidualBlock : Module<Tensor, Tensor>, IResidualBlock
{
    private readonly Module<Tensor, Tensor> branch;
    private readonly Module<Tensor, Tensor>? shortcut;

    /// <summary>Creates the block.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="branch">The residual branch F.</param>
    /// <param name="channels">Channels of the block input.</param>
    /// <param name="shortcut">Optional skip projection (null: identity).</param>
    public ResidualBlock(string name, Module<Tensor, Tensor> branch, int channels, Module<Tensor, Tensor>? shortcut = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(branch);
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be at least 1.");
        this.branch = branch;
        this.shortcut = shortcut;
        Channels = channels;
        RegisterComponents();
    }

    /// <inheritdoc />
    public Module<Tensor, Tensor> Branch => branch;

    /// <inheritdoc />
    public Module<Tensor, Tensor>? Shortcut => shortcut;

    /// <inheritdoc />
    public int Channels { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => (shortcut is null ? x : shortcut.forward(x)) + branch.forward(x);
}
