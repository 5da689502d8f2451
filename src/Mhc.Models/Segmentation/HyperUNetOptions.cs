using Mhc.Models.Constraints;
using Mhc.Models.Layers;

namespace Mhc.Models.Segmentation;

/// <summary>Configuration of a <see cref="HyperUNet"/>. A plain, JSON-serialisable object.</summary>
public sealed class HyperUNetOptions
{
    /// <summary>Input channels (1 for grey, 3 for RGB). Default 1.</summary>
    public int InChannels { get; set; } = 1;

    /// <summary>Number of classes, background included; the output has one logit map per class. Default 2.</summary>
    public int NumClasses { get; set; } = 2;

    /// <summary>Number of 2x downsamplings; input height and width must be multiples of 2^Depth. Default 3.</summary>
    public int Depth { get; set; } = 3;

    /// <summary>Channels at full resolution; each level down doubles them. Default 16.</summary>
    public int BaseWidth { get; set; } = 16;

    /// <summary>Residual (hyper-connected) <see cref="Vision.BasicBlock"/>s per encoder level and per decoder level
    /// (the downsampling block of an encoder level counts). Default 1.</summary>
    public int BlocksPerStage { get; set; } = 1;

    /// <summary>
    /// Connection kind, expansion rate (streams inside the blocks), dynamic mixing, its initialisation and the
    /// constraint on the decoder's skip weights (<see cref="MixingSettings.Constraint"/>, under mHC only). With
    /// <see cref="ConnectionKind.Residual"/> the network is a plain residual UNet with concatenation skips.
    /// Default <see cref="MixingSettings"/>'s (mHC, n = 4, doubly stochastic skips).
    /// </summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>
    /// H: how many encoder states each decoder level mixes: the one of its own resolution and the H - 1 finer
    /// ones before it (fewer near the top). Ignored for <see cref="ConnectionKind.Residual"/>. Default 3.
    /// </summary>
    public int MaxHistory { get; set; } = 3;

    /// <summary>Learned scalar gate on each decoder skip (g = 2 sigmoid(gamma), 1 at init). Default true.</summary>
    public bool LearnedSkipGate { get; set; } = true;

    /// <summary>Stop gradients into the encoder through the skips. Default false.</summary>
    public bool DetachHistory { get; set; }

    /// <summary>How streams are reduced (for each encoder state handed to the skips, and before the head). Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>The factor input height and width must be multiples of (2^Depth).</summary>
    public int SizeMultiple => 1 << Depth;

    /// <summary>Throws on inconsistent settings.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "At least one input channel.");
        if (NumClasses < 2) throw new ArgumentOutOfRangeException(nameof(NumClasses), NumClasses, "At least two classes (background and one more).");
        if (Depth < 1 || Depth > 8) throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "Depth must be between 1 and 8.");
        if (BaseWidth < 1) throw new ArgumentOutOfRangeException(nameof(BaseWidth), BaseWidth, "At least one channel.");
        if (BlocksPerStage < 1) throw new ArgumentOutOfRangeException(nameof(BlocksPerStage), BlocksPerStage, "At least one block per stage.");
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Mixing.Connection != ConnectionKind.Residual && MaxHistory < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxHistory), MaxHistory, "MaxHistory (H) must be at least 1.");
    }

    /// <summary>A shallow copy (arrays are not shared: there are none).</summary>
    public HyperUNetOptions Clone() => (HyperUNetOptions)MemberwiseClone();
}
