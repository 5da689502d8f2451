using Mhc.Models.Layers;

namespace Mhc.Models.Vision;

/// <summary>The residual branch used inside each Hyper-ResNet block.</summary>
public enum ResNetBlockKind
{
    /// <summary>Two 3x3 convolutions (ResNet-18/34 shape).</summary>
    Basic,
    /// <summary>1x1 / 3x3 / 1x1 with 4x expansion (ResNet-50 shape).</summary>
    Bottleneck,
}

/// <summary>Configuration of a <see cref="HyperResNet"/>. A plain, JSON-serialisable object.</summary>
public sealed class HyperResNetOptions
{
    /// <summary>Input channels (1 for grey, 3 for RGB). Default 1.</summary>
    public int InChannels { get; set; } = 1;

    /// <summary>Number of classes of the classifier head. Default 10.</summary>
    public int NumClasses { get; set; } = 10;

    /// <summary>Input height in pixels. Default 28.</summary>
    public int ImageHeight { get; set; } = 28;

    /// <summary>Input width in pixels. Default 28.</summary>
    public int ImageWidth { get; set; } = 28;

    /// <summary>Blocks per stage; each stage after the first halves the resolution and doubles the width.
    /// Default [2, 2, 2]. ResNet-18 is [2, 2, 2, 2], ResNet-34 [3, 4, 6, 3], ResNet-50 [3, 4, 6, 3] with Bottleneck.</summary>
    public int[] StageDepths { get; set; } = [2, 2, 2];

    /// <summary>Channels of the first stage. Default 32.</summary>
    public int BaseWidth { get; set; } = 32;

    /// <summary>Branch shape. Default <see cref="ResNetBlockKind.Basic"/>.</summary>
    public ResNetBlockKind Block { get; set; } = ResNetBlockKind.Basic;

    /// <summary>Connection kind around every block, expansion rate, dynamic mixing and their initialisation. Default <see cref="MixingSettings"/>'s (mHC, n = 4).</summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>
    /// Dynamic mixing per pixel (the paper's per-token form) when true; per image (from the mean stream
    /// state) when false. Default false: per-pixel Sinkhorn costs several times the convolutions on CPU.
    /// </summary>
    public bool PerPixelMixing { get; set; }

    /// <summary>How the streams are reduced before the head. Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>Dropout before the classifier. Default 0.</summary>
    public double Dropout { get; set; }

    /// <summary>
    /// Stem: <c>null</c> picks by size (a 3x3 conv for images up to 64 px, the ImageNet 7x7/2 conv + max-pool
    /// above); true forces the large stem, false the small one. Default null.
    /// </summary>
    public bool? LargeStem { get; set; }

    /// <summary>Throws on inconsistent settings.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "At least one input channel.");
        if (NumClasses < 2) throw new ArgumentOutOfRangeException(nameof(NumClasses), NumClasses, "At least two classes.");
        if (ImageHeight < 4 || ImageWidth < 4) throw new ArgumentOutOfRangeException(nameof(ImageHeight), $"{ImageHeight}x{ImageWidth}", "Images must be at least 4x4.");
        if (StageDepths is null || StageDepths.Length == 0 || StageDepths.Any(d => d < 1))
            throw new ArgumentException("StageDepths needs at least one stage, each with at least one block.", nameof(StageDepths));
        if (BaseWidth < 1) throw new ArgumentOutOfRangeException(nameof(BaseWidth), BaseWidth, "At least one channel.");
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Dropout < 0 || Dropout >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
    }
}
