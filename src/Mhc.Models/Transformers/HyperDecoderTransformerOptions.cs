using Mhc.Models.Layers;

namespace Mhc.Models.Transformers;

/// <summary>Configuration of a <see cref="HyperDecoderTransformer"/>. A plain, JSON-serialisable object.</summary>
public sealed class HyperDecoderTransformerOptions
{
    /// <summary>Number of token ids. Required (at least 2).</summary>
    public int VocabSize { get; set; }

    /// <summary>Longest sequence the model sees (learned positions). Default 256.</summary>
    public int ContextLength { get; set; } = 256;

    /// <summary>Width, blocks, heads, MLP ratio and dropout of the trunk. Default <see cref="TransformerSettings"/>'s (256 wide, 6 blocks, 8 heads, dropout 0.1).</summary>
    public TransformerSettings Transformer { get; set; } = new();

    /// <summary>Connection kind around every sublayer, expansion rate, dynamic mixing and their initialisation. Default <see cref="MixingSettings"/>'s (mHC, n = 4).</summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>How the streams are reduced before the head. Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>Whether the output head shares the token-embedding matrix. Default false.</summary>
    public bool TieEmbeddings { get; set; }

    /// <summary>Throws on inconsistent settings, naming the setting.</summary>
    public void Validate()
    {
        if (VocabSize < 2) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "The vocabulary needs at least two tokens.");
        if (ContextLength < 1) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "The context must hold at least one token.");
        ArgumentNullException.ThrowIfNull(Transformer, nameof(Transformer));
        Transformer.Validate();
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
    }
}
