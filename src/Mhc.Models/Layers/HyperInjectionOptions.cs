using TorchSharp;

namespace Mhc.Models.Layers;

/// <summary>How <see cref="HyperConnectionInjector"/> finds and converts residual-style blocks.</summary>
public sealed class HyperInjectionOptions
{
    /// <summary>
    /// Connection template for every converted block. <see cref="HyperConnectionOptions.Dim"/> and
    /// <see cref="HyperConnectionOptions.LayerIndex"/> are set per block (from <see cref="ResidualParts.Channels"/>
    /// and the depth order); with <see cref="ConnectionKind.Residual"/> the stream count is forced to 1.
    /// Default: mHC, n = 4, dynamic, identity-like init.
    /// </summary>
    public HyperConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Recognises a residual-style block and returns its parts, or null for any other module. Default:
    /// modules implementing <see cref="IResidualBlock"/>. The parts must reproduce the block exactly
    /// (block(x) == Shortcut(x) + Branch(x)); the injector cannot check user code.
    /// </summary>
    public Func<torch.nn.Module, ResidualParts?> Residual { get; set; } = DefaultResidual;

    /// <summary>
    /// Non-residual modules that may sit inside a run of residual blocks and are applied to each stream
    /// (<see cref="PerStream"/>) instead of ending the run (e.g. dropout). Default null: any other module
    /// ends the run, so the streams are collapsed before it and expanded again after it.
    /// </summary>
    public Func<torch.nn.Module, bool>? Streamwise { get; set; }

    /// <summary>How each run's streams are reduced at its end. Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>The default <see cref="Residual"/>: blocks that implement <see cref="IResidualBlock"/>.</summary>
    public static ResidualParts? DefaultResidual(torch.nn.Module module) =>
        module is IResidualBlock block ? ResidualParts.Of(block) : null;
}
