using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// The trunk the decoder and the vision transformer share: a <see cref="HyperSequential"/> of
/// <see cref="HyperTransformerBlock"/>s, each an attention and an MLP sublayer wrapped in a hyper-connection
/// (mHC eq. 3), between one expansion to n streams and one collapse.
/// </summary>
public static class TransformerTrunk
{
    /// <summary>Builds the trunk.</summary>
    /// <param name="transformer">Width, depth, heads, MLP ratio and dropout.</param>
    /// <param name="mixing">How the streams are connected and mixed.</param>
    /// <param name="collapse">How the streams are reduced at the end.</param>
    /// <param name="causal">Causal attention (decoders) or bidirectional (vision).</param>
    /// <param name="outputInitStd">Init std of the sublayers' output projections.</param>
    /// <param name="name">Module name.</param>
    public static HyperSequential Create(TransformerSettings transformer, MixingSettings mixing, StreamCollapseMode collapse,
        bool causal, double outputInitStd, string name = "blocks")
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(mixing);
        var connection = mixing.ToConnection(transformer.Dim, StreamFeatureLayout.ChannelsLast);
        var blocks = new List<Module<Tensor, Tensor>>();
        for (int i = 0; i < transformer.Layers; i++)
            blocks.Add(new HyperTransformerBlock(i, transformer.Dim, transformer.Heads, transformer.MlpRatio, transformer.Dropout,
                causal, connection, outputInitStd, $"block{i}"));
        return new HyperSequential(name, mixing.Streams, blocks, collapse);
    }
}
