using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// A decoder-only (GPT-style) transformer whose residual connections are hyper-connections: the token +
/// position embedding (stem), the causal <see cref="TransformerTrunk"/> (expanded into n streams, every attention
/// and MLP sublayer a <see cref="HyperConnection"/>, the streams collapsed once), the final norm and the head.
/// Input token ids (B, T) int64, T at most the context length; output next-token logits (B, T, V).
/// </summary>
/// <remarks>
/// Incremental decoding (<see cref="Forward(Tensor, KeyValueCache)"/>) runs only the new positions: the
/// per-token stream mixing of mHC needs no past streams, and attention reads past keys and values from
/// the cache, so one generated token costs one step.
/// </remarks>
public sealed class HyperDecoderTransformer : Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding;
    private readonly Embedding position_embedding;
    private readonly Dropout embedding_dropout;
    // Named blocks, so that the blocks' parameters keep the names (blocks.0, blocks.1, ...) saved models have.
    private readonly HyperSequential blocks;
    private readonly RmsNorm final_norm;
    private readonly Linear? head;
    // Set after RegisterComponents (registered once, through blocks); the cache is attached to their attention.
    private readonly HyperTransformerBlock[] transformerBlocks;

    /// <summary>Builds the network from <paramref name="options"/> (validated).</summary>
    public HyperDecoderTransformer(HyperDecoderTransformerOptions options, string name = "hyper_decoder") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var t = options.Transformer;
        token_embedding = Embedding(options.VocabSize, t.Dim);
        position_embedding = Embedding(options.ContextLength, t.Dim);
        embedding_dropout = Dropout(t.Dropout);
        // GPT-2: output projections of the 2L sublayers scaled by 1/sqrt(2L) so the stream variance stays flat.
        double outputStd = 0.02 / Math.Sqrt(2.0 * t.Layers);
        blocks = TransformerTrunk.Create(t, options.Mixing, options.Collapse, causal: true, outputStd);
        final_norm = new RmsNorm(t.Dim);
        if (!options.TieEmbeddings) head = Linear(t.Dim, options.VocabSize, hasBias: false);
        using (no_grad())
        {
            init.normal_(token_embedding.weight!, 0, 0.02);
            init.normal_(position_embedding.weight!, 0, 0.02);
            if (head is not null) init.normal_(head.weight!, 0, 0.02);
        }
        RegisterComponents();
        transformerBlocks = blocks.Layers.Cast<HyperTransformerBlock>().ToArray();
    }

    /// <summary>The configuration this network was built with.</summary>
    public HyperDecoderTransformerOptions Options { get; }

    /// <summary>The hyper-connections (attention and MLP of every block), in depth order, for diagnostics.</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => transformerBlocks.SelectMany(b => b.HyperConnections).ToList();

    /// <summary>An empty key/value cache sized for this network (dispose it when done).</summary>
    public KeyValueCache CreateCache() => new(Options.Transformer.Layers, Options.ContextLength);

    /// <summary>Next-token logits (B, T, V) for token ids (B, T), all positions at once (training, scoring).</summary>
    public override Tensor forward(Tensor tokens) => Run(tokens, 0, null, checkIds: true);

    /// <summary>
    /// Incremental decoding: appends the new token ids (B, T) at positions cache.Length .. cache.Length+T-1
    /// and returns their logits (B, T, V). Calling it with the whole sequence on an empty cache gives the
    /// same logits as <see cref="forward(Tensor)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The cache would exceed the context length.</exception>
    public Tensor Forward(Tensor tokens, KeyValueCache cache) => Forward(tokens, cache, checkIds: true);

    /// <summary>
    /// <see cref="Forward(Tensor, KeyValueCache)"/>; <paramref name="checkIds"/> false skips the range check of the
    /// ids (two reductions read back to the host), for a caller that has checked them already.
    /// </summary>
    internal Tensor Forward(Tensor tokens, KeyValueCache cache, bool checkIds)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.Layers != Options.Transformer.Layers || cache.Capacity != Options.ContextLength)
            throw new ArgumentException(
                $"The cache was made for {cache.Layers} layers x {cache.Capacity} positions; this network has {Options.Transformer.Layers} x {Options.ContextLength}. Use CreateCache().",
                nameof(cache));
        int offset = cache.Length;
        for (int i = 0; i < transformerBlocks.Length; i++) transformerBlocks[i].Attention.Cache = cache[i];
        try
        {
            return Run(tokens, offset, cache, checkIds);
        }
        finally
        {
            for (int i = 0; i < transformerBlocks.Length; i++) transformerBlocks[i].Attention.Cache = null;
        }
    }

    private Tensor Run(Tensor tokens, int offset, KeyValueCache? cache, bool checkIds)
    {
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException(
                $"{GetName()} expects token ids (B, T) of type Int64; got {tokens.dtype} [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        long t = tokens.shape[1];
        if (t < 1) throw new ArgumentException($"{GetName()} needs at least one token; got shape [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        if (offset + t > Options.ContextLength)
            throw new ArgumentException(cache is null
                ? $"{GetName()} has a context of {Options.ContextLength} tokens; got {t}. Feed at most the last {Options.ContextLength} tokens."
                : $"{GetName()} has a context of {Options.ContextLength} tokens; the cache holds {offset} and {t} more do not fit. Start a new window.",
                nameof(tokens));
        if (checkIds) CheckIds(tokens);
        var positions = arange(offset, offset + t, dtype: ScalarType.Int64, device: tokens.device);
        var x = embedding_dropout.forward(token_embedding.forward(tokens) + position_embedding.forward(positions));
        // The streams stay token rows (B T, n, C) between the blocks, the layout the per-token mixing reads.
        var h = final_norm.forward(blocks.ForwardTokenRows(x));
        return head is not null ? head.forward(h) : functional.linear(h, token_embedding.weight!);
    }

    private void CheckIds(Tensor tokens)
    {
        using var noGrad = no_grad();
        using var min = tokens.min();
        using var max = tokens.max();
        long lo = min.item<long>(), hi = max.item<long>();
        if (lo < 0 || hi >= Options.VocabSize)
            throw new ArgumentException(
                $"{GetName()} has a vocabulary of {Options.VocabSize} ids (0..{Options.VocabSize - 1}); got ids in {lo}..{hi}.", nameof(tokens));
    }
}
