namespace Mhc.Models.Transformers;

/// <summary>
/// The shape of a pre-norm transformer trunk: width, depth, heads, MLP ratio and dropout. One record that the
/// decoder's and the vision transformer's options embed (as <c>Transformer</c>); both build their trunk from it
/// with <see cref="TransformerTrunk"/>. Immutable: change a copy with <c>o.Transformer = o.Transformer with { Layers = 8 }</c>.
/// </summary>
public sealed record TransformerSettings
{
    /// <summary>Model width C (channels per stream). Default 256.</summary>
    public int Dim { get; init; } = 256;

    /// <summary>Transformer blocks (each an attention and an MLP sublayer). Default 6.</summary>
    public int Layers { get; init; } = 6;

    /// <summary>Attention heads; must divide <see cref="Dim"/>. Default 8.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>MLP hidden width as a multiple of <see cref="Dim"/>. Default 4.</summary>
    public int MlpRatio { get; init; } = 4;

    /// <summary>Dropout on embeddings, attention weights and sublayer outputs, in training only. Default 0.1.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Throws on inconsistent settings, naming the setting.</summary>
    public void Validate()
    {
        if (Dim < 1) throw new ArgumentOutOfRangeException(nameof(Dim), Dim, "The width must be at least 1.");
        if (Layers < 1) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "At least one block.");
        if (Heads < 1 || Dim % Heads != 0)
            throw new ArgumentException($"Heads ({Heads}) must be positive and divide Dim ({Dim}).", nameof(Heads));
        if (MlpRatio < 1) throw new ArgumentOutOfRangeException(nameof(MlpRatio), MlpRatio, "The MLP ratio must be at least 1.");
        if (Dropout < 0 || Dropout >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
    }
}
