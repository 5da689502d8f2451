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

    /// <summary>Plain concat UNet, HC or mHC. Default <see cref="UNetConnectionKind.Mhc"/>.</summary>
    public UNetConnectionKind Connection { get; set; } = UNetConnectionKind.Mhc;

    /// <summary>Expansion rate n (streams inside the blocks); ignored (1) for <see cref="UNetConnectionKind.Plain"/>. Default 4 (paper).</summary>
    public int ExpansionRate { get; set; } = 4;

    /// <summary>
    /// H: how many encoder states each decoder level mixes: the one of its own resolution and the H - 1 finer
    /// ones before it (fewer near the top). Ignored for <see cref="UNetConnectionKind.Plain"/>. Default 3.
    /// </summary>
    public int MaxHistory { get; set; } = 3;

    /// <summary>
    /// Constraint on the skip weights under <see cref="UNetConnectionKind.Mhc"/> (HC always uses
    /// <see cref="ConstraintKind.None"/>). Default <see cref="ConstraintKind.DoublyStochastic"/>.
    /// </summary>
    public ConstraintKind SkipConstraint { get; set; } = ConstraintKind.DoublyStochastic;

    /// <summary>Learned scalar gate on each decoder skip (g = 2 sigmoid(gamma), 1 at init). Default true.</summary>
    public bool LearnedSkipGate { get; set; } = true;

    /// <summary>Stop gradients into the encoder through the skips. Default false.</summary>
    public bool DetachHistory { get; set; }

    /// <summary>Input-dependent stream mixing (mHC eq. 5-7) when true; static when false. Default true.</summary>
    public bool DynamicMixing { get; set; } = true;

    /// <summary>Initialisation of the stream mixing biases. Default <see cref="MixingInit.IdentityLike"/>.</summary>
    public MixingInit Init { get; set; } = MixingInit.IdentityLike;

    /// <summary>How streams are reduced (for each encoder state handed to the skips, and before the head). Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>The stream count actually used.</summary>
    public int EffectiveStreams => Connection == UNetConnectionKind.Plain ? 1 : ExpansionRate;

    /// <summary>The constraint the skips actually use.</summary>
    public ConstraintKind EffectiveSkipConstraint => Connection == UNetConnectionKind.Hc ? ConstraintKind.None : SkipConstraint;

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
        if (!Enum.IsDefined(Connection)) throw new ArgumentOutOfRangeException(nameof(Connection), Connection, "Unknown connection kind.");
        if (Connection != UNetConnectionKind.Plain && ExpansionRate < 1)
            throw new ArgumentOutOfRangeException(nameof(ExpansionRate), ExpansionRate, "At least one stream.");
        if (Connection != UNetConnectionKind.Plain && MaxHistory < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxHistory), MaxHistory, "MaxHistory (H) must be at least 1.");
    }

    /// <summary>A shallow copy (arrays are not shared: there are none).</summary>
    public HyperUNetOptions Clone() => (HyperUNetOptions)MemberwiseClone();
}
