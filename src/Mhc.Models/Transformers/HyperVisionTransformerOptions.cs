using Mhc.Models.Layers;

namespace Mhc.Models.Transformers;

/// <summary>Configuration of a <see cref="HyperVisionTransformer"/>. A plain, JSON-serialisable object.</summary>
public sealed class HyperVisionTransformerOptions
{
    /// <summary>Input channels (1 for grey, 3 for RGB). Default 1.</summary>
    public int InChannels { get; set; } = 1;

    /// <summary>Number of classes of the classifier head. Default 10.</summary>
    public int NumClasses { get; set; } = 10;

    /// <summary>Input height in pixels; a multiple of <see cref="PatchSize"/>. Default 28.</summary>
    public int ImageHeight { get; set; } = 28;

    /// <summary>Input width in pixels; a multiple of <see cref="PatchSize"/>. Default 28.</summary>
    public int ImageWidth { get; set; } = 28;

    /// <summary>Side of the square patches that become tokens. Default 4 (49 tokens for 28x28).</summary>
    public int PatchSize { get; set; } = 4;

    /// <summary>Width, blocks, heads, MLP ratio and dropout of the trunk. Default 128 wide, 6 blocks, 4 heads, MLP ratio 4, dropout 0.1.</summary>
    public TransformerSettings Transformer { get; set; } = new() { Dim = 128, Heads = 4 };

    /// <summary>Connection kind around every sublayer, expansion rate, dynamic mixing and their initialisation. Default <see cref="MixingSettings"/>'s (mHC, n = 4).</summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>How the streams are reduced before the head. Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>
    /// How the final tokens become logits. Default <see cref="VisionTransformerHead.TokenGrid"/> (the reference
    /// implementation's head; measured against the mean pool in HyperVisionTransformer.md).
    /// </summary>
    public VisionTransformerHead Head { get; set; } = VisionTransformerHead.TokenGrid;

    /// <summary>
    /// Side of the grid the <see cref="VisionTransformerHead.TokenGrid"/> head reduces the patch grid to, by keeping
    /// evenly spaced tokens (nearest-neighbour resampling, as the reference implementation does: 8x8 to 4x4 keeps every
    /// other row and column); 0 keeps the whole patch grid. At most the patch grid's smaller side; ignored by the mean pool.
    /// Default 0 (on 28x28 digits in 4x4 patches all 7x7 tokens, measured better than 4x4 in HyperVisionTransformer.md).
    /// </summary>
    public int HeadGridSize { get; set; }

    /// <summary>
    /// Position information added to the patch tokens. Default <see cref="PatchPositionEncoding.Sinusoidal2D"/>
    /// (fixed; needs <see cref="TransformerSettings.Dim"/> divisible by 4).
    /// </summary>
    public PatchPositionEncoding Positions { get; set; } = PatchPositionEncoding.Sinusoidal2D;

    /// <summary>
    /// Share of patch tokens dropped at random (per image) in training, a regulariser that also makes
    /// training cheaper; all patches are used in evaluation. Default 0 (off); must be below 1.
    /// </summary>
    public double MaskRatio { get; set; }

    /// <summary>Rows of the patch grid (H / p).</summary>
    public int PatchRows => ImageHeight / PatchSize;

    /// <summary>Columns of the patch grid (W / p).</summary>
    public int PatchColumns => ImageWidth / PatchSize;

    /// <summary>Rows x columns of the grid the token-grid head classifies.</summary>
    public (int Rows, int Columns) HeadGrid => HeadGridSize == 0 ? (PatchRows, PatchColumns) : (HeadGridSize, HeadGridSize);

    /// <summary>Patch tokens per image.</summary>
    public int Patches => PatchRows * PatchColumns;

    /// <summary>Patch tokens kept per image in training.</summary>
    public int KeptPatches => Math.Max(1, (int)Math.Round(Patches * (1 - MaskRatio)));

    /// <summary>Throws on inconsistent settings, naming the setting.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "At least one input channel.");
        if (NumClasses < 2) throw new ArgumentOutOfRangeException(nameof(NumClasses), NumClasses, "At least two classes.");
        if (PatchSize < 1) throw new ArgumentOutOfRangeException(nameof(PatchSize), PatchSize, "The patch size must be at least 1.");
        if (ImageHeight < PatchSize || ImageWidth < PatchSize || ImageHeight % PatchSize != 0 || ImageWidth % PatchSize != 0)
            throw new ArgumentException(
                $"The image ({ImageHeight}x{ImageWidth}) must be a whole number of {PatchSize}x{PatchSize} patches; resize or pick another PatchSize.",
                nameof(PatchSize));
        ArgumentNullException.ThrowIfNull(Transformer, nameof(Transformer));
        Transformer.Validate();
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Positions == PatchPositionEncoding.Sinusoidal2D && Transformer.Dim % 4 != 0)
            throw new ArgumentException($"Sinusoidal2D positions split Dim ({Transformer.Dim}) into row and column sine/cosine pairs, so it must be divisible by 4; pick another Dim or Learned positions.", nameof(Positions));
        if (HeadGridSize < 0 || Head == VisionTransformerHead.TokenGrid && HeadGridSize > Math.Min(PatchRows, PatchColumns))
            throw new ArgumentOutOfRangeException(nameof(HeadGridSize), HeadGridSize,
                $"The token-grid head reduces the {PatchRows}x{PatchColumns} patch grid to HeadGridSize x HeadGridSize tokens, so HeadGridSize must be 0 (the whole grid) or in [1, {Math.Min(PatchRows, PatchColumns)}].");
        if (!Enum.IsDefined(Head)) throw new ArgumentOutOfRangeException(nameof(Head), Head, "Unknown head.");
        if (!Enum.IsDefined(Positions)) throw new ArgumentOutOfRangeException(nameof(Positions), Positions, "Unknown position encoding.");
        if (MaskRatio < 0 || MaskRatio >= 1) throw new ArgumentOutOfRangeException(nameof(MaskRatio), MaskRatio, "MaskRatio must be in [0, 1).");
    }
}
