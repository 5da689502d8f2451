using Mhc.Models.Layers;

namespace Mhc.Models.Transformers;

/// <summary>Configuration of a <see cref="HyperDecoderTransformer"/>. A plain, JSON-serialisable object.</summary>
public sealed class HyperDecoderTransformerOptions
{
    /// <summary>Number of token ids. Required (at least 2).</summary>
    public int VocabSize { get; set; }

    /// <summary>Longest sequence the model sees (learned positions). Default 256.</summary>
    public int ContextLength { get; set; } = 256;

    /// <summary>Model width C (channels per stream). Default 256.</summary>
    public int Dim { get; set; } = 256;

    /// <summary>Transformer blocks. Default 6.</summary>
    public int Layers { get; set; } = 6;

    /// <summary>Attention heads; must divide <see cref="Dim"/>. Default 8.</summary>
    public int Heads { get; set; } = 8;

    /// <summary>MLP hidden width as a multiple of <see cref="Dim"/>. Default 4.</summary>
    public int MlpRatio { get; set; } = 4;

    /// <summary>Connection kind around every sublayer, expansion rate, dynamic mixing and their initialisation. Default <see cref="MixingSettings"/>'s (mHC, n = 4).</summary>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>How the streams are reduced before the head. Default <see cref="StreamCollapseMode.Mean"/>.</summary>
    public StreamCollapseMode Collapse { get; set; } = StreamCollapseMode.Mean;

    /// <summary>Dropout on embeddings, attention weights and sublayer outputs, in training only. Default 0.1.</summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>Whether the output head shares the token-embedding matrix. Default false.</summary>
    public bool TieEmbeddings { get; set; }

    /// <summary>Throws on inconsistent settings, naming the setting.</summary>
    public void Validate()
    {
        if (VocabSize < 2) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "The vocabulary needs at least two tokens.");
        if (ContextLength < 1) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "The context must hold at least one token.");
        if (Dim < 1) throw new ArgumentOutOfRangeException(nameof(Dim), Dim, "The width must be at least 1.");
        if (Layers < 1) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "At least one block.");
        if (Heads < 1 || Dim % Heads != 0)
            throw new ArgumentException($"Heads ({Heads}) must be positive and divide Dim ({Dim}).", nameof(Heads));
        if (MlpRatio < 1) throw new ArgumentOutOfRangeException(nameof(MlpRatio), MlpRatio, "The MLP ratio must be at least 1.");
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Dropout < 0 || Dropout >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
    }
}
