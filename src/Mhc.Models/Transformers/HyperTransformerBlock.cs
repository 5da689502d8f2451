using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// A pre-norm transformer block on streams (B, n, L, C) whose two sublayers, attention and MLP, are each a
/// <see cref="HyperConnection"/> (mHC eq. 3): X' = H_res X + H_post^T F(norm(H_pre X)). With
/// <see cref="ConnectionKind.Residual"/> and one stream it is the usual x + F(norm(x)) block.
/// </summary>
public sealed class HyperTransformerBlock : Module<Tensor, Tensor>, ITokenRowsLayer
{
    private readonly HyperConnection attention;
    private readonly HyperConnection mlp;
    // Set after RegisterComponents, so not registered a second time; found once instead of on every decoding step.
    private readonly MultiHeadSelfAttention attentionModule;

    /// <summary>Creates the block.</summary>
    /// <param name="layer">Block index; the two sublayers are hyper-connection layers 2i and 2i+1 (their home streams alternate).</param>
    /// <param name="dim">Model width C.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="mlpRatio">MLP hidden width as a multiple of C.</param>
    /// <param name="dropout">Dropout in attention and MLP.</param>
    /// <param name="causal">Causal attention (decoders) or bidirectional (vision).</param>
    /// <param name="connection">Connection options shared by the stack (Dim is set here).</param>
    /// <param name="outputInitStd">Init std of the sublayers' output projections.</param>
    /// <param name="name">Module name.</param>
    public HyperTransformerBlock(int layer, int dim, int heads, int mlpRatio, double dropout, bool causal,
        HyperConnectionOptions connection, double outputInitStd, string name)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(connection);
        attention = new HyperConnection("attention",
            Sequential(("norm", new RmsNorm(dim)), ("attention", new MultiHeadSelfAttention(dim, heads, dropout, causal, outputInitStd))),
            connection.WithLayer(2 * layer, dim));
        mlp = new HyperConnection("mlp",
            Sequential(("norm", new RmsNorm(dim)), ("mlp", new FeedForward(dim, mlpRatio, dropout, outputInitStd))),
            connection.WithLayer(2 * layer + 1, dim));
        RegisterComponents();
        attentionModule = (MultiHeadSelfAttention)attention.Branch.named_children().Single(c => c.name == "attention").module;
    }

    /// <summary>The attention and MLP hyper-connections, in depth order.</summary>
    public IEnumerable<HyperConnection> HyperConnections
    {
        get
        {
            yield return attention;
            yield return mlp;
        }
    }

    /// <summary>The attention module inside the first sublayer (the decoder attaches its cache here).</summary>
    internal MultiHeadSelfAttention Attention => attentionModule;

    /// <inheritdoc />
    public override Tensor forward(Tensor streams) => mlp.forward(attention.forward(streams));

    /// <summary>The block on streams kept as token rows (B T, n, C) (see <see cref="HyperConnection.ForwardRows"/>).</summary>
    internal Tensor ForwardRows(Tensor rows, long batch) => mlp.ForwardRows(attention.ForwardRows(rows, batch), batch);

    Tensor ITokenRowsLayer.ForwardRows(Tensor rows, long batch) => ForwardRows(rows, batch);

    Tensor ITokenRowsLayer.ForwardSharedRows(Tensor x, long batch, Func<Tensor, Tensor> expand) =>
        mlp.ForwardRows(attention.ForwardSharedRows(x, batch, expand), batch);
}
